"""Sparse matrices and single values in ``Predictor.predict``: kept, checked or densified."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from scipy import sparse
from sklearn.linear_model import LinearRegression

from registry.errors import InvalidParameter
from registry.models import inputs, load_predictor, pyfunc
from registry.models import sklearn as sk
from registry.models import xgboost as xm
from registry.models.enforcement import enforce_schema
from registry.models.schema import ColSpec, ModelSignature, Schema, TensorSpec
from registry.models.signature import infer_signature
from tests.registry.models.pyfunc_models import Describe


@pytest.fixture(scope="module")
def data() -> tuple[sparse.csr_matrix, np.ndarray]:
    rng = np.random.RandomState(0)
    x = rng.rand(20, 3) * (rng.rand(20, 3) > 0.5)
    return sparse.csr_matrix(x), x @ np.array([2.0, 1.0, -1.0])


def test_tensor_signature_hands_the_sparse_matrix_over(tmp_path, data):
    csr, _ = data
    pyfunc.save_model(tmp_path / "m", python_model=Describe(), signature=infer_signature(csr))
    seen, values = load_predictor(tmp_path / "m").predict(csr[:2])
    assert seen == "csr_matrix" and values["values"] == csr[:2].toarray().tolist()


def test_tensor_signature_checks_the_sparse_width_and_casts_integers(tmp_path, data):
    csr, y = data
    model = LinearRegression().fit(csr, y)
    sk.save_model(model, tmp_path / "m", input_example=csr[:2])
    predictor = load_predictor(tmp_path / "m")
    with pytest.raises(InvalidParameter, match=r"shape \[-1, 3\], got shape \[2, 4\]"):
        predictor.predict(sparse.csr_matrix(np.ones((2, 4))))
    ints = sparse.csc_matrix(np.array([[1, 0, 2], [0, 3, 0]]))
    np.testing.assert_allclose(predictor.predict(ints), model.predict(ints.toarray()))


def test_sparse_tensor_of_another_rank_or_dtype_is_refused():
    three_d = Schema((TensorSpec("float64", (-1, 2, 2)),))
    with pytest.raises(InvalidParameter, match=r"\(rank 3\), got a sparse matrix of shape"):
        enforce_schema(sparse.csr_matrix(np.ones((2, 4))), three_d)
    ints = Schema((TensorSpec("int64", (-1, 2)),))
    with pytest.raises(InvalidParameter, match="got dtype float64"):
        enforce_schema(sparse.csr_matrix(np.full((2, 2), 0.5)), ints)


def test_column_signature_densifies_a_sparse_matrix_in_signature_order(tmp_path, data):
    csr, y = data
    frame = pd.DataFrame(csr.toarray(), columns=["a", "b", "c"])
    model = LinearRegression().fit(frame, y)
    sk.save_model(model, tmp_path / "m", input_example=frame[:2])
    predictor = load_predictor(tmp_path / "m")
    np.testing.assert_allclose(predictor.predict(csr), model.predict(frame))


def test_densifying_is_refused_past_the_size_guard(tmp_path, data):
    csr, y = data
    sig = ModelSignature(Schema(tuple(ColSpec("double", n) for n in ("a", "b", "c"))))
    sk.save_model(LinearRegression().fit(csr.toarray(), y), tmp_path / "m", signature=sig)
    huge = sparse.csr_matrix((3, inputs.MAX_DENSE_CELLS // 3 + 1))
    with pytest.raises(InvalidParameter, match=r"3x3333334 sparse matrix is too large to densify"):
        load_predictor(tmp_path / "m").predict(huge)


def test_booster_predicts_on_sparse_rows_with_its_feature_names(tmp_path, data):
    csr, y = data
    frame = pd.DataFrame(csr.toarray(), columns=["a", "b", "c"])
    booster = xgb.train({"max_depth": 2, "nthread": 1}, xgb.DMatrix(frame, label=y), 3)
    xm.save_model(booster, tmp_path / "m")
    predictor = load_predictor(tmp_path / "m")
    # Entries a sparse matrix leaves out are missing values to xgboost, not zeros.
    native = booster.predict(xgb.DMatrix(csr, feature_names=["a", "b", "c"]))
    np.testing.assert_allclose(predictor.predict(csr), native)


def test_booster_refuses_a_string_rather_than_reading_it_as_a_file(tmp_path, data):
    csr, y = data
    xm.save_model(xgb.train({"nthread": 1}, xgb.DMatrix(csr, label=y), 2), tmp_path / "m")
    with pytest.raises(InvalidParameter, match="predicts on rows, not on str"):
        load_predictor(tmp_path / "m").predict(str(tmp_path / "m" / "model.ubj"))


def test_one_value_is_one_row_of_a_one_column_signature(tmp_path):
    sig = ModelSignature(Schema((ColSpec("string"),)))
    pyfunc.save_model(tmp_path / "m", python_model=Describe(), signature=sig)
    seen, values = load_predictor(tmp_path / "m").predict("hello")
    assert seen == "DataFrame" and values == {"columns": ["0"], "values": [["hello"]]}
