from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from registry.errors import InvalidParameter
from registry.models import load_predictor, pyfunc
from registry.models import sklearn as sk
from registry.models.schema import ColSpec, ModelSignature, Schema


@pytest.fixture(scope="module")
def saved(tmp_path_factory, xy):
    x, y = xy
    model = make_pipeline(StandardScaler(), LinearRegression()).fit(x, y)
    path = tmp_path_factory.mktemp("p") / "m"
    sk.save_model(model, path, input_example=x[:2], run_id="run-1", model_id="m-1")
    return path, model


def test_every_input_shape_predicts_the_same(saved, xy):
    path, model = saved
    x, _ = xy
    predictor = load_predictor(path)
    expected = model.predict(x[:2])
    rows = x[:2].to_dict("records")
    for data in (
        x[:2],
        x[:2].to_numpy(),
        x[:2].to_dict("list"),
        rows,
        x[:2].to_numpy().tolist(),
        x[:2][["c", "a", "b"]].assign(extra=1),
    ):
        out = predictor.predict(data)
        assert isinstance(out, np.ndarray)
        np.testing.assert_allclose(out, expected)
    np.testing.assert_allclose(predictor.predict(rows[0]), expected[:1])


def test_metadata_and_fast_path_attributes(saved):
    path, _ = saved
    predictor = load_predictor(path)
    assert predictor.metadata.run_id == "run-1" and predictor.metadata.model_id == "m-1"
    assert predictor.signature is not None and predictor.signature.inputs is not None
    assert predictor.input_columns == ["a", "b", "c"]
    assert predictor.needs_dataframe is False


def test_predict_array_matches_and_checks_width(saved, xy):
    path, model = saved
    x, _ = xy
    predictor = load_predictor(path)
    np.testing.assert_allclose(predictor.predict_array(x.to_numpy()[:1]), model.predict(x[:1]))
    with pytest.raises(InvalidParameter, match=r"expected rows of 3 values"):
        predictor.predict_array(np.zeros((1, 2)))
    with pytest.raises(InvalidParameter, match="expected a 2-D array"):
        predictor.predict_array(np.zeros(3))
    with pytest.raises(InvalidParameter, match="column 'b': is required but row 0 is null"):
        predictor.predict_array(np.array([[1.0, np.nan, 2.0]]))


def test_feature_order_differs_from_signature_order(tmp_path, xy):
    x, y = xy
    model = LinearRegression().fit(x[["c", "a", "b"]], y)
    sig = ModelSignature(Schema(tuple(ColSpec("double", n) for n in ("a", "b", "c"))))
    sk.save_model(model, tmp_path / "m", signature=sig)
    predictor = load_predictor(tmp_path / "m")
    assert predictor.input_columns == ["c", "a", "b"]
    expected = model.predict(x[["c", "a", "b"]][:2])
    np.testing.assert_allclose(predictor.predict(x[:2].to_numpy().tolist()), expected)
    np.testing.assert_allclose(predictor.predict_array(x[["c", "a", "b"]][:2].to_numpy()), expected)


def test_model_without_signature_takes_arrays(tmp_path):
    rng = np.random.RandomState(1)
    x = rng.rand(10, 2)
    model = LinearRegression().fit(x, x.sum(axis=1))
    sk.save_model(model, tmp_path / "m")
    predictor = load_predictor(tmp_path / "m")
    assert predictor.signature is None and predictor.input_columns is None
    assert predictor.needs_dataframe is False
    np.testing.assert_allclose(predictor.predict_array(x[:2]), model.predict(x[:2]))
    np.testing.assert_allclose(predictor.predict(x[:2].tolist()), model.predict(x[:2]))
    np.testing.assert_allclose(predictor.predict(pd.DataFrame(x[:2])), model.predict(x[:2]))


def test_string_columns_need_a_dataframe(tmp_path):
    frame = pd.DataFrame({"city": ["a", "b", "a", "c"], "n": [1.0, 2.0, 3.0, 4.0]})
    encode = ColumnTransformer([("oh", OneHotEncoder(), ["city"])], remainder="passthrough")
    model = make_pipeline(encode, LinearRegression()).fit(frame, [1.0, 2.0, 3.0, 4.0])
    sk.save_model(model, tmp_path / "m", input_example=frame[:2])
    predictor = load_predictor(tmp_path / "m")
    assert predictor.needs_dataframe is True
    np.testing.assert_allclose(predictor.predict(frame), model.predict(frame))
    with pytest.raises(InvalidParameter, match="column 'city': expected string, got 5"):
        predictor.predict({"city": [5], "n": [1.0]})


