"""Tiny real models saved with real flavors, and apps serving them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sklearn.linear_model import LinearRegression

from registry.models import sklearn as sklearn_flavor
from serving.app import create_app
from serving.config import ServingConfig
from serving.loader import ModelSource

COLUMNS = ["a", "b", "c"]
TRAIN = pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [0.0, 1, 0, 1, 3], "c": [5.0, 1, 2, 3, 1]})
TARGET = 2 * TRAIN["a"] + TRAIN["b"] - TRAIN["c"]


def expected(rows: list[list[float]]) -> list[float]:
    model = LinearRegression().fit(TRAIN.to_numpy(), TARGET)
    return [float(v) for v in model.predict(np.asarray(rows, dtype=float))]


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    with_signature = LinearRegression().fit(TRAIN, TARGET)
    sklearn_flavor.save_model(with_signature, root / "signature", input_example=TRAIN.head(2))
    without = LinearRegression().fit(TRAIN.to_numpy(), TARGET)
    sklearn_flavor.save_model(without, root / "plain", signature=False)
    return {"signature": root / "signature", "plain": root / "plain"}


def make_app(model_dir: Path, **settings: object) -> Flask:
    config = ServingConfig(model_uri=str(model_dir), **settings)  # type: ignore[arg-type]
    app = create_app(config, ModelSource(str(model_dir), "").load(), start=False)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def signature_client(model_dirs: dict[str, Path]) -> FlaskClient:
    return make_app(model_dirs["signature"], max_request_bytes=4096).test_client()


@pytest.fixture
def plain_client(model_dirs: dict[str, Path]) -> FlaskClient:
    return make_app(model_dirs["plain"], max_request_bytes=4096).test_client()
