"""The unmodified official ``mlflow`` client (3.x and 2.x pins) against a real Modelyard server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.mlflow_env import MLFLOW_2, MLFLOW_3, mlflow_python, run_official_client
from tests.servers import registry_server

pytestmark = [pytest.mark.compat, pytest.mark.e2e, pytest.mark.timeout(600)]
SCRIPTS = Path(__file__).parent / "scripts"


@pytest.fixture(scope="module", params=[MLFLOW_3, MLFLOW_2], ids=["mlflow3", "mlflow2"])
def workflows(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """What each client pin saw running both workflows, in one process, against one server.

    The workflows use their own experiment and model names, so they share the server.
    """
    mlflow_python(request.param)  # built before the server starts, not while it waits
    tmp_path = tmp_path_factory.mktemp(str(request.param))
    with registry_server(tmp_path) as base:
        return run_official_client(
            SCRIPTS / "run_scripts.py",
            base,
            tmp_path,
            "tracking_workflow.py",
            "registry_workflow.py",
            requirement=request.param,
        )


def test_tracking_workflow(workflows: dict[str, Any]) -> None:
    seen = workflows["tracking_workflow"]
    assert seen["experiment_id"] == seen["experiment_again"] != "0"
    assert seen["status"] == "FINISHED"
    assert seen["params"] == {"alpha": "0.01", "l1_ratio": "0.5", "model": "linreg"}
    assert seen["metrics"]["rmse"] == 1.5
    assert seen["metrics"]["mae"] == 0.7
    assert seen["tags"]["developer"] == "ana"
    assert seen["tags"]["mlflow.runName"] == "parent"
    assert seen["child_parent_tag"] == seen["parent_id"]
    assert seen["history"] == [[0, 3.0], [1, 2.0], [2, 1.5]]
    assert {"notes", "data"} <= set(seen["artifacts_root"])
    assert seen["artifacts_data"] == ["data/a.json", "data/b.csv"]
    assert seen["downloaded"] == "hello artifacts"
    assert seen["search_ids"] == [seen["parent_id"]]
    assert seen["search_top_desc"] != seen["parent_id"]  # the child's rmse 6.0 sorts first
    assert seen["after_delete"] == 1
    assert seen["deleted_only"] == 1
    assert seen["after_restore"] == 2
    assert seen["prediction"] == pytest.approx(seen["expected"])


def test_registry_workflow(workflows: dict[str, Any]) -> None:
    seen = workflows["registry_workflow"]
    assert seen["versions"] == ["1", "2"]
    assert seen["status"] == ["READY", "READY"]
    assert seen["stages"] == {"1": "Archived", "2": "Production"}
    assert seen["description"] == "the better one"
    assert seen["latest_production"] == ["2"]
    assert seen["alias_version"] == "2"
    assert seen["aliases"] == {"champion": "2"}
    assert seen["version_tags"] == {"validated": "yes"}
    assert seen["search_by_tag"] == ["2"]
    assert "compat-regressor" in seen["registered_search"]
    for uri in (
        "models:/compat-regressor/Production",
        "models:/compat-regressor/2",
        "models:/compat-regressor@champion",
    ):
        assert seen[uri] == pytest.approx(seen["expected"]), uri
    assert seen["renamed_versions"] == ["1", "2"]
    assert seen["after_version_delete"] == ["2"]
    assert seen["after_model_delete"] == "RESOURCE_DOES_NOT_EXIST"