def test_directory_without_mlmodel(tmp_path):
    with pytest.raises(InvalidParameter, match="has no MLmodel file"):
        load_predictor(tmp_path)


def test_mlmodel_without_python_function(tmp_path, saved):
    doc = yaml.safe_load((saved[0] / "MLmodel").read_text())
    del doc["flavors"]["python_function"]
    (tmp_path / "MLmodel").write_text(yaml.safe_dump(doc))
    with pytest.raises(InvalidParameter, match=r"no python_function flavor \(flavors: sklearn\)"):
        load_predictor(tmp_path)


def test_unknown_loader_module(tmp_path):
    doc = {"flavors": {"python_function": {"loader_module": "mlflow.lightgbm"}}}
    (tmp_path / "MLmodel").write_text(yaml.safe_dump(doc))
    with pytest.raises(InvalidParameter, match=r"uses loader_module 'mlflow\.lightgbm'"):
        load_predictor(tmp_path)


def test_mlflow_custom_pyfunc_without_mlflow_is_a_clear_error(tmp_path):
    doc = {"flavors": {"python_function": {"loader_module": "mlflow.pyfunc.model"}}}
    (tmp_path / "MLmodel").write_text(yaml.safe_dump(doc))
    with pytest.raises(InvalidParameter, match="needs the mlflow package"):
        load_predictor(tmp_path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([{"a": 1.0, "b": 2.0}], r"missing input column\(s\) 'c' \(double\)"),
        ({"a": [1.0], "b": ["abc"], "c": [1.0]}, "column 'b': expected double, got 'abc'"),
        ([{"a": 1.0, "b": None, "c": 1.0}], "column 'b': is required but row 0 is null"),
        ([[1.0, 2.0]], r"expected rows of 3 values \(columns a, b, c\), got rows of 2"),
    ],
)
def test_fast_path_errors_name_the_column(saved, data, message):
    with pytest.raises(InvalidParameter, match=message):
        load_predictor(saved[0]).predict(data)


def test_optional_numeric_column_may_be_left_out(tmp_path, xy):
    x, y = xy
    model = LinearRegression().fit(x.to_numpy()[:, :2], y)

    class TwoColumns(pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model.predict(model_input.reindex(columns=["a", "b"]).fillna(0).to_numpy())

    sig = ModelSignature(Schema((ColSpec("double", "a"), ColSpec("double", "b", required=False))))
    pyfunc.save_model(tmp_path / "m", python_model=TwoColumns(), signature=sig)
    predictor = load_predictor(tmp_path / "m")
    np.testing.assert_allclose(predictor.predict([{"a": 1.0}]), model.predict([[1.0, 0.0]]))


def test_model_fitted_on_a_frame_without_signature_takes_rows(tmp_path, xy):
    x, y = xy
    model = LinearRegression().fit(x, y)
    sk.save_model(model, tmp_path / "m")
    predictor = load_predictor(tmp_path / "m")
    assert predictor.input_columns == ["a", "b", "c"]
    expected = model.predict(x[:2])
    np.testing.assert_allclose(predictor.predict(x[:2].to_numpy().tolist()), expected)
    np.testing.assert_allclose(predictor.predict(x[:2][["b", "c", "a"]]), expected)


def test_predict_fn_from_mlmodel_is_honoured(tmp_path, xy):
    x, y = xy
    model = LogisticRegression().fit(x, (y > y.median()).astype(int))
    sk.save_model(model, tmp_path / "m", input_example=x[:2], pyfunc_predict_fn="predict_proba")
    doc = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert doc["flavors"]["python_function"]["predict_fn"] == "predict_proba"
    predictor = load_predictor(tmp_path / "m")
    np.testing.assert_allclose(predictor.predict(x[:3]), model.predict_proba(x[:3]))
    np.testing.assert_allclose(
        predictor.predict_array(x[:3].to_numpy()), model.predict_proba(x[:3])
    )
    doc["flavors"]["python_function"]["predict_fn"] = "fit"
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(doc))
    with pytest.raises(InvalidParameter, match="no prediction method 'fit'"):
        load_predictor(tmp_path / "m")
