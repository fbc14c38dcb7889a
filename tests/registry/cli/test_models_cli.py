from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner

from registry.cli.models import models_group
from tests.servers import registry_server

API = "/api/2.0/mlflow"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with registry_server(tmp_path_factory.mktemp("cli"), workers=1) as base:
        yield base


def run(server, *args):
    result = CliRunner().invoke(models_group, ["--tracking-uri", server, "--user", "ops", *args])
    return result.exit_code, result.output


def post(server, path, body):
    response = httpx.post(f"{server}{API}/{path}", json=body, timeout=10)
    assert response.status_code == 200, response.text


def test_operator_workflow(server):
    post(server, "registered-models/create", {"name": "taxi"})
    for _ in range(2):
        post(server, "model-versions/create", {"name": "taxi", "source": "runs:/abc/model"})

    code, out = run(server, "promote", "taxi", "1", "production")
    assert code == 0 and out.strip() == "taxi version 1 is now in Production."
    code, out = run(server, "promote", "taxi", "2", "Production", "--archive-existing")
    assert code == 0
    assert run(server, "set-alias", "taxi", "champion", "2")[0] == 0

    code, out = run(server, "list")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "PRODUCTION", "STAGING", "ALIASES", "UPDATED"]
    assert lines[2].split()[:3] == ["taxi", "2", "champion=2"]

    code, out = run(server, "versions", "taxi")
    rows = [line.split()[:2] for line in out.splitlines()[2:]]
    assert rows == [["2", "Production"], ["1", "Archived"]]

    code, out = run(server, "rollback", "taxi", "--stage", "Production", "--comment", "bad")
    assert code == 0 and "rollback of" in out
    code, out = run(server, "versions", "taxi")
    rows = [line.split()[:2] for line in out.splitlines()[2:]]
    assert rows == [["2", "None"], ["1", "Production"]]

    code, out = run(server, "history", "taxi")
    assert code == 0
    header, _rule, *entries = out.splitlines()
    assert header.split()[:4] == ["ID", "WHEN", "VERSION", "WHAT"]
    assert len(entries) == 6
    assert all(" ops " in f" {line} " for line in entries)

    assert run(server, "delete-alias", "taxi", "champion")[0] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("promote", "nope", "1", "Production"), "Error: RESOURCE_DOES_NOT_EXIST:"),
        (("promote", "taxi2", "1", "Prod"), "Error: INVALID_PARAMETER_VALUE: Invalid Model"),
        (("set-alias", "taxi2", "latest", "1"), "Error: INVALID_PARAMETER_VALUE:"),
        (("rollback", "taxi2", "--alias", "x"), "Error: INVALID_STATE:"),
    ],
)
def test_errors_are_one_line(server, args, message):
    httpx.post(f"{server}{API}/registered-models/create", json={"name": "taxi2"}, timeout=10)
    code, out = run(server, *args)
    assert code == 1
    assert out.startswith(message), out
    assert len(out.strip().splitlines()) == 1
    assert "Traceback" not in out


def test_unreachable_server_is_one_line():
    result = CliRunner().invoke(models_group, ["--tracking-uri", "http://127.0.0.1:9", "list"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot reach http://127.0.0.1:9")
