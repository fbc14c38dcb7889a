"""``modelyard requests`` against a real ``modelyard server --auth``: each user runs the command
with their own credentials, as an operator would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from registry.cli.approvals import requests_group
from tests.servers import registry_server

ADMIN = ("admin", "cli-admin-password")
PASSWORD = "cli-user-password"
API = "/api/2.0/mlflow"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {"REGISTRY_AUTH": "true", "MODELYARD_ADMIN_PASSWORD": ADMIN[1]}
    directory: Path = tmp_path_factory.mktemp("cli-requests")
    with registry_server(directory, workers=1, extra_env=env) as base:
        with httpx.Client(base_url=f"{base}{API}", auth=ADMIN, timeout=30) as http:

            def call(path: str, **body: object) -> None:
                reply = http.post(path, json=body)
                assert reply.status_code == 200, reply.text

            for user in ("ana", "bob"):
                call("/users/create", username=user, password=PASSWORD)
            call("/registered-models/create", name="taxi")
            for _ in range(2):
                call("/model-versions/create", name="taxi", source="runs:/r/model")
            for user, level in (("ana", "EDIT"), ("bob", "MANAGE")):
                call(
                    "/registered-models/permissions/create",
                    name="taxi",
                    username=user,
                    permission=level,
                )
        yield base


def run(server: str, user: tuple[str, str], *args: str) -> tuple[int, str]:
    env = {"MLFLOW_TRACKING_USERNAME": user[0], "MLFLOW_TRACKING_PASSWORD": user[1]}
    result = CliRunner().invoke(requests_group, ["--tracking-uri", server, *args], env=env)
    return result.exit_code, result.output


def test_request_and_approve_a_production_move(server: str) -> None:
    ana, bob = ("ana", PASSWORD), ("bob", PASSWORD)
    code, out = run(server, ADMIN, "policy", "set", "taxi", "--stage", "Production")
    assert code == 0, out
    assert "approvals: 1, from MANAGE" in out
    code, out = run(server, ana, "policy", "show", "taxi")
    assert code == 0 and "stages:    Production" in out

    code, out = run(server, ana, "create", "taxi", "1", "--stage", "production", "--comment", "ok")
    assert code == 0, out
    request_id = out.split()[1].rstrip(":")
    assert out.strip() == f"Request {request_id}: taxi version 1 to Production (0 of 1 approvals)."

    code, out = run(server, ana, "approve", request_id)
    assert code == 1 and "PERMISSION_DENIED" in out and "your own review" in out

    code, out = run(server, ana, "list", "taxi")
    header, _rule, *rows = out.splitlines()
    assert header.split()[:5] == ["ID", "MODEL", "VERSION", "TARGET", "STATUS"]
    assert [r.split()[:5] for r in rows] == [[request_id, "taxi", "1", "Production", "open"]]

    code, out = run(server, bob, "approve", request_id, "--comment", "ship it")
    assert code == 0, out
    assert out.strip() == f"Request {request_id} approved: taxi version 1 moved to Production."
    with httpx.Client(base_url=f"{server}{API}", auth=ADMIN, timeout=30) as http:
        version = http.get("/model-versions/get", params={"name": "taxi", "version": "1"})
    assert version.json()["model_version"]["current_stage"] == "Production"

    code, out = run(server, ana, "list", "taxi", "--status", "approved")
    assert [r.split()[0] for r in out.splitlines()[2:]] == [request_id]


def test_cancel_and_groups(server: str) -> None:
    ana, bob = ("ana", PASSWORD), ("bob", PASSWORD)
    assert run(server, ADMIN, "policy", "set", "taxi", "--stage", "Production")[0] == 0
    code, out = run(server, ana, "create", "taxi", "2", "--stage", "Production")
    assert code == 0, out
    request_id = out.split()[1].rstrip(":")
    assert run(server, ana, "comment", request_id, "needed by Friday")[0] == 0
    code, out = run(server, ana, "cancel", request_id)
    assert code == 0 and out.strip() == f"Request {request_id} cancelled."
    code, out = run(server, bob, "reject", request_id)
    assert code == 1 and "INVALID_STATE" in out

    code, out = run(server, bob, "group", "add", "release", "ana")
    assert code == 1 and "PERMISSION_DENIED" in out
    code, out = run(server, ADMIN, "group", "add", "release", "ana")
    assert code == 0 and out.splitlines()[2].split() == ["release", "ana"]
    code, out = run(server, ADMIN, "group", "remove", "release", "ana")
    assert code == 0 and len(out.splitlines()) == 2
