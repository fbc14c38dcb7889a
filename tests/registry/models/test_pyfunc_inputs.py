"""Every ``PyFuncInput`` type, for every flavor, predicts here as in MLflow's own loader.

The models are saved here once; one MLflow 3 subprocess (scripts/mlflow_pyfunc_inputs.py)
loads them with ``mlflow.pyfunc.load_model`` and predicts on each input of ``input_cases``.
Each test then predicts on the same input with our Predictor: where MLflow predicts, we predict
the same; where MLflow refuses, we refuse. ``CONVERTED`` lists the inputs we deliberately read
as a table where MLflow's loader does not (docs/models.md).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from scipy import sparse
from sklearn.linear_model import LinearRegression

from registry.models import load_predictor, pyfunc
from registry.models import sklearn as sk
from registry.models import xgboost as xm
from tests.mlflow_env import mlflow_python
from tests.registry.models.input_cases import COLUMNS, inputs, plain, training_data
from tests.registry.models.pyfunc_models import Describe

pytestmark = [
    pytest.mark.compat,
    # xgboost warns when it turns a bare number into a 1x1 matrix, as it does under MLflow.
    pytest.mark.filterwarnings("ignore:Unknown data type:UserWarning"),
]

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).parent / "scripts" / "mlflow_pyfunc_inputs.py"
MODELS = (
    "sklearn",  # fitted on a sparse matrix, no signature (the course's DictVectorizer model)
    "sklearn_tensor",  # the same, saved with a sparse input example: a tensor signature
    "sklearn_columns",  # fitted on a DataFrame, a column signature
    "xgboost",  # a Booster trained on a sparse DMatrix, no signature
    "xgboost_columns",  # an XGBRegressor fitted on a DataFrame, a column signature
    "pyfunc",  # a custom model that predicts what it was given, no signature
    "pyfunc_columns",  # the same with a column signature
)
TABLE_READS = ("ndarray", "list", "csr_matrix", "csc_matrix")
# (model, input) -> the input MLflow's loader predicts the same on. Models with a column
# signature read positional rows in signature order (MLflow refuses them); lists and dicts
# always become an array or a DataFrame, as MLflow's scoring server makes them.
CONVERTED = {
    **{(m, k): "DataFrame" for m in MODELS if m.endswith("_columns") for k in TABLE_READS},
    ("sklearn", "dict"): "DataFrame",
    ("xgboost", "dict"): "DataFrame",
    ("sklearn_tensor", "list"): "ndarray",
    ("sklearn_tensor", "dict"): "DataFrame",
    ("pyfunc", "list"): "ndarray",
    ("pyfunc", "dict"): "DataFrame",
}


def _save_models(out: Path) -> None:
    x, y = training_data()
    frame = pd.DataFrame(x, columns=COLUMNS)
    csr = sparse.csr_matrix(x)
    sk.save_model(LinearRegression().fit(csr, y), out / "sklearn")
    sk.save_model(LinearRegression().fit(csr, y), out / "sklearn_tensor", input_example=csr[:2])
    linear = LinearRegression().fit(frame, y)
    sk.save_model(linear, out / "sklearn_columns", input_example=frame[:2])
    booster = xgb.train({"max_depth": 2, "nthread": 1}, xgb.DMatrix(csr, label=y), 3)
    xm.save_model(booster, out / "xgboost")
    regressor = xgb.XGBRegressor(n_estimators=3, max_depth=2, n_jobs=1).fit(frame, y)
    xm.save_model(regressor, out / "xgboost_columns", input_example=frame[:2])
    pyfunc.save_model(out / "pyfunc", python_model=Describe())
    pyfunc.save_model(out / "pyfunc_columns", python_model=Describe(), input_example=frame[:2])


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The saved models, our Predictors for them, and MLflow's predictions on every input."""
    out = tmp_path_factory.mktemp("pyfunc-inputs")
    _save_models(out / "models")
    result = subprocess.run(
        [
            str(mlflow_python(with_project=True)),  # custom models unpickle with registry
            str(SCRIPT),
            str(out / "models"),
            str(out / "mlflow.json"),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return {
        "mlflow": json.loads((out / "mlflow.json").read_text()),
        "ours": {name: load_predictor(out / "models" / name) for name in MODELS},
    }


def _ours(models: dict[str, Any], model: str, kind: str) -> dict[str, Any]:
    try:
        prediction = models["ours"][model].predict(inputs()[kind])
    except Exception as err:
        return {"error": f"{type(err).__name__}: {err}"}
    return {"ok": json.loads(json.dumps(plain(prediction)))}


def _assert_same(got: Any, want: Any) -> None:
    if isinstance(want, list) and want and isinstance(want[0], str):  # what Describe saw
        assert got == want
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("kind", list(inputs()))
@pytest.mark.parametrize("model", MODELS)
def test_input_predicts_as_in_mlflow(models, model, kind):
    reference = models["mlflow"][model]
    got = _ours(models, model, kind)
    if (model, kind) in CONVERTED:
        want = reference[CONVERTED[model, kind]]
        assert "ok" in want, f"MLflow refused the reference input: {want}"
        assert "ok" in got, got["error"]
        _assert_same(got["ok"], want["ok"])
    elif "ok" in reference[kind]:
        assert "ok" in got, f"MLflow predicts on {kind}, we raised {got['error']}"
        _assert_same(got["ok"], reference[kind]["ok"])
    else:
        assert "error" in got, f"MLflow raised {reference[kind]['error']}, we predicted"


def test_every_conversion_is_one_mlflow_loader_does_not_make(models):
    """A CONVERTED entry that MLflow's loader handles the same way is stale: drop it."""
    for model, kind in CONVERTED:
        reference = models["mlflow"][model][kind]
        # MLflow refuses the input or, for a custom model, hands the raw list or dict over.
        assert "error" in reference or reference["ok"][0] == kind, (model, kind)
