"""``modelyard import mlflow --to http://...`` into a real ``modelyard server --auth`` (gunicorn).

The import goes through the server's import API (admins only) and its artifact proxy; then the
official mlflow client, pointed at the server, sees what it saw on MLflow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.importers.conftest import (
    MODEL,
    MlflowStores,
    mlflow_client,
    modelyard,
)
from tests.importers.report_lines import imported_counts
from tests.importers.test_import_e2e import comparable
from tests.servers import registry_server

pytestmark = [pytest.mark.e2e, pytest.mark.compat, pytest.mark.timeout(900)]

ADMIN = ("admin", "import-admin-password")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A ``modelyard server --auth`` on an empty SQLite store; yields (base URL, artifact root)."""
    root = tmp_path / "server-artifacts"
    env = {"REGISTRY_AUTH": "true", "MODELYARD_ADMIN_PASSWORD": ADMIN[1]}
    with registry_server(
        tmp_path, workers=2, artifact_root=str(root), port=free_port(), extra_env=env
    ) as base:
        yield base, root


def credentials(user: tuple[str, str]) -> dict[str, str]:
    return {"MLFLOW_TRACKING_USERNAME": user[0], "MLFLOW_TRACKING_PASSWORD": user[1]}


def test_import_into_a_running_server_over_http(
    mlflow_stores: MlflowStores,
    server: tuple[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, root = server
    store = mlflow_stores.get("sqlite")
    assert store.from_artifacts is not None
    args = ["import", "mlflow", "--from", store.uri, "--from-artifacts", str(store.from_artifacts)]
    args += ["--to", base]
    made = httpx.post(
        f"{base}/api/2.0/mlflow/users/create",
        json={"username": "alice", "password": "alice-password-1"},
        auth=ADMIN,
    )
    assert made.status_code == 200, made.text

    anonymous = modelyard(*args, cwd=tmp_path)
    not_admin = modelyard(*args, cwd=tmp_path, env=credentials(("alice", "alice-password-1")))
    first = modelyard(*args, cwd=tmp_path, env=credentials(ADMIN))
    again = modelyard(*args, cwd=tmp_path, env=credentials(ADMIN))
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN[1])
    seen = mlflow_client("snapshot.py", base, tmp_path, MODEL)
    history = httpx.get(
        f"{base}/api/2.0/modelyard/registered-models/history",
        params={"name": MODEL},
        auth=ADMIN,
    ).json()["transitions"]

    assert anonymous.returncode == 1
    assert "Authentication required" in anonymous.stderr, anonymous.stderr
    assert not_admin.returncode == 1
    assert "admin" in not_admin.stderr.lower(), not_admin.stderr
    assert first.returncode == 0, first.stdout + first.stderr
    assert imported_counts(first.stdout)["runs"] == 5
    assert comparable(seen) == comparable(store.seen)
    assert seen[f"models:/{MODEL}/Production"] == pytest.approx(
        store.populated["expected_production"]
    )
    assert seen[f"models:/{MODEL}@challenger"] == pytest.approx(
        store.populated["expected_challenger"]
    )
    assert all(uri.startswith("mlflow-artifacts:/") for uri in seen["locations"].values())
    assert {h["comment"] for h in history} == {"imported from MLflow"}
    files = sorted(
        p.relative_to(store.from_artifacts) for p in store.from_artifacts.rglob("*") if p.is_file()
    )
    assert f"artifacts: {len(files)} files copied" in first.stdout
    # through the proxy into the server's own root, byte for byte
    for relative in files:
        assert (root / relative).read_bytes() == (store.from_artifacts / relative).read_bytes()
    assert again.returncode == 0, again.stdout + again.stderr
    assert set(imported_counts(again.stdout).values()) == {0}
    assert "0 files copied" in again.stdout
