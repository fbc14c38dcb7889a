"""Models cross between the official MLflow 3.17.2 and us, in both directions, on local dirs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from registry.models import load_predictor, pyfunc
from registry.models import sklearn as sk
from registry.models import xgboost as xm
from tests.mlflow_env import MLFLOW_2, MLFLOW_3, mlflow_python
from tests.registry.models.pyfunc_models import AddBase

pytestmark = pytest.mark.compat

ROOT = Path(__file__).resolve().parents[3]

DATA = """
import json, sys
from pathlib import Path
import numpy as np, pandas as pd
out = Path(sys.argv[1])
rng = np.random.RandomState(0)
X = pd.DataFrame(rng.rand(30, 3), columns=["a", "b", "c"])
y = 2 * X["a"] + X["b"] - X["c"]
"""

MLFLOW_SAVES = """
import mlflow, xgboost as xgb
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# Named requirements skip MLflow's inference, a subprocess that reloads each model.
REQ = ["scikit-learn", "xgboost"]

class Doubler(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        self.offset = float(Path(context.artifacts["offset"]).read_text())
    def predict(self, context, model_input, params=None):
        return model_input["a"].to_numpy() * 2 + self.offset

expected = {}
lin = LinearRegression().fit(X, y)
mlflow.sklearn.save_model(lin, out / "sk_skops", serialization_format="skops",
                          input_example=X[:2], pip_requirements=REQ)
pipe = make_pipeline(StandardScaler(), LinearRegression()).fit(X.to_numpy(), y)
mlflow.sklearn.save_model(pipe, out / "sk_cloudpickle", serialization_format="cloudpickle",
                          pip_requirements=REQ)
booster = xgb.train({"max_depth": 2}, xgb.DMatrix(X, label=y), num_boost_round=3)
mlflow.xgboost.save_model(booster, out / "xgb_booster", pip_requirements=REQ)
reg = xgb.XGBRegressor(n_estimators=3, max_depth=2).fit(X, y)
mlflow.xgboost.save_model(reg, out / "xgb_regressor", input_example=X[:2],
                          pip_requirements=REQ)
(out / "offset.txt").write_text("0.5")
mlflow.pyfunc.save_model(out / "custom", python_model=Doubler(),
                         artifacts={"offset": str(out / "offset.txt")}, input_example=X[:2],
                         pip_requirements=REQ)
expected["sk_skops"] = lin.predict(X).tolist()
expected["sk_cloudpickle"] = pipe.predict(X.to_numpy()).tolist()
expected["xgb_booster"] = booster.predict(xgb.DMatrix(X)).tolist()
expected["xgb_regressor"] = reg.predict(X).tolist()
expected["custom"] = (X["a"].to_numpy() * 2 + 0.5).tolist()

from registry.models import load_predictor
ours = load_predictor(out / "custom")
expected["custom_via_ours"] = np.asarray(ours.predict(X)).tolist()
(out / "expected.json").write_text(json.dumps(expected))
"""

MLFLOW_LOADS = """
import mlflow, xgboost as xgb
got = {}
for name in ("sk_skops", "sk_cloudpickle", "xgb_booster", "xgb_regressor"):
    got[name] = np.asarray(mlflow.pyfunc.load_model(str(out / name)).predict(X)).tolist()
got["sk_skops_flavor"] = mlflow.sklearn.load_model(str(out / "sk_skops")).predict(X).tolist()
got["sk_cloudpickle_flavor"] = (
    mlflow.sklearn.load_model(str(out / "sk_cloudpickle")).predict(X).tolist()
)
native = mlflow.xgboost.load_model(str(out / "xgb_booster"))
got["xgb_booster_flavor"] = native.predict(xgb.DMatrix(X)).tolist()
got["xgb_booster_class"] = type(native).__name__
regressor = mlflow.xgboost.load_model(str(out / "xgb_regressor"))
got["xgb_regressor_flavor"] = regressor.predict(X).tolist()
got["xgb_regressor_class"] = type(regressor).__name__
got["custom"] = np.asarray(
    mlflow.pyfunc.load_model(str(out / "custom")).predict(pd.DataFrame({"x": [1.0, 2.0]}))
).tolist()
try:
    mlflow.pyfunc.load_model(str(out / "sk_skops")).predict(X.assign(a="abc"))
except mlflow.exceptions.MlflowException as exc:
    got["schema_error"] = exc.error_code
(out / "got.json").write_text(json.dumps(got))
"""


def _save_ours(out: Path, x: pd.DataFrame, y: pd.Series) -> dict[str, np.ndarray]:
    lin = LinearRegression().fit(x, y)
    sk.save_model(lin, out / "sk_skops", input_example=x[:2])
    pipe = make_pipeline(StandardScaler(), LinearRegression()).fit(x, y)
    sk.save_model(pipe, out / "sk_cloudpickle", serialization_format="cloudpickle")
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x, label=y), num_boost_round=3)
    xm.save_model(booster, out / "xgb_booster")
    reg = xgb.XGBRegressor(n_estimators=3, max_depth=2).fit(x, y)
    xm.save_model(reg, out / "xgb_regressor", input_example=x[:2])
    (out / "base.txt").write_text("1.5")
    pyfunc.save_model(
        out / "custom",
        python_model=AddBase(3.0),
        artifacts={"base": out / "base.txt"},
        input_example=pd.DataFrame({"x": [1.0, 2.0]}),
    )
    return {
        "sk_skops": lin.predict(x),
        "sk_cloudpickle": pipe.predict(x),
        "xgb_booster": booster.predict(xgb.DMatrix(x)),
        "xgb_regressor": reg.predict(x),
    }


@pytest.fixture(scope="module")
def exchanged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """One MLflow subprocess: it loads the models we saved and saves its own for us."""
    rng = np.random.RandomState(0)
    x = pd.DataFrame(rng.rand(30, 3), columns=["a", "b", "c"])
    y = 2 * x["a"] + x["b"] - x["c"]
    ours = tmp_path_factory.mktemp("ours")
    theirs = tmp_path_factory.mktemp("theirs")
    want = _save_ours(ours, x, y)
    script = f"{DATA}\n{MLFLOW_LOADS}\nout = Path(sys.argv[2])\n{MLFLOW_SAVES}"
    result = subprocess.run(
        [str(mlflow_python(MLFLOW_3, with_project=True)), "-c", script, str(ours), str(theirs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return {"x": x, "want": want, "ours": ours, "theirs": theirs}


def test_models_saved_by_mlflow_predict_the_same_here(exchanged):
    x, theirs = exchanged["x"], exchanged["theirs"]
    expected = json.loads((theirs / "expected.json").read_text())
    for name in ("sk_skops", "sk_cloudpickle", "xgb_booster", "xgb_regressor"):
        predictor = load_predictor(theirs / name)
        source = x if name != "sk_cloudpickle" else x.to_numpy()
        np.testing.assert_allclose(predictor.predict(source), expected[name], rtol=1e-6)
        if not predictor.needs_dataframe:
            np.testing.assert_allclose(
                predictor.predict_array(x.to_numpy()), expected[name], rtol=1e-6
            )
    assert load_predictor(theirs / "sk_skops").input_columns == ["a", "b", "c"]
    np.testing.assert_allclose(expected["custom_via_ours"], expected["custom"])
    assert "mlflow" not in sys.modules


def test_models_saved_here_load_in_mlflow(exchanged):
    got = json.loads((exchanged["ours"] / "got.json").read_text())
    for name, want in exchanged["want"].items():
        np.testing.assert_allclose(got[name], want, rtol=1e-6)
        np.testing.assert_allclose(got[f"{name}_flavor"], want, rtol=1e-6)
    assert got["xgb_booster_class"] == "Booster"
    assert got["xgb_regressor_class"] == "XGBRegressor"
    np.testing.assert_allclose(got["custom"], [4.5, 7.5])
    assert got["schema_error"] == "INVALID_PARAMETER_VALUE"


MLFLOW2_SAVES = """
import mlflow, xgboost as xgb
from sklearn.linear_model import LinearRegression
lin = LinearRegression().fit(X, y)
REQ = ["scikit-learn", "xgboost"]  # named: inference reloads each model in a subprocess
mlflow.sklearn.save_model(lin, out / "sk", input_example=X[:2], pip_requirements=REQ)
reg = xgb.XGBRegressor(n_estimators=3, max_depth=2).fit(X, y)
mlflow.xgboost.save_model(reg, out / "xgb", input_example=X[:2], pip_requirements=REQ)
(out / "expected.json").write_text(
    json.dumps({"sk": lin.predict(X).tolist(), "xgb": reg.predict(X).tolist()})
)
"""


def test_models_saved_by_mlflow_2_load_here(tmp_path):
    result = subprocess.run(
        [str(mlflow_python(MLFLOW_2)), "-c", DATA + MLFLOW2_SAVES, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    expected = json.loads((tmp_path / "expected.json").read_text())
    x = pd.DataFrame(np.random.RandomState(0).rand(30, 3), columns=["a", "b", "c"])
    for name in ("sk", "xgb"):
        predictor = load_predictor(tmp_path / name)
        assert predictor.input_columns == ["a", "b", "c"] and not predictor.needs_dataframe
        np.testing.assert_allclose(predictor.predict(x), expected[name], rtol=1e-6)
