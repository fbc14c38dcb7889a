"""Request hardening, with auth off: Host, Origin, Content-Type and frame headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.config import Config

API = "/api/2.0/mlflow"


@pytest.fixture
def guarded(sqlite_url: str, artifact_root: Path) -> Iterator[Flask]:
    from registry.server.app import create_app

    app = create_app(
        Config(
            database_url=sqlite_url,
            artifact_root=str(artifact_root),
            allowed_hosts="localhost,127.0.0.1",
            allowed_origins="https://notebooks.example",
        )
    )
    yield app
    app.extensions["registry"].database.close_all()


def _run_count(client: FlaskClient) -> int:
    reply = client.post(f"{API}/runs/search", json={"experiment_ids": ["0"]})
    assert reply.status_code == 200
    return len(reply.get_json().get("runs", []))


def test_a_foreign_host_is_refused_and_changes_nothing(guarded: Flask) -> None:
    client = guarded.test_client()
    reply = client.post(
        f"{API}/runs/create", json={"experiment_id": "0"}, headers={"Host": "evil.example"}
    )
    assert reply.status_code == 400
    assert reply.get_json()["error_code"] == "BAD_REQUEST"
    assert "evil.example" in reply.get_json()["message"]
    assert _run_count(client) == 0
    assert client.get("/health", headers={"Host": "127.0.0.1:5000"}).status_code == 200


def test_a_text_plain_cross_site_post_creates_nothing(guarded: Flask) -> None:
    client = guarded.test_client()
    reply = client.post(
        f"{API}/runs/create", data='{"experiment_id": "0"}', content_type="text/plain"
    )
    assert reply.status_code == 415
    assert set(reply.get_json()) == {"error_code", "message"}
    assert reply.get_json()["error_code"] == "UNSUPPORTED_MEDIA_TYPE"
    form = client.post(f"{API}/experiments/create", data={"name": "forged"})
    assert form.status_code == 415
    assert _run_count(client) == 0


def test_a_foreign_origin_is_refused_even_with_json(guarded: Flask) -> None:
    client = guarded.test_client()
    reply = client.post(
        f"{API}/runs/create",
        json={"experiment_id": "0"},
        headers={"Origin": "http://attacker.example"},
    )
    assert reply.status_code == 403
    assert reply.get_json()["error_code"] == "PERMISSION_DENIED"
    assert "attacker.example" in reply.get_json()["message"]
    null_origin = client.post(
        f"{API}/runs/create", json={"experiment_id": "0"}, headers={"Origin": "null"}
    )
    assert null_origin.status_code == 403
    assert _run_count(client) == 0


def test_the_servers_own_origin_and_listed_origins_pass(guarded: Flask) -> None:
    client = guarded.test_client()
    own = client.post(
        f"{API}/runs/create", json={"experiment_id": "0"}, headers={"Origin": "http://localhost"}
    )
    assert own.status_code == 200
    assert "Access-Control-Allow-Origin" not in own.headers
    listed = client.post(
        f"{API}/runs/create",
        json={"experiment_id": "0"},
        headers={"Origin": "https://notebooks.example"},
    )
    assert listed.status_code == 200
    assert listed.headers["Access-Control-Allow-Origin"] == "https://notebooks.example"
    assert "Origin" in listed.headers["Vary"]
    preflight = client.options(
        f"{API}/runs/create",
        headers={
            "Origin": "https://notebooks.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert _run_count(client) == 2


def test_the_ui_cannot_be_framed(guarded: Flask) -> None:
    page = guarded.test_client().get("/")
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_artifact_uploads_take_raw_bytes(guarded: Flask) -> None:
    client = guarded.test_client()
    put = client.put(
        "/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/a.bin",
        data=b"\x00\x01",
        content_type="application/octet-stream",
    )
    assert put.status_code == 200


def test_without_allowed_hosts_any_host_is_answered(sqlite_client: FlaskClient) -> None:
    # The library default (embedded use, tests); `modelyard server` always sets a list.
    assert sqlite_client.get("/health", headers={"Host": "registry.internal"}).status_code == 200


def test_deeply_nested_json_is_a_400_not_a_500(guarded: Flask) -> None:
    client = guarded.test_client()
    for body in (
        "[" * 100_000 + "]" * 100_000,
        '{"experiment_id": "0", "tags": ' + "[" * 5000 + "]" * 5000 + "}",
    ):
        reply = client.post(f"{API}/runs/create", data=body, content_type="application/json")
        assert reply.status_code == 400
        assert reply.get_json() == {
            "error_code": "BAD_REQUEST",
            "message": "Malformed request body: JSON nested too deeply.",
        }
    assert _run_count(client) == 0


def test_a_filter_over_50_terms_or_4_kb_is_refused(guarded: Flask) -> None:
    client = guarded.test_client()
    fifty = " and ".join(f"params.p{i} = '{i}'" for i in range(50))
    ok = client.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "filter": fifty})
    assert ok.status_code == 200
    many = fifty + " and tags.t LIKE 'x%'"
    for reply in (
        client.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "filter": many}),
        client.get(f"{API}/registered-models/search", query_string={"filter": many}),
    ):
        assert reply.status_code == 400
        assert reply.get_json()["message"] == "The filter has 51 comparisons; the limit is 50."
    long = "name = '" + "x" * 4100 + "'"
    reply = client.get(f"{API}/experiments/search", query_string={"filter": long})
    assert reply.status_code == 400
    assert reply.get_json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "the limit is 4096" in reply.get_json()["message"]
