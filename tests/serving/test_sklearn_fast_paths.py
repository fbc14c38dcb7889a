"""Linear and forest regressors skip sklearn's per-call checks only where they cannot fail.

The answers must be sklearn's own, and bad input must get sklearn's errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from flask.testing import FlaskClient
from sklearn.base import clone
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
from sklearn.linear_model import ElasticNet, Lasso, LassoCV, LinearRegression, Ridge, RidgeCV

from registry.models import sklearn as sklearn_flavor
from tests.serving.conftest import make_app

COLUMNS = ["a", "b", "c"]
RNG = np.random.default_rng(7)
X = RNG.normal(size=(40, 3))
Y = X @ np.array([1.5, -2.0, 0.25]) + 0.3 + RNG.normal(scale=0.05, size=40)
ROWS = RNG.normal(size=(5, 3)).round(6)

ESTIMATORS = [
    LinearRegression(),
    LinearRegression(fit_intercept=False),
    Ridge(alpha=0.5),
    RidgeCV(),
    Lasso(alpha=0.01),
    LassoCV(cv=3),
    ElasticNet(alpha=0.01),
    RandomForestRegressor(n_estimators=8, max_depth=4, random_state=0),
    RandomForestRegressor(n_estimators=8, random_state=0, n_jobs=2),
    ExtraTreesRegressor(n_estimators=8, random_state=0),
]


def serve(path: Path, estimator: object, signature: bool) -> FlaskClient:
    if signature:
        frame = pd.DataFrame(X, columns=COLUMNS)
        fitted = estimator.fit(frame, Y)  # type: ignore[attr-defined]
        sklearn_flavor.save_model(fitted, path, input_example=frame.head(2))
    else:
        fitted = estimator.fit(X, Y)  # type: ignore[attr-defined]
        sklearn_flavor.save_model(fitted, path, signature=False)
    return make_app(path).test_client()


def split(rows: list[list[object]]) -> dict[str, object]:
    return {"dataframe_split": {"columns": COLUMNS, "data": rows}}


@pytest.mark.parametrize("signature", [True, False], ids=["signature", "plain"])
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: repr(e))
def test_predictions_are_sklearns_own(tmp_path: Path, estimator: object, signature: bool) -> None:
    estimator = clone(estimator)
    client = serve(tmp_path / "model", estimator, signature)
    for count in (1, 2, len(ROWS)):
        rows = ROWS[:count]
        given = pd.DataFrame(rows, columns=COLUMNS) if signature else rows
        want = estimator.predict(given)  # type: ignore[attr-defined]
        response = client.post("/invocations", json=split(rows.tolist()))
        assert response.status_code == 200, response.json
        assert response.json is not None
        # OpenBLAS rounds the last bit by the array's memory layout and alignment, so sklearn
        # itself differs by an ulp between two copies of the same rows.
        np.testing.assert_allclose(response.json["predictions"], want, rtol=1e-14, atol=0)


@pytest.mark.parametrize("estimator", [Ridge(), RandomForestRegressor(n_estimators=4)], ids=repr)
def test_a_multi_output_model_answers_as_sklearn(tmp_path: Path, estimator: object) -> None:
    model = clone(estimator).fit(X, np.column_stack([Y, -Y]))
    sklearn_flavor.save_model(model, tmp_path / "model", signature=False)
    client = make_app(tmp_path / "model").test_client()
    response = client.post("/invocations", json=split([[1, 2, 3]]))
    assert response.json is not None
    want = model.predict(np.array([[1.0, 2, 3]]))
    np.testing.assert_allclose(response.json["predictions"], want, rtol=1e-14, atol=0)


def test_a_null_without_a_signature_is_still_sklearns_400(tmp_path: Path) -> None:
    client = serve(tmp_path / "model", LinearRegression(), signature=False)
    response = client.post("/invocations", json=split([[1.0, None, 3.0]]))
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error_code"] == "BAD_REQUEST"
    assert "Input X contains NaN" in response.json["message"]


def test_infinity_in_a_csv_body_is_still_sklearns_400(tmp_path: Path) -> None:
    client = serve(tmp_path / "model", LinearRegression(), signature=False)
    response = client.post("/invocations", data=b"a,b,c\n1,inf,3\n", content_type="text/csv")
    assert response.status_code == 400
    assert response.json is not None
    assert "infinity" in response.json["message"]


def test_a_null_in_a_required_column_names_the_column(tmp_path: Path) -> None:
    client = serve(tmp_path / "model", LinearRegression(), signature=True)
    response = client.post("/invocations", json=split([[1.0, None, 3.0]]))
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "'b'" in response.json["message"]


def test_a_row_of_the_wrong_width_without_a_signature_is_sklearns_400(tmp_path: Path) -> None:
    client = serve(tmp_path / "model", Ridge(), signature=False)
    body = json.dumps({"dataframe_split": {"data": [[1.0, 2.0]]}})
    response = client.post("/invocations", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json is not None
    assert "X has 2 features" in response.json["message"]


def test_a_forest_predicts_on_a_null_as_sklearn_does(tmp_path: Path) -> None:
    forest = RandomForestRegressor(n_estimators=4, random_state=0)
    client = serve(tmp_path / "model", forest, signature=False)
    response = client.post("/invocations", json=split([[1.0, None, 3.0]]))
    assert response.status_code == 200, response.json
    assert response.json is not None
    want = forest.predict(np.array([[1.0, np.nan, 3.0]]))
    np.testing.assert_allclose(response.json["predictions"], want, rtol=1e-14, atol=0)
