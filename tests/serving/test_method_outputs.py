"""V2 outputs named after a classifier's methods (``predict``, ``predict_proba``).

MLServer answers them so; a method the model lacks, or any other name, is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from xgboost import XGBClassifier

from registry.models import sklearn as sklearn_flavor
from registry.models import xgboost as xgboost_flavor
from tests.serving.conftest import TRAIN, make_app

LABELS = np.array([0, 1, 0, 1, 1])
ROWS = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
INFER = "/v2/models/model/infer"
FRAME = pd.DataFrame(ROWS, columns=TRAIN.columns)


def _request(*outputs: str, binary: bool = False) -> dict[str, object]:
    wanted = [{"name": n, "parameters": {"binary_data": binary}} for n in outputs]
    return {
        "inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP64", "data": ROWS}],
        "outputs": wanted,
    }


@pytest.fixture(scope="module")
def classifiers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, object]]:
    root = tmp_path_factory.mktemp("classifiers")
    logistic = LogisticRegression().fit(TRAIN, LABELS)
    sklearn_flavor.save_model(logistic, root / "sklearn", input_example=TRAIN.head(2))
    boosted = XGBClassifier(n_estimators=3, max_depth=2).fit(TRAIN, LABELS)
    xgboost_flavor.save_model(boosted, root / "xgboost", input_example=TRAIN.head(2))
    return {"sklearn": (root / "sklearn", logistic), "xgboost": (root / "xgboost", boosted)}


@pytest.mark.parametrize("flavor", ["sklearn", "xgboost"])
def test_predict_proba_and_predict_are_outputs_of_a_classifier(
    classifiers: dict[str, tuple[Path, object]], flavor: str
) -> None:
    model_dir, model = classifiers[flavor]
    client = make_app(model_dir).test_client()
    answer = client.post(INFER, json=_request("predict_proba", "predict"))
    assert answer.status_code == 200, answer.get_json()
    outputs = answer.get_json()["outputs"]
    assert [o["name"] for o in outputs] == ["predict_proba", "predict"]
    x = FRAME
    proba = model.predict_proba(x)  # type: ignore[attr-defined]
    assert outputs[0]["shape"] == [2, 2]
    np.testing.assert_allclose(outputs[0]["data"], proba.reshape(-1), rtol=1e-6)
    assert outputs[1]["data"] == model.predict(x).tolist()  # type: ignore[attr-defined]


def test_only_the_method_output_is_computed_and_sent(
    classifiers: dict[str, tuple[Path, object]],
) -> None:
    model_dir, model = classifiers["sklearn"]
    client = make_app(model_dir).test_client()
    answer = client.post(INFER, json=_request("predict_proba"))
    assert [o["name"] for o in answer.get_json()["outputs"]] == ["predict_proba"]
    columns = {
        "inputs": [
            {"name": c, "shape": [2], "datatype": "FP64", "data": [r[i] for r in ROWS]}
            for i, c in enumerate(["a", "b", "c"])
        ],
        "outputs": [{"name": "predict_proba"}],
    }
    named = client.post(INFER, json=columns).get_json()["outputs"][0]
    proba = model.predict_proba(FRAME)  # type: ignore[attr-defined]
    np.testing.assert_allclose(named["data"], proba.reshape(-1), rtol=1e-6)


def test_an_output_the_model_has_no_method_for_is_refused(
    model_dirs: dict[str, Path], classifiers: dict[str, tuple[Path, object]]
) -> None:
    regressor = make_app(model_dirs["signature"]).test_client()
    answer = regressor.post(INFER, json=_request("predict_proba"))
    assert answer.status_code == 400
    assert answer.get_json()["error"] == (
        "Invalid input. Unknown output 'predict_proba': the model has no predict_proba method."
    )
    classifier = make_app(classifiers["sklearn"][0]).test_client()
    answer = classifier.post(INFER, json=_request("transform"))
    assert answer.status_code == 400
    assert "Unknown output(s) 'transform'" in answer.get_json()["error"]


def test_method_outputs_go_binary_when_asked(
    classifiers: dict[str, tuple[Path, object]],
) -> None:
    model_dir, model = classifiers["sklearn"]
    client = make_app(model_dir).test_client()
    answer = client.post(INFER, json=_request("predict_proba", binary=True))
    length = int(answer.headers["Inference-Header-Content-Length"])
    header = json.loads(answer.get_data()[:length])
    assert header["outputs"][0]["parameters"] == {"binary_data_size": 32}
    raw = answer.get_data()[length:]
    proba = model.predict_proba(FRAME)  # type: ignore[attr-defined]
    np.testing.assert_allclose(np.frombuffer(raw, dtype="<f8"), proba.reshape(-1), rtol=1e-6)


def test_an_empty_outputs_list_answers_the_default_output_and_checks_the_input(
    classifiers: dict[str, tuple[Path, object]],
) -> None:
    model_dir, model = classifiers["sklearn"]
    client = make_app(model_dir).test_client()
    answer = client.post(INFER, json={**_request(), "outputs": []})
    bad = client.post(
        INFER,
        json={"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1.0, 2.0]}]}
        | {"outputs": []},
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["outputs"][0]["data"] == model.predict(FRAME).tolist()  # type: ignore[attr-defined]
    assert bad.status_code == 400


# MultiOutputClassifier hands its estimators arrays, and sklearn warns about the lost names.
@pytest.mark.filterwarnings("ignore:X does not have valid feature names:UserWarning")
def test_a_ragged_method_output_is_a_400_naming_it(tmp_path: Path) -> None:
    from sklearn.multioutput import MultiOutputClassifier

    targets = np.array([[0, 0], [1, 1], [0, 2], [1, 0], [1, 2]])  # 2 classes, then 3
    model = MultiOutputClassifier(LogisticRegression()).fit(TRAIN, targets)
    sklearn_flavor.save_model(model, tmp_path / "multi", input_example=TRAIN.head(2))
    client = make_app(tmp_path / "multi").test_client()
    answer = client.post(INFER, json=_request("predict_proba"))
    assert answer.status_code == 400, answer.get_json()
    assert "predict_proba" in answer.get_json()["message"]
