"""``/invocations`` as MLflow's own clients and scoring server speak it."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from flask.testing import FlaskClient
from sklearn.linear_model import LinearRegression

from registry.models import pyfunc
from registry.models import sklearn as sklearn_flavor
from registry.models.pyfunc import PythonModel
from registry.models.schema import ColSpec, ModelSignature, Schema
from serving.app import create_app
from serving.config import ServingConfig
from serving.loader import ModelSource
from tests.serving.conftest import expected, make_app

ROWS = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


class Describe(PythonModel):
    """Answers, per row, what it was given: each value's repr, and the params it got."""

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        if isinstance(model_input, dict) or "messages" in getattr(model_input, "columns", []):
            return [m["content"] for m in model_input["messages"]]
        rows = model_input.to_dict(orient="records")
        described = {k: repr(v) for k, v in (params or {}).items()}
        return [{**{k: repr(v) for k, v in row.items()}, **described} for row in rows]


def client(model_dir: Path) -> FlaskClient:
    config = ServingConfig(model_uri=str(model_dir), allow_pickle=True)
    model = ModelSource(str(model_dir), "", allow_pickle=True).load()
    app = create_app(config, model, start=False)
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture(scope="module")
def typed_client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    """A pyfunc model with string, long, binary and optional datetime columns and params."""
    signature = ModelSignature(
        inputs=Schema(
            (
                ColSpec("string", "zone"),
                ColSpec("long", "n"),
                ColSpec("binary", "blob", required=False),
                ColSpec("datetime", "when", required=False),
            )
        ),
        params=[
            {"name": "scale", "type": "double", "default": 1.0, "shape": None},
            {"name": "tags", "type": "string", "default": ["a"], "shape": [-1]},
        ],
    )
    path = tmp_path_factory.mktemp("typed") / "model"
    pyfunc.save_model(path, python_model=Describe(), signature=signature)
    return client(path)


@pytest.fixture(scope="module")
def free_client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    """The same pyfunc model without a signature."""
    path = tmp_path_factory.mktemp("free") / "model"
    pyfunc.save_model(path, python_model=Describe(), signature=False)
    return client(path)


def invoke(client: FlaskClient, document: object, content_type: str = "application/json") -> Any:
    return client.post("/invocations", data=json.dumps(document), content_type=content_type)


def test_integer_and_mixed_column_names_are_read(plain_client: FlaskClient) -> None:
    for columns in ([0, 1, 2], [0, "b", 2.5]):
        split = {"dataframe_split": {"columns": columns, "data": ROWS}}
        response = invoke(plain_client, split)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["predictions"] == pytest.approx(expected(ROWS))
    frame = pd.DataFrame(np.asarray(ROWS)).to_dict(orient="split")
    response = invoke(plain_client, {"dataframe_split": frame})
    assert response.get_json()["predictions"] == pytest.approx(expected(ROWS))


@pytest.mark.parametrize(
    ("content_type", "status", "words"),
    [
        ("application/json; charset=utf-8", 200, None),
        ("application/json; x=y", 415, "Unrecognized content type parameters: x"),
        ("application/json; format=pandas-split", 415, "Unrecognized content type parameters"),
        ("application/json; charset=latin-1", 415, "only supports UTF-8"),
    ],
)
def test_content_type_parameters_as_mlflow_reads_them(
    signature_client: FlaskClient, content_type: str, status: int, words: str | None
) -> None:
    split = {"dataframe_split": {"columns": ["a", "b", "c"], "data": ROWS}}
    response = invoke(signature_client, split, content_type)
    assert response.status_code == status
    if words is not None:
        assert words in response.get_json()["message"]


@pytest.mark.parametrize(
    ("split", "words"),
    [
        ({"columns": ["a", "b", "c"], "data": ROWS, "index": [0]}, "indices imply 1"),
        ({"columns": ["a", "b", "c"], "data": ROWS, "index": 3}, "indices imply int"),
        ({"columns": ["a", "b", "c"], "data": ROWS, "dtype": "x"}, "optionally 'columns' and"),
        ({"columns": [["a"], "b", "c"], "data": ROWS}, "'columns' must be a list"),
    ],
)
def test_a_bad_split_is_refused(
    signature_client: FlaskClient, split: dict[str, object], words: str
) -> None:
    response = invoke(signature_client, {"dataframe_split": split})
    assert response.status_code == 400
    assert words in response.get_json()["message"]


def test_a_split_with_a_matching_index_is_read(signature_client: FlaskClient) -> None:
    split = {"columns": ["a", "b", "c"], "data": ROWS, "index": [7, 8]}
    response = invoke(signature_client, {"dataframe_split": split})
    assert response.get_json()["predictions"] == pytest.approx(expected(ROWS))


