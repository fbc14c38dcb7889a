"""``modelyard server`` start-up refusals and ``modelyard auth`` (bootstrap, tokens, audit)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from flask import Flask

from registry.cli.auth import auth as auth_group
from registry.cli.server import server
from registry.config import Config
from registry.server.app import create_app
from tests.registry.auth.conftest import bearer, make_token


def test_a_public_bind_without_auth_refuses_to_start(sqlite_url: str) -> None:
    result = CliRunner().invoke(server, ["--backend-store-uri", sqlite_url, "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "without authentication" in result.output
    assert "--insecure-no-auth" in result.output


def test_auth_without_an_admin_password_refuses_to_start(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELYARD_ADMIN_PASSWORD", raising=False)
    result = CliRunner().invoke(server, ["--backend-store-uri", sqlite_url, "--auth"])
    assert result.exit_code == 1
    assert "MODELYARD_ADMIN_PASSWORD" in result.output
    assert "modelyard auth bootstrap" in result.output


def test_bootstrap_prints_a_password_once_that_logs_in(sqlite_url: str, artifact_root) -> None:
    runner = CliRunner()
    first = runner.invoke(auth_group, ["bootstrap", "--backend-store-uri", sqlite_url])
    assert first.exit_code == 0, first.output
    password = first.output.rsplit(": ", 1)[1].strip()
    assert len(password) >= 20
    again = runner.invoke(auth_group, ["bootstrap", "--backend-store-uri", sqlite_url])
    assert again.exit_code == 1
    assert "only once" in again.output
    app = create_app(Config(database_url=sqlite_url, artifact_root=str(artifact_root), auth=True))
    client = app.test_client()
    reply = client.get("/api/2.0/mlflow/users/list", auth=("admin", password))
    assert reply.status_code == 200
    assert [u["username"] for u in reply.get_json()["users"]] == ["admin"]
    app.extensions["registry"].database.close_all()


def test_a_service_account_token_from_the_cli_reads_but_cannot_write(
    sqlite_auth_app: Flask, sqlite_url: str
) -> None:
    result = CliRunner().invoke(
        auth_group,
        [
            "create-token",
            "serving-bot",
            "--service-account",
            "--scope",
            "read",
            "--backend-store-uri",
            sqlite_url,
        ],
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    client = sqlite_auth_app.test_client()
    assert (
        client.get("/api/2.0/mlflow/registered-models/search", headers=bearer(token)).status_code
        == 200
    )
    write = client.post(
        "/api/2.0/mlflow/registered-models/create", json={"name": "m"}, headers=bearer(token)
    )
    assert write.status_code == 403


def test_the_audit_log_records_who_wrote_what_and_refusals(auth_app: Flask, db_url: str) -> None:
    client = auth_app.test_client()
    token = make_token(auth_app, "ci-bot")
    created = client.post(
        "/api/2.0/mlflow/experiments/create",
        json={"name": "audited"},
        headers=bearer(token),
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    experiment_id = created.get_json()["experiment_id"]
    anonymous = client.post(
        "/api/2.0/mlflow/experiments/delete", json={"experiment_id": experiment_id}
    )
    assert anonymous.status_code == 401
    client.get("/api/2.0/mlflow/experiments/search", headers=bearer(token))
    admin_token = make_token(auth_app, "admin", scope="admin")
    page = client.get(
        "/api/2.0/modelyard/audit?object_type=experiment&max_results=10",
        headers=bearer(admin_token),
    ).get_json()
    entries = page["entries"]
    assert [(e["username"], e["action"], e["status"]) for e in entries] == [
        ("", "api_experiments.delete", 401),
        ("ci-bot", "api_experiments.create", 200),
    ]
    assert entries[1]["remote_addr"] == "10.1.2.3"
    assert entries[0]["object_id"] == experiment_id
    user_only = client.get(
        "/api/2.0/modelyard/audit?username=ci-bot", headers=bearer(admin_token)
    ).get_json()["entries"]
    assert [e["action"] for e in user_only] == ["api_experiments.create"]
    refused = client.get("/api/2.0/modelyard/audit", headers=bearer(token))
    assert refused.status_code == 403
    cli = CliRunner().invoke(
        auth_group, ["audit", "--backend-store-uri", db_url, "--user", "ci-bot"]
    )
    assert cli.exit_code == 0
    assert [json.loads(line)["action"] for line in cli.output.splitlines()] == [
        "api_experiments.create"
    ]
