from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def xy() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.RandomState(0)
    x = pd.DataFrame(rng.rand(30, 3), columns=["a", "b", "c"])
    return x, 2 * x["a"] + x["b"] - x["c"]
