"""The official mlflow client (2.x and 3.x) and MLflow's auth client against a server with auth."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.mlflow_env import MLFLOW_2, MLFLOW_3, MLFLOW_SERVER, run_official_client
from tests.servers import registry_server

pytestmark = [pytest.mark.compat, pytest.mark.e2e]

SCRIPTS = Path(__file__).parent / "scripts"
ADMIN_PASSWORD = "compat-admin-password"
SERVER_ENV = {"REGISTRY_AUTH": "true", "MODELYARD_ADMIN_PASSWORD": ADMIN_PASSWORD}


@pytest.mark.parametrize("requirement", [MLFLOW_3, MLFLOW_2])
def test_the_official_client_runs_the_workflow_with_a_password_and_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, requirement: str
) -> None:
    with registry_server(tmp_path, workers=1, extra_env=SERVER_ENV) as base:
        created = httpx.post(
            f"{base}/api/2.0/mlflow/users/create",
            json={"username": "ana", "password": "ana-password-1"},
            auth=("admin", ADMIN_PASSWORD),
        )
        assert created.status_code == 200
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ana")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "ana-password-1")
        monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
        seen = run_official_client(
            SCRIPTS / "auth_workflow.py", base, tmp_path, requirement=requirement
        )
    for way in ("basic", "bearer"):
        assert seen[way]["rmse"] == 1.5
        assert seen[way]["files"] == ["note.txt"]
    assert "401" in seen["anonymous"] or "UNAUTHENTICATED" in seen["anonymous"]


def test_mlflows_auth_client_manages_users_and_permissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with registry_server(tmp_path, workers=1, extra_env=SERVER_ENV) as base:
        monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "admin")
        monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD)
        monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
        seen = run_official_client(
            SCRIPTS / "auth_admin.py", base, tmp_path, requirement=MLFLOW_SERVER
        )
        login = httpx.get(f"{base}/api/2.0/mlflow/users/current", auth=("ana", "ana-password-2"))
    assert seen["created"] == {"username": "ana", "is_admin": False}
    assert seen["got"] == "ana"
    assert seen["granted"] == {"allowed": True, "permission": "EDIT"}
    assert seen["after_revoke"] == "READ"  # back to the default permission
    assert seen["deleted"] is True
    assert login.status_code == 200
    assert login.json()["user"]["username"] == "ana"
