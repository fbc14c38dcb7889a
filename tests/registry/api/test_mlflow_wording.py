"""Validation errors in MLflow's words: scripts and MLflow's own tests match on these messages."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

API = "/api/2.0/mlflow"
DOCS = " See the API docs for more information about request parameters."


def _error(response: object) -> tuple[int, str, str]:
    body = response.get_json()  # type: ignore[attr-defined]
    return response.status_code, body["error_code"], body["message"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            "/experiments/create",
            {"name": 123},
            "Invalid value 123 for parameter 'name' supplied:  Hint: Value was of type 'int'."
            + DOCS,
        ),
        ("/experiments/create", {}, "Missing value for required parameter 'name'." + DOCS),
        (
            "/experiments/create",
            {"name": None},
            "Missing value for required parameter 'name'." + DOCS,
        ),
        (
            "/runs/create",
            {"experiment_id": "0", "start_time": "abc"},
            "Invalid value \"abc\" for parameter 'start_time' supplied:  Hint: Value was of type"
            " 'str'." + DOCS,
        ),
        (
            "/runs/log-metric",
            {"key": "m", "value": 1, "timestamp": 1},
            "Missing value for required parameter 'run_id'." + DOCS,
        ),
        (
            "/runs/log-parameter",
            {"run_id": "abc", "key": "k", "value": 5},
            "Invalid value 5 for parameter 'value' supplied:  Hint: Value was of type 'int'."
            + DOCS,
        ),
        (
            "/experiments/create",
            {"name": "x", "tags": "a"},
            "Invalid value \"a\" for parameter 'tags' supplied:  Hint: Value was of type 'str'."
            + DOCS,
        ),
    ],
)
def test_refused_fields_are_named_as_mlflow_names_them(
    sqlite_client: FlaskClient, path: str, body: dict[str, object], message: str
) -> None:
    response = sqlite_client.post(API + path, json=body)

    assert _error(response) == (400, "INVALID_PARAMETER_VALUE", message)


def test_a_query_parameter_of_the_wrong_type_shows_its_text(sqlite_client: FlaskClient) -> None:
    response = sqlite_client.get(f"{API}/experiments/search?max_results=abc")

    assert _error(response) == (
        400,
        "INVALID_PARAMETER_VALUE",
        "Invalid value \"abc\" for parameter 'max_results' supplied:  Hint: Value was of type"
        " 'str'." + DOCS,
    )


def test_a_missing_query_parameter_is_named(sqlite_client: FlaskClient) -> None:
    response = sqlite_client.get(f"{API}/runs/get")

    assert _error(response) == (
        400,
        "INVALID_PARAMETER_VALUE",
        "Missing value for required parameter 'run_id'." + DOCS,
    )


def test_a_nested_field_is_named_by_its_json_path(sqlite_client: FlaskClient) -> None:
    run = sqlite_client.post(f"{API}/runs/create", json={"experiment_id": "0"}).get_json()
    run_id = run["run"]["info"]["run_id"]

    response = sqlite_client.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": [{"key": "m", "value": 1, "timestamp": 1}, {"key": "n"}],
        },
    )

    status, code, message = _error(response)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    assert message.startswith('Invalid value {"key":"n"} for parameter \'metrics[1]\' supplied: ')
    assert (
        sqlite_client.get(f"{API}/runs/get?run_id={run_id}")
        .get_json()["run"]["data"]
        .get("metrics")
        is None
    )


def test_every_refused_field_stays_in_details(sqlite_client: FlaskClient) -> None:
    response = sqlite_client.post(f"{API}/runs/log-metric", json={"run_id": "abc", "key": "m"})

    assert set(response.get_json()["details"]) == {"value", "timestamp"}
    assert response.get_json()["message"].startswith("Missing value for required parameter 'value'")


def test_a_value_a_field_refuses_says_why(sqlite_client: FlaskClient) -> None:
    response = sqlite_client.get(f"{API}/experiments/search?view_type=FOO")

    status, code, message = _error(response)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    assert message.startswith("Invalid value \"FOO\" for parameter 'view_type' supplied: ")
    assert "ACTIVE_ONLY" in message
