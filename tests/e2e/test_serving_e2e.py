"""``modelyard serve`` as a real process against a real ``modelyard server``."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cloudpickle
import httpx
import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.linear_model import LinearRegression

import registry as mlflow
import registry.pyfunc
import registry.sklearn
import registry.xgboost
from registry.client import Client
from registry.client.tracking_uri import reset_tracking_uri
from registry.models.pyfunc import PythonModel
from registry.models.signature import ModelSignature, infer_schema
from tests.conftest import free_port
from tests.mlflow_env import MLFLOW_3, mlflow_python
from tests.servers import process, registry_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

FEATURES = ["x1", "x2", "x3"]
rng = np.random.default_rng(0)
TRAIN = pd.DataFrame(rng.normal(size=(40, 3)), columns=FEATURES)
TARGET = TRAIN.to_numpy() @ np.array([1.5, -2.0, 0.5]) + 3.0
ROWS = TRAIN.head(5)


class Doubler(PythonModel):
    """A custom model: twice the sum of each row, plus a params offset."""

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        offset = (params or {}).get("offset", 0.0)
        return (np.asarray(model_input, dtype=float).sum(axis=1) * 2 + offset).tolist()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with registry_server(tmp_path_factory.mktemp("registry"), workers=1) as base:
        mlflow.set_tracking_uri(base)
        try:
            yield base
        finally:
            reset_tracking_uri()


@contextmanager
def serve(
    base: str, uri: str, log: Path, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[str]:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "registry.cli",
        "serve",
        uri,
        "--tracking-uri",
        base,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    url = f"http://127.0.0.1:{port}"
    with process(args, f"{url}/ping", log, env=env):
        yield url


def promote(base: str, name: str, version: str) -> None:
    Client(base).transition_model_version_stage(name, version, "Production")


def predictions(url: str, body: dict[str, Any]) -> httpx.Response:
    response = httpx.post(f"{url}/invocations", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response


def test_sklearn_model_by_stage_with_metrics_across_two_workers(
    server: str, tmp_path: Path
) -> None:
    model = LinearRegression().fit(TRAIN, TARGET)
    with mlflow.start_run():
        registry.sklearn.log_model(
            model, name="model", input_example=ROWS, registered_model_name="lin"
        )
    promote(server, "lin", "1")
    with serve(server, "models:/lin/Production", tmp_path / "serve.log") as url:
        body = {"dataframe_split": ROWS.to_dict(orient="split", index=False)}
        for _ in range(20):
            response = predictions(url, body)
            assert response.json()["predictions"] == pytest.approx(model.predict(ROWS).tolist())
            assert response.headers["X-Model-Version"] == "1"
            assert len(response.headers["X-Model-Run-Id"]) == 32
        records = predictions(url, {"dataframe_records": ROWS.to_dict(orient="records")})
        assert records.json()["predictions"] == pytest.approx(model.predict(ROWS).tolist())
        csv = httpx.post(
            f"{url}/invocations",
            content=ROWS.to_csv(index=False),
            headers={"Content-Type": "text/csv"},
        )
        assert csv.json()["predictions"] == pytest.approx(model.predict(ROWS).tolist())

        scrapes = {httpx.get(f"{url}/metrics").text for _ in range(6)}
        counts = {
            _sample(
                t, 'requests_total{method="POST",model="lin",route="/invocations",status="200"}'
            )
            for t in scrapes
        }
        assert counts == {22.0}
        rows = {_sample(t, 'rows_predicted_total{model="lin"}') for t in scrapes}
        assert rows == {22.0 * len(ROWS)}
        assert 'modelyard_serving_model_version_info{model="lin",name="lin",' in next(iter(scrapes))
        health = httpx.get(f"{url}/health").json()
        assert (health["model_name"], health["model_version"]) == ("lin", "1")


def _sample(text: str, name: str) -> float:
    match = re.search(rf"^modelyard_serving_{re.escape(name)} ([\d.e+]+)$", text, re.M)
    assert match, f"{name} not in metrics"
    return float(match.group(1))


def test_xgboost_and_custom_pyfunc_models(server: str, tmp_path: Path) -> None:
    booster = xgb.train({"max_depth": 3, "nthread": 1}, xgb.DMatrix(TRAIN, label=TARGET), 20)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with mlflow.start_run():
        registry.xgboost.log_model(
            booster, name="model", input_example=ROWS, registered_model_name="boost"
        )
        # Params reach the model only when its signature declares them (MLflow drops the rest).
        offset = {"name": "offset", "type": "double", "default": 0.0, "shape": None}
        signature = ModelSignature(inputs=infer_schema(ROWS), params=[offset])
        registry.pyfunc.log_model(
            name="custom",
            python_model=Doubler(),
            registered_model_name="custom",
            signature=signature,
        )
    promote(server, "boost", "1")
    promote(server, "custom", "1")
    body = {"dataframe_split": ROWS.to_dict(orient="split", index=False)}
    with serve(server, "models:/boost/Production", tmp_path / "boost.log") as url:
        got = predictions(url, body).json()["predictions"]
        assert got == pytest.approx(booster.predict(xgb.DMatrix(ROWS)).tolist(), rel=1e-6)
    allow = {"SERVING_ALLOW_PICKLE": "true"}  # a custom pyfunc model is cloudpickled
    with serve(server, "models:/custom/1", tmp_path / "custom.log", workers=1, env=allow) as url:
        got = predictions(url, {**body, "params": {"offset": 1.0}}).json()["predictions"]
        assert got == pytest.approx((ROWS.to_numpy().sum(axis=1) * 2 + 1).tolist())


def test_model_logged_by_the_official_mlflow_client(server: str, tmp_path: Path) -> None:
    script = f"""
import mlflow, pandas as pd, numpy as np
from sklearn.linear_model import LinearRegression
mlflow.set_tracking_uri({server!r})
x = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["p", "q", "r"])
with mlflow.start_run():
    mlflow.sklearn.log_model(LinearRegression().fit(x, x.p * 3), name="model",
                             input_example=x.head(2), registered_model_name="official",
                             pip_requirements=["scikit-learn"])  # no inference subprocess
mlflow.MlflowClient().set_registered_model_alias("official", "champion", "1")
"""
    subprocess.run([str(mlflow_python(MLFLOW_3)), "-c", script], check=True, timeout=120)
    with serve(server, "models:/official@champion", tmp_path / "official.log", 1) as url:
        body = {"inputs": [{"p": 1.0, "q": 2.0, "r": 3.0}]}
        response = predictions(url, body)
        assert response.json()["predictions"] == pytest.approx([3.0])
        assert response.headers["X-Model-Version"] == "1"


@pytest.mark.parametrize(
    ("uri", "tracking", "message"),
    [
        ("models:/nope/Production", None, "nope"),
        ("models:/lin/Production", "http://127.0.0.1:1", "cannot reach"),
    ],
)
def test_a_bad_uri_or_unreachable_registry_is_one_line(
    server: str, uri: str, tracking: str | None, message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "registry.cli", "serve", uri, "--tracking-uri", tracking or server],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: cannot serve {uri}: ")
    assert message in lines[0]
