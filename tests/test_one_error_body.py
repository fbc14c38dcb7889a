"""Every server answers errors with the one body of registry.errors.error_reply.

The tracking API, the web UI (which renders the same status, error_code and message as a page)
and the serving process: an unknown route, a wrong method and a RegistryError raised by a view
give the same shape, and each body's error_code is the code of the class carrying its status.
"""

from __future__ import annotations

import html
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from registry.config import Config
from registry.errors import RegistryError, error_reply
from registry.store import close_database, db
from tests import databases
from tests.serving.conftest import make_app, model_dirs  # noqa: F401  (a fixture)

KEYS = {"error_code", "message", "details"}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def registry_app(tmp_path: Path) -> Iterator[Flask]:
    from registry.server.app import create_app

    config = Config(
        database_url=f"sqlite:///{tmp_path / 'one.db'}",
        artifact_root=str(tmp_path / "artifacts"),
        auto_migrate=True,
        serve_ui=True,
    )
    app = create_app(config)
    yield app
    close_database(app.extensions["registry"].database)


@pytest.fixture
def serving_client(model_dirs: dict[str, Path]) -> FlaskClient:  # noqa: F811
    return make_app(model_dirs["signature"]).test_client()


def assert_one_body(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.is_json, response.data[:200]
    body: dict[str, Any] = response.get_json()
    assert {"error_code", "message"} <= set(body) <= KEYS
    assert body["error_code"] == code
    assert body["message"]
    rebuilt = RegistryError.from_dict(body, status)
    assert (rebuilt.error_code, rebuilt.http_status) == (code, status)
    assert error_reply(rebuilt).body == body
    return body


@pytest.mark.parametrize(
    "missing", ["/api/2.0/mlflow/runs/nope", "/no/such/page"], ids=["tracking API", "UI"]
)
def test_unknown_route(registry_app: Flask, missing: str) -> None:
    assert_one_body(registry_app.test_client().get(missing), 404, "ENDPOINT_NOT_FOUND")


API_MODEL = "/api/2.0/mlflow/registered-models/get?name=absent"


@pytest.mark.parametrize(
    ("page_path", "json_path", "status", "code"),
    [
        ("/no/such/page", "/no/such/page", 404, "ENDPOINT_NOT_FOUND"),
        ("/experiments/create", "/experiments/create", 405, "METHOD_NOT_ALLOWED"),
        ("/models/absent", API_MODEL, 404, "RESOURCE_DOES_NOT_EXIST"),
    ],
    ids=["unknown route", "wrong method", "raised NotFound"],
)
def test_the_ui_page_is_the_html_form_of_the_body(
    registry_app: Flask, page_path: str, json_path: str, status: int, code: str
) -> None:
    client = registry_app.test_client()
    body = assert_one_body(client.get(json_path), status, code)
    page = client.get(page_path, headers={"Accept": BROWSER})
    assert page.status_code == status
    assert page.mimetype == "text/html"
    text = html.unescape(page.get_data(as_text=True))
    assert code in text
    assert body["message"] in text


def test_an_api_path_answers_json_whatever_the_client_prefers(registry_app: Flask) -> None:
    response = registry_app.test_client().get(
        "/api/2.0/mlflow/runs/nope", headers={"Accept": BROWSER}
    )
    assert_one_body(response, 404, "ENDPOINT_NOT_FOUND")


def test_unknown_route_serving(serving_client: FlaskClient) -> None:
    assert_one_body(serving_client.get("/no/such/page"), 404, "ENDPOINT_NOT_FOUND")
    v2 = serving_client.get("/v2/no/such/page")
    assert v2.status_code == 404
    body = v2.get_json()
    assert body == {"error": body["message"], **error_reply(RegistryError.from_dict(body)).body}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("GET", "/api/2.0/mlflow/runs/create", "POST"), ("GET", "/experiments/create", "POST")],
    ids=["tracking API", "UI"],
)
def test_wrong_method(registry_app: Flask, method: str, path: str, allowed: str) -> None:
    response = registry_app.test_client().open(path, method=method)
    assert_one_body(response, 405, "METHOD_NOT_ALLOWED")
    assert allowed in response.headers["Allow"]


