from __future__ import annotations

import json
import pydoc
import time
from contextlib import suppress

import numpy as np
import pytest
import skops.io
import xgboost as xgb
import yaml
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from registry.errors import InvalidParameter
from registry.models import load_predictor
from registry.models import sklearn as sk
from registry.models.digest import pickle_reason
from registry.models.mlmodel import read_mlmodel
from serving.loader import ModelSource


@pytest.mark.parametrize("fmt", ["skops", "cloudpickle", "pickle"])
def test_round_trip_each_format(tmp_path, xy, fmt):
    x, y = xy
    model = make_pipeline(StandardScaler(), LinearRegression()).fit(x, y)
    sk.save_model(model, tmp_path / "m", serialization_format=fmt, run_id="r1", model_id="m-1")
    loaded = sk.load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    meta = read_mlmodel(tmp_path / "m")
    assert (meta.run_id, meta.model_id, meta.model_uuid) == ("r1", "m-1", "m-1")
    assert meta.flavors["sklearn"]["serialization_format"] == fmt
    expected = "model.skops" if fmt == "skops" else "model.pkl"
    assert meta.flavors["python_function"]["model_path"] == expected
    assert meta.flavors["python_function"]["loader_module"] == "mlflow.sklearn"


def test_mlmodel_matches_mlflow_form_and_lists_hashes(tmp_path, xy):
    x, y = xy
    sk.save_model(LinearRegression().fit(x, y), tmp_path / "m", input_example=x[:2])
    doc = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert doc["mlflow_version"] == "3.17.2" and doc["modelyard_version"]
    assert isinstance(doc["signature"]["inputs"], str)
    assert json.loads(doc["signature"]["inputs"])[0] == {
        "type": "double",
        "name": "a",
        "required": True,
    }
    assert set(doc["file_hashes"]) == {
        "model.skops",
        "input_example.json",
        "serving_input_example.json",
        "requirements.txt",
        "python_env.yaml",
        "conda.yaml",
    }
    example = json.loads((tmp_path / "m" / "input_example.json").read_text())
    assert example["columns"] == ["a", "b", "c"] and len(example["data"]) == 2
    serving = json.loads((tmp_path / "m" / "serving_input_example.json").read_text())
    assert serving == {"dataframe_split": example}
    assert "scikit-learn==" in (tmp_path / "m" / "requirements.txt").read_text()


def test_skops_records_trusted_types_and_loads_a_forest(tmp_path, xy):
    x, y = xy
    model = RandomForestRegressor(n_estimators=2, random_state=0).fit(x, y)
    sk.save_model(model, tmp_path / "m")
    trusted = read_mlmodel(tmp_path / "m").flavors["sklearn"]["skops_trusted_types"]
    assert "sklearn.tree._tree.Tree" in trusted
    np.testing.assert_array_equal(sk.load_model(tmp_path / "m").predict(x), model.predict(x))


def _set_trusted(model_dir, types):
    doc = yaml.safe_load((model_dir / "MLmodel").read_text())
    doc["flavors"]["sklearn"]["skops_trusted_types"] = types
    (model_dir / "MLmodel").write_text(yaml.safe_dump(doc))


def test_skops_refuses_types_not_recorded(tmp_path, xy):
    x, y = xy
    sk.save_model(RandomForestRegressor(n_estimators=2).fit(x, y), tmp_path / "m")
    _set_trusted(tmp_path / "m", None)
    with pytest.raises(InvalidParameter, match="not recorded as trusted"):
        sk.load_model(tmp_path / "m")


def test_skops_refuses_dangerous_trusted_types(tmp_path, xy):
    x, y = xy
    sk.save_model(LinearRegression().fit(x, y), tmp_path / "m")
    _set_trusted(tmp_path / "m", ["builtins.eval"])
    with pytest.raises(InvalidParameter, match=r"trust \['builtins.eval'\]"):
        sk.load_model(tmp_path / "m")


@pytest.mark.parametrize(
    "bad", ["a string", xgb.Booster(), LogisticRegression], ids=["str", "booster", "class"]
)
def test_wrong_kind_of_model_writes_nothing(tmp_path, bad):
    with pytest.raises(InvalidParameter, match="expected a fitted scikit-learn estimator"):
        sk.save_model(bad, tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_existing_non_empty_target_is_refused(tmp_path, xy):
    x, y = xy
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "keep.txt").write_text("mine")
    with pytest.raises(InvalidParameter, match="already exists and is not empty"):
        sk.save_model(LinearRegression().fit(x, y), tmp_path / "m")
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["keep.txt"]
    sk.save_model(LinearRegression().fit(x, y), tmp_path / "empty_is_fine")


def test_unknown_format_is_refused(tmp_path, xy):
    x, y = xy
    with pytest.raises(InvalidParameter, match="serialization_format must be one of"):
        sk.save_model(LinearRegression().fit(x, y), tmp_path / "m", serialization_format="joblib")


def test_tampered_model_file_is_refused_before_loading(tmp_path, xy):
    x, y = xy
    sk.save_model(LinearRegression().fit(x, y), tmp_path / "m", serialization_format="pickle")
    other = LinearRegression().fit(x, -y)
    (tmp_path / "m" / "model.pkl").write_bytes(skops.io.dumps(other))
    with pytest.raises(InvalidParameter, match=r"model file model.pkl was modified \(sha256"):
        load_predictor(tmp_path / "m")
    with pytest.raises(InvalidParameter, match="was modified"):
        sk.load_model(tmp_path / "m")