def test_values_are_cast_as_mlflows_server_casts_them(typed_client: FlaskClient) -> None:
    blob = base64.encodebytes(b"\x00raw").decode()  # MLflow's NumpyEncoder: ends in "\n"
    split = {
        "columns": ["zone", "n", "blob", "when"],
        "data": [[132, 19.5, blob, "2024-03-01T10:00:00"], [7, 2, None, None]],
    }
    response = invoke(typed_client, {"dataframe_split": split})
    assert response.status_code == 200, response.get_json()
    first, second = response.get_json()["predictions"]
    assert first["zone"] == "132"  # MLflow's server keeps it a number in an object column
    assert first["n"] == "19"
    assert first["blob"] == repr(b"\x00raw")
    assert first["when"] == repr(pd.Timestamp("2024-03-01T10:00:00"))
    assert (second["zone"], second["blob"], second["when"]) == ("7", "None", "NaT")
    nulls = invoke(typed_client, {"dataframe_records": [{"zone": None, "n": 1}]})
    assert nulls.status_code == 200, nulls.get_json()
    assert nulls.get_json()["predictions"][0]["zone"] == "None"


def test_optional_columns_may_be_left_out(typed_client: FlaskClient) -> None:
    response = invoke(typed_client, {"dataframe_records": [{"zone": "a", "n": 1}]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["predictions"][0]["zone"] == "'a'"


def test_declared_params_are_cast_and_others_dropped_with_a_warning(
    typed_client: FlaskClient,
) -> None:
    records = [{"zone": "a", "n": 1}]
    response = invoke(typed_client, {"dataframe_records": records, "params": {"scale": 2}})
    (row,) = response.get_json()["predictions"]
    assert (row["scale"], row["tags"]) == ("2.0", "['a']")
    assert "Warning" not in response.headers
    extra = invoke(typed_client, {"dataframe_records": records, "params": {"temperature": 1}})
    assert extra.status_code == 200
    assert "temperature" not in extra.get_json()["predictions"][0]
    assert "temperature" in extra.headers["Warning"]


@pytest.mark.parametrize(
    "params", [{"scale": "abc"}, {"scale": True}, {"tags": "x"}, {"tags": [1, 2]}]
)
def test_params_of_the_wrong_type_are_400(
    typed_client: FlaskClient, params: dict[str, object]
) -> None:
    response = invoke(
        typed_client, {"dataframe_records": [{"zone": "a", "n": 1}], "params": params}
    )
    assert response.status_code == 400
    assert "Invalid parameters found" in response.get_json()["message"]


def test_params_are_dropped_when_the_signature_declares_none(free_client: FlaskClient) -> None:
    response = invoke(free_client, {"dataframe_records": [{"x": 1}], "params": {"scale": 2}})
    assert response.get_json()["predictions"] == [{"x": "1"}]
    assert "scale" in response.headers["Warning"]


def test_llm_style_bodies_reach_the_model_and_answer_unwrapped(free_client: FlaskClient) -> None:
    chat = {"messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": "yo"}]}
    response = invoke(free_client, chat)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == ["hi", "yo"]


def test_fractional_numbers_in_a_long_column_are_truncated_on_the_array_path(
    tmp_path: Path,
) -> None:
    train = pd.DataFrame({"n": [1, 2, 3, 4], "x": [0.5, 1.0, 0.0, 2.0]})
    model = LinearRegression().fit(train, [1.0, 3.0, 2.0, 7.0])
    sklearn_flavor.save_model(model, tmp_path / "m", input_example=train.head(2))
    served = client(tmp_path / "m")
    split = {"dataframe_split": {"columns": ["n", "x"], "data": [[19.5, 1.0]]}}
    response = invoke(served, split)
    assert response.status_code == 200, response.get_json()
    truncated = pd.DataFrame({"n": [19], "x": [1.0]})
    assert response.get_json()["predictions"] == pytest.approx(model.predict(truncated).tolist())
    assert model.predict(truncated)[0] != pytest.approx(model.predict(truncated + 0.5)[0])


def test_extra_columns_are_refused_by_default_and_dropped_when_configured(
    model_dirs: dict[str, Path],
) -> None:
    records = [{"a": r[0], "b": r[1], "c": r[2], "typo": 7.0} for r in ROWS]
    refused = invoke(
        make_app(model_dirs["signature"]).test_client(), {"dataframe_records": records}
    )
    assert refused.status_code == 400
    assert "typo" in refused.get_json()["message"]
    lenient = make_app(model_dirs["signature"], extra_columns="drop").test_client()
    dropped = invoke(lenient, {"dataframe_records": records})
    assert dropped.status_code == 200, dropped.get_json()
    assert dropped.get_json()["predictions"] == pytest.approx(expected(ROWS))


def test_an_unknown_extra_columns_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="SERVING_EXTRA_COLUMNS"):
        ServingConfig.from_env({"SERVING_EXTRA_COLUMNS": "ignore"})
