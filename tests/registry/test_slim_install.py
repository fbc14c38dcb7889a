"""``pip install modelyard`` without the flavor libraries: server, client and pyfunc serving run.

The processes here start with a ``sitecustomize`` that marks scikit-learn, skops, xgboost and
scipy as absent (``sys.modules[name] = None``, so importing them fails as if uninstalled), the
way a slim install looks to Python.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.linear_model import LinearRegression

import registry
from registry.client.tracking_uri import reset_tracking_uri
from registry.models import sklearn as sk
from registry.models import xgboost as xm
from tests.conftest import free_port
from tests.registry.models.pyfunc_models import AddBase
from tests.servers import process, registry_server

ROOT = Path(__file__).resolve().parents[2]
FLAVOR_LIBRARIES = ("sklearn", "skops", "xgboost", "scipy")

IN_PROCESS = r"""
import sys
from pathlib import Path

import pandas as pd

import registry
from registry.config import Config
from registry.models import load_predictor, pyfunc
from registry.models.dependencies import FlavorNotInstalled
from registry.server.app import create_app
from tests.registry.models.pyfunc_models import AddBase

out = Path(sys.argv[1])
app = create_app(Config(database_url=f"sqlite:///{out / 'db.sqlite'}",
                        artifact_root=str(out / "artifacts"), auto_migrate=True))
response = app.test_client().get("/api/2.0/mlflow/experiments/search?max_results=5")
assert response.status_code == 200, response.get_data(as_text=True)

(out / "base.txt").write_text("0.5")
pyfunc.save_model(out / "custom", python_model=AddBase(2.0), artifacts={"base": out / "base.txt"},
                  input_example=pd.DataFrame({"x": [1.0]}))
assert load_predictor(out / "custom").predict({"x": [1.0, 2.0]}).tolist() == [2.5, 4.5]
registry.set_tracking_uri(f"sqlite:///{out / 'db.sqlite'}")
with registry.start_run():
    info = registry.pyfunc.log_model(name="model", python_model=AddBase(2.0),
                                     artifacts={"base": out / "base.txt"})
assert registry.pyfunc.load_model(info.model_uri).predict({"x": [1.0]}).tolist() == [2.5]
registry.autolog()  # turns on nothing: neither library is there

for flavor in ("sklearn", "xgboost"):
    try:
        load_predictor(out / flavor)
    except FlavorNotInstalled as err:
        print(err.message)
    else:
        raise AssertionError(f"the {flavor} model loaded")
for name in ("sklearn", "skops", "xgboost", "scipy"):
    assert sys.modules[name] is None, f"{name} was imported"
"""


def _serve(uri: str, port: int, *flags: str) -> list[str]:
    return [sys.executable, "-m", "registry.cli", "serve", uri, "--port", str(port), *flags]


def _env_without(site: Path, libraries: tuple[str, ...]) -> dict[str, str]:
    """Environment of a process that cannot import ``libraries``."""
    site.mkdir()
    block = f"import sys\nsys.modules.update(dict.fromkeys({libraries!r}))\n"
    (site / "sitecustomize.py").write_text(block)
    path = os.pathsep.join([str(site), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path.rstrip(os.pathsep)}


@pytest.fixture
def slim_env(tmp_path: Path) -> dict[str, str]:
    """Environment of a process that cannot import the flavor libraries."""
    return _env_without(tmp_path / "slim-site", FLAVOR_LIBRARIES)


@pytest.fixture
def flavor_models(tmp_path: Path) -> Path:
    """An sklearn and an xgboost model directory, saved where the libraries are installed."""
    x = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    y = x["a"] * 2 + x["b"]
    out = tmp_path / "models"
    sk.save_model(LinearRegression().fit(x, y), out / "sklearn")
    xm.save_model(xgb.train({"nthread": 1}, xgb.DMatrix(x, label=y), 2), out / "xgboost")
    regressor = xgb.XGBRegressor(n_estimators=2, n_jobs=1).fit(x, y)
    xm.save_model(regressor, out / "xgboost_sklearn_api")
    return out


def test_core_dependencies_leave_the_flavor_libraries_to_extras():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"]).lower()
    for library in ("scikit-learn", "skops", "xgboost", "scipy"):
        assert library not in core
    extras = project["optional-dependencies"]
    assert extras["sklearn"][0].startswith("scikit-learn") and extras["xgboost"] == ["xgboost>=2.1"]
    assert extras["all"] == ["modelyard[sklearn,xgboost]"]
    assert extras["test"][0].startswith("modelyard[all,")


def test_server_app_client_and_pyfunc_models_work_without_the_libraries(slim_env, flavor_models):
    result = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, str(flavor_models)],
        env=slim_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.splitlines() == [
        "the sklearn flavor needs `pip install 'modelyard[sklearn]'` "
        "(ModuleNotFoundError: import of sklearn halted; None in sys.modules)",
        "the xgboost flavor needs `pip install 'modelyard[xgboost]'` "
        "(ModuleNotFoundError: import of xgboost halted; None in sys.modules)",
    ]


XGBOOST_ONLY = r"""
import sys

import numpy as np
import xgboost as xgb

from registry.models import load_predictor
from registry.models import xgboost as xm

out = sys.argv[1]
x = np.array([[0.0, 1.0], [3.0, 0.0]])
booster = xgb.train({"nthread": 1}, xgb.DMatrix(x, label=[1.0, 6.0]), 2)
xm.save_model(booster, f"{out}/booster")
predicted = load_predictor(f"{out}/booster").predict(x)
assert np.allclose(predicted, booster.predict(xgb.DMatrix(x)))
print(load_predictor(f"{out}/xgboost").predict(x).shape)
try:
    load_predictor(f"{out}/xgboost_sklearn_api")
except ImportError as err:
    print(err)
"""


def test_xgboost_extra_alone_serves_boosters(tmp_path, flavor_models):
    result = subprocess.run(
        [sys.executable, "-c", XGBOOST_ONLY, str(flavor_models)],
        env=_env_without(tmp_path / "site", ("sklearn", "skops")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.splitlines() == [
        "(2,)",
        "the xgboost flavor needs `pip install 'modelyard[sklearn]'` "
        "(ModuleNotFoundError: import of sklearn halted; None in sys.modules)",
    ]


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_server_and_serve_run_without_the_libraries(tmp_path, slim_env, flavor_models):
    with registry_server(tmp_path, workers=1, extra_env=slim_env) as base:
        registry.set_tracking_uri(base)
        try:
            (tmp_path / "base.txt").write_text("0.5")
            registry.pyfunc.log_model(
                name="model",
                python_model=AddBase(2.0),
                artifacts={"base": tmp_path / "base.txt"},
                input_example=pd.DataFrame({"x": [1.0]}),
                registered_model_name="slim",
            )
        finally:
            reset_tracking_uri()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        serve = _serve("models:/slim/1", port, "--tracking-uri", base, "--workers", "1")
        trusted = {**slim_env, "SERVING_ALLOW_PICKLE": "true"}  # a custom model is a pickle
        with process(serve, f"{url}/ping", tmp_path / "serve.log", env=trusted):
            body = {"dataframe_split": {"columns": ["x"], "data": [[1.0], [2.0]]}}
            response = httpx.post(f"{url}/invocations", json=body, timeout=30)
            assert response.json() == {"predictions": [2.5, 4.5]}
    failed = subprocess.run(
        _serve(str(flavor_models / "xgboost"), free_port()),
        env=slim_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert failed.returncode == 1
    assert "the xgboost flavor needs `pip install 'modelyard[xgboost]'`" in failed.stderr
