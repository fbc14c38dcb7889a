from __future__ import annotations

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