def test_wrong_method_serving(serving_client: FlaskClient) -> None:
    response = serving_client.get("/invocations")
    assert_one_body(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response.headers["Allow"]


def test_a_raised_registry_error_tracking_api(registry_app: Flask) -> None:
    response = registry_app.test_client().get(
        "/api/2.0/mlflow/registered-models/get", query_string={"name": "absent"}
    )
    assert_one_body(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_a_raised_registry_error_serving(serving_client: FlaskClient) -> None:
    invocations = serving_client.post(
        "/invocations", data=b"{not json", content_type="application/json"
    )
    assert_one_body(invocations, 400, "BAD_REQUEST")
    v2 = serving_client.get("/v2/models/other")
    body = v2.get_json()
    assert v2.status_code == 404
    assert body["error"] == body["message"]
    assert {k: v for k, v in body.items() if k != "error"} == error_reply(
        RegistryError.from_dict(body, 404)
    ).body


def test_a_bug_is_a_generic_500_with_the_same_body(registry_app: Flask) -> None:
    @registry_app.get("/api/2.0/modelyard/test-bug")
    def bug() -> str:
        raise ZeroDivisionError("secret detail")

    response = registry_app.test_client().get("/api/2.0/modelyard/test-bug")
    body = assert_one_body(response, 500, "INTERNAL_ERROR")
    assert "secret detail" not in body["message"]


def test_a_schema_the_code_does_not_match_is_a_500_naming_the_fix(registry_app: Flask) -> None:
    client = registry_app.test_client()
    database = registry_app.extensions["registry"].database
    with database.connection_context():
        database.execute_sql("DROP TABLE registered_model_tags")
    client.post("/api/2.0/mlflow/registered-models/create", json={"name": "m"})
    response = client.get("/api/2.0/mlflow/registered-models/get", query_string={"name": "m"})
    body = assert_one_body(response, 500, "INTERNAL_ERROR")
    assert "modelyard db upgrade" in body["message"]
    assert "Retry-After" not in response.headers


def test_a_message_is_escaped_on_the_ui_page(registry_app: Flask) -> None:
    name = "<script>alert(1)</script>"
    page = registry_app.test_client().get(f"/models/{quote(name)}", headers={"Accept": BROWSER})
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert "<script>alert" not in text
    assert html.escape(name) in text


def test_a_database_bug_is_a_generic_500_not_a_retryable_503(registry_app: Flask) -> None:
    @registry_app.get("/api/2.0/modelyard/test-bad-sql")
    def bad_sql() -> str:
        db.execute_sql("SELEC secret_column FROM nowhere")
        return "unreachable"

    response = registry_app.test_client().get("/api/2.0/modelyard/test-bad-sql")
    body = assert_one_body(response, 500, "INTERNAL_ERROR")
    assert "secret_column" not in body["message"] and "SELEC" not in body["message"]
    assert "Retry-After" not in response.headers


DRIVER_WORDS = (
    "127.0.0.1",
    "hunter2",
    "psycopg",
    "port 1",
    "refused",
    "server at",
    "connection to",
)


@pytest.fixture
def database_down_app(server_databases: dict[str, str], tmp_path: Path) -> Iterator[Flask]:
    """The registry on PostgreSQL (with a password in its URL), then pointed at a closed port."""
    from registry.server.app import create_app

    url = server_databases["postgres"]
    if url.startswith("error:"):
        databases.unavailable("postgres", RuntimeError(url))
    parts = urlsplit(url)
    with_password = url.replace(f"{parts.username}@", f"{parts.username}:hunter2@", 1)
    config = Config(
        database_url=with_password, artifact_root=str(tmp_path / "artifacts"), serve_ui=True
    )
    app = create_app(config)
    database = app.extensions["registry"].database
    close_database(database)
    database.connect_params.update(host="127.0.0.1", port=1)  # nothing listens on port 1
    yield app
    close_database(database)


def test_a_database_outage_is_a_503_without_driver_text(database_down_app: Flask) -> None:
    client = database_down_app.test_client()
    # The first request tries to connect; the next fails fast on the known outage.
    for _ in range(2):
        response = client.get(API_MODEL)
        body = assert_one_body(response, 503, "TEMPORARILY_UNAVAILABLE")
        assert response.headers["Retry-After"]
        assert not [word for word in DRIVER_WORDS if word in body["message"].lower()]
    page = client.get("/models/absent", headers={"Accept": BROWSER})
    assert page.status_code == 503
    text = page.get_data(as_text=True).lower()
    assert "temporarily_unavailable" in text
    assert not [word for word in DRIVER_WORDS if word in text]


def test_a_locked_sqlite_file_is_a_retryable_503(tmp_path: Path) -> None:
    from registry.server.app import create_app

    path = tmp_path / "locked.db"
    config = Config(
        database_url=f"sqlite:///{path}",
        artifact_root=str(tmp_path / "artifacts"),
        auto_migrate=True,
        sqlite_busy_timeout_ms=50,
    )
    app = create_app(config)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
        response = app.test_client().post(
            "/api/2.0/mlflow/registered-models/create", json={"name": "m"}
        )
        body = assert_one_body(response, 503, "TEMPORARILY_UNAVAILABLE")
        assert "locked" not in body["message"]
        assert response.headers["Retry-After"]
    finally:
        holder.close()
        close_database(app.extensions["registry"].database)