def test_mlmodel_pointing_at_an_unrecorded_file_is_refused(tmp_path, xy):
    x, y = xy
    sk.save_model(LinearRegression().fit(x, y), tmp_path / "m", serialization_format="pickle")
    (tmp_path / "m" / "other.pkl").write_bytes((tmp_path / "m" / "model.pkl").read_bytes())
    doc = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    doc["flavors"]["sklearn"]["pickled_model"] = "other.pkl"
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(doc))
    with pytest.raises(InvalidParameter, match=r"other\.pkl is not listed in MLmodel file_hashes"):
        load_predictor(tmp_path / "m")


def test_path_outside_the_model_directory_is_refused(tmp_path, xy):
    x, y = xy
    sk.save_model(LinearRegression().fit(x, y), tmp_path / "m", serialization_format="pickle")
    text = (tmp_path / "m" / "MLmodel").read_text().replace("model.pkl", "../../etc/passwd")
    (tmp_path / "m" / "MLmodel").write_text(text)
    with pytest.raises(InvalidParameter, match="outside the model directory"):
        sk.load_model(tmp_path / "m")


def test_failed_save_leaves_no_parent_directories(tmp_path, xy):
    x, y = xy
    target = tmp_path / "new" / "deeper" / "m"
    with pytest.raises(InvalidParameter, match="unsupported input_example"):
        sk.save_model(LinearRegression().fit(x, y), target, input_example="not data")
    assert list(tmp_path.iterdir()) == []


def test_unfitted_estimator_is_refused(tmp_path):
    with pytest.raises(InvalidParameter, match="expected a fitted estimator"):
        sk.save_model(LinearRegression(), tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_skops_refuses_at_save_what_it_would_refuse_at_load(tmp_path, xy):
    x, y = xy
    model = make_pipeline(FunctionTransformer(abs), LinearRegression()).fit(x, y)
    with pytest.raises(InvalidParameter, match=r"builtins.abs.*use serialization_format"):
        sk.save_model(model, tmp_path / "m")
    sk.save_model(model, tmp_path / "m", serialization_format="cloudpickle")
    np.testing.assert_allclose(load_predictor(tmp_path / "m").predict(x), model.predict(x))


def _attacker_skops_model(model_dir, marker):
    """A skops model whose MLmodel trusts ``pydoc.pipepager``, set to run ``touch marker``."""
    x, y = np.array([[1.0], [2.0]]), np.array([1.0, 2.0])
    step = FunctionTransformer(func=pydoc.pipepager, kw_args={"cmd": f"touch {marker}"})
    pipe = make_pipeline(step, LinearRegression())
    pipe.steps[0][1].fit(x)  # fit the pieces: fitting the pipeline would run the command
    pipe.steps[1][1].fit(x, y)
    sk.save_model(LinearRegression().fit(x, y), model_dir)
    data = skops.io.dumps(pipe)
    assert skops.io.get_untrusted_types(data=data) == ["pydoc.pipepager"]
    (model_dir / "model.skops").write_bytes(data)
    doc = yaml.safe_load((model_dir / "MLmodel").read_text())
    del doc["file_hashes"]
    doc["flavors"]["sklearn"]["skops_trusted_types"] = ["pydoc.pipepager"]
    (model_dir / "MLmodel").write_text(yaml.safe_dump(doc))


def test_a_skops_model_trusting_a_function_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    _attacker_skops_model(tmp_path / "m", marker)
    reason = pickle_reason(read_mlmodel(tmp_path / "m"))
    assert reason is not None and "pydoc.pipepager" in reason
    with pytest.raises(InvalidParameter, match=r"pydoc\.pipepager"):
        sk.load_model(tmp_path / "m")
    with pytest.raises(InvalidParameter, match=r"pydoc\.pipepager"):
        load_predictor(tmp_path / "m").predict(np.array([[1.0]]))
    served = ModelSource(str(tmp_path / "m"), "sqlite:///unused.db", allow_pickle=False)
    with pytest.raises(InvalidParameter, match=r"pydoc.pipepager.*SERVING_ALLOW_PICKLE"):
        served.load()
    assert not marker.exists()


def test_serving_loads_such_a_model_only_when_the_operator_trusts_pickles(tmp_path):
    marker = tmp_path / "ran"
    _attacker_skops_model(tmp_path / "m", marker)
    trusted = ModelSource(str(tmp_path / "m"), "sqlite:///unused.db", allow_pickle=True).load()
    with suppress(TypeError):  # pipepager starts the command, then fails to write an array
        trusted.predictor.predict(np.array([[1.0]]))
    deadline = time.monotonic() + 30  # the shell runs the command on its own
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists()  # the operator chose to run the model's code


@pytest.mark.parametrize(
    "trusted",
    [["sklearn.tree._tree.Tree"], ["numpy.log1p"], ["numpy.ndarray", "scipy.sparse.csr_matrix"]],
)
def test_classes_of_sklearn_numpy_scipy_and_numpy_ufuncs_stay_trusted(tmp_path, xy, trusted):
    x, y = xy
    model = make_pipeline(FunctionTransformer(np.log1p), RandomForestRegressor(n_estimators=2))
    sk.save_model(model.fit(x, y), tmp_path / "m")
    _set_trusted(tmp_path / "m", ["sklearn.tree._tree.Tree", *trusted])
    assert sk.untrusted_types(trusted) == []
    assert pickle_reason(read_mlmodel(tmp_path / "m")) is None
    np.testing.assert_allclose(sk.load_model(tmp_path / "m").predict(x), model.predict(x))


@pytest.mark.parametrize(
    "name",
    ["pydoc.pipepager", "numpy.load", "scipy.io.loadmat", "sklearn.utils.deprecated.x",
     "os.system", "numpy", "sklearn.nothing.Here"],
)  # fmt: skip
def test_functions_and_foreign_types_are_never_trusted(name):
    assert sk.untrusted_types([name]) == [name]
