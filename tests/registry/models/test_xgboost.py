from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import xgboost as xgb
from sklearn.linear_model import LinearRegression

from registry.errors import InvalidParameter
from registry.models import load_predictor
from registry.models import xgboost as xm
from registry.models.mlmodel import read_mlmodel


def test_booster_round_trip_native_format(tmp_path, xy):
    x, y = xy
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x, label=y), num_boost_round=3)
    xm.save_model(booster, tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").glob("model.*")) == ["model.ubj"]
    conf = read_mlmodel(tmp_path / "m").flavors
    assert conf["xgboost"]["model_class"] == "xgboost.core.Booster"
    assert conf["python_function"]["loader_module"] == "mlflow.xgboost"
    assert conf["python_function"]["data"] == "model.ubj"
    loaded = xm.load_model(tmp_path / "m")
    assert isinstance(loaded, xgb.Booster)
    expected = booster.predict(xgb.DMatrix(x))
    np.testing.assert_array_equal(loaded.predict(xgb.DMatrix(x)), expected)
    predictor = load_predictor(tmp_path / "m")
    assert predictor.input_columns == ["a", "b", "c"] and not predictor.needs_dataframe
    np.testing.assert_allclose(predictor.predict(x), expected)
    np.testing.assert_allclose(predictor.predict_array(x.to_numpy()), expected)


@pytest.mark.parametrize("cls", [xgb.XGBRegressor, xgb.XGBClassifier])
def test_sklearn_wrappers_keep_their_class(tmp_path, xy, cls):
    x, y = xy
    target = y if cls is xgb.XGBRegressor else (y > y.median()).astype(int)
    model = cls(n_estimators=3, max_depth=2).fit(x, target)
    xm.save_model(model, tmp_path / "m", model_format="json", input_example=x[:2])
    loaded = xm.load_model(tmp_path / "m")
    assert type(loaded) is cls
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    predictor = load_predictor(tmp_path / "m")
    np.testing.assert_allclose(predictor.predict(x.to_dict("records")), model.predict(x))
    np.testing.assert_allclose(predictor.predict_array(x.to_numpy()), model.predict(x))


@pytest.mark.parametrize("bad", ["model", LinearRegression(), xgb.XGBRegressor()])
def test_wrong_or_unfitted_model_writes_nothing(tmp_path, bad):
    with pytest.raises(InvalidParameter, match=r"expected an xgboost|not fitted"):
        xm.save_model(bad, tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_model_class_outside_xgboost_is_refused(tmp_path, xy):
    x, y = xy
    xm.save_model(xgb.train({}, xgb.DMatrix(x, label=y), 1), tmp_path / "m")
    text = (tmp_path / "m" / "MLmodel").read_text()
    (tmp_path / "m" / "MLmodel").write_text(text.replace("xgboost.core.Booster", "os.system"))
    with pytest.raises(InvalidParameter, match="is not an xgboost class"):
        xm.load_model(tmp_path / "m")


def test_a_booster_predicts_arrays_as_inplace_predict_does(tmp_path, xy):
    x, y = xy
    booster = xgb.train(
        {"max_depth": 3, "objective": "multi:softprob", "num_class": 3},
        xgb.DMatrix(x, label=(y > y.median()).astype(int) + (y > y.quantile(0.8)).astype(int)),
        num_boost_round=4,
    )
    xm.save_model(booster, tmp_path / "m")
    predictor = load_predictor(tmp_path / "m")
    rows = x.to_numpy().copy()
    rows[2, 1] = np.nan  # a missing value takes each split's default branch
    for array in (rows, rows[:1], np.asfortranarray(rows), rows.astype(np.float32)):
        got = predictor.predict_array(array)
        want = booster.inplace_predict(array)
        assert got.dtype == want.dtype and got.shape == want.shape == (len(array), 3)
        np.testing.assert_array_equal(got, want)
    with pytest.raises(InvalidParameter, match="rows of 3 values"):
        predictor.predict_array(rows[:, :2])


def test_a_booster_answers_each_call_with_its_own_rows_across_calls_and_threads(tmp_path, xy):
    # The direct call reuses one xgboost proxy per thread: no call may see another's rows.
    x, y = xy
    booster = xgb.train({"max_depth": 3}, xgb.DMatrix(x, label=y), num_boost_round=5)
    xm.save_model(booster, tmp_path / "m")
    predictor = load_predictor(tmp_path / "m")
    rows = x.to_numpy()
    want = booster.inplace_predict(rows)
    assert len(np.unique(want)) > 1

    def each_row_alone(order: list[int]) -> list[bool]:
        return [bool(predictor.predict_array(rows[i : i + 1])[0] == want[i]) for i in order * 20]

    orders = [list(range(len(rows))), list(reversed(range(len(rows))))] * 2
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(each_row_alone, orders))
    assert all(all(matches) for matches in answers)
    np.testing.assert_array_equal(predictor.predict_array(rows), want)


def test_a_server_master_loads_a_booster_without_sklearn_and_a_wrapper_after_it_works(tmp_path, xy):
    x, y = xy
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x, label=y), num_boost_round=3)
    xm.save_model(booster, tmp_path / "booster")
    xm.save_model(xgb.XGBRegressor(n_estimators=3).fit(x, y), tmp_path / "wrapper")
    x.to_csv(tmp_path / "x.csv", index=False)
    script = f"""
import sys
from concurrent.futures import ThreadPoolExecutor
import numpy as np, pandas as pd
from registry.models import load_predictor
from registry.models.xgboost import boosters_without_sklearn
x = pd.read_csv({str(tmp_path / "x.csv")!r})
with boosters_without_sklearn():
    first = load_predictor({str(tmp_path / "booster")!r})
print("sklearn imported by a booster:", "sklearn" in sys.modules)
print(first.predict(x).tolist())
second = load_predictor({str(tmp_path / "wrapper")!r})
print(type(second.model).__name__, second.predict(x).tolist())
print(first.predict(x).tolist())
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout.splitlines()
    assert out[0] == "sklearn imported by a booster: False"
    x32 = x.astype(np.float32)
    assert json.loads(out[1]) == booster.predict(xgb.DMatrix(x32)).tolist() == json.loads(out[3])
    wrapper = xm.load_model(tmp_path / "wrapper")
    name, predictions = out[2].split(" ", 1)
    assert name == "XGBRegressor" and json.loads(predictions) == wrapper.predict(x).tolist()


def test_a_booster_loaded_by_a_library_user_leaves_xgboost_whole(tmp_path, xy):
    # Outside a server's master, xgboost is imported as usual: its scikit-learn API works after.
    x, y = xy
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x, label=y), num_boost_round=3)
    xm.save_model(booster, tmp_path / "booster")
    script = f"""
import numpy as np
from registry.models import load_predictor
load_predictor({str(tmp_path / "booster")!r})
import xgboost
xgboost.XGBRegressor(n_estimators=2).fit(np.zeros((4, 2)), np.arange(4.0))
print("fitted")
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout.splitlines()
    assert out == ["fitted"]
