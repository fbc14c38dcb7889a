"""MLflow's own CLI, its server-version gate and its tracing against a real Modelyard server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mlflow_env import MLFLOW_3, mlflow_python, run_official_client
from tests.servers import registry_server

pytestmark = [pytest.mark.compat, pytest.mark.e2e, pytest.mark.timeout(600)]
SCRIPT = Path(__file__).parent / "scripts" / "mlflow_behaviours.py"


def test_mlflow_cli_version_gate_and_tracing_against_our_server(tmp_path: Path) -> None:
    mlflow_python(MLFLOW_3)  # built before the server starts, not while it waits
    with registry_server(tmp_path, workers=1) as base:
        seen = run_official_client(SCRIPT, base, tmp_path)

    # mlflow experiments create/rename/delete/restore/search
    assert seen["create"].startswith("Created experiment 'cli-bad-name' with id ")
    assert "renamed to 'cli-good-name'" in seen["rename"]
    assert seen["renamed_to"] == "cli-good-name"
    assert (seen["stage_after_delete"], seen["stage_after_restore"]) == ("deleted", "active")
    assert "cli-good-name" in seen["search"]
    # mlflow runs list/describe/delete/restore
    assert seen["run_id"] in seen["runs_list"]
    assert seen["runs_describe"] == {"alpha": "0.5"}
    assert "has been deleted" in seen["runs_delete"]
    assert "has been restored" in seen["runs_restore"]
    assert (seen["run_stage_after_delete"], seen["run_stage_after_restore"]) == (
        "deleted",
        "active",
    )
    # the client's feature gate reads the MLflow protocol version, not ours
    assert seen["server_version"] == "3.17.2"
    # tracing is not supported: the traced program ran on, search_traces says so cleanly
    assert seen["traced_result"] == 5
    assert seen["search_traces"] == "NOT_IMPLEMENTED"
    assert seen["after_tracing"] == "still running"
