"""The examples run end to end, as a user would run them, on an embedded SQLite store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from registry.client import Client

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, tmp_path: Path) -> tuple[str, str]:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), uri],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return uri, result.stdout


def test_course_workflow(tmp_path: Path) -> None:
    uri, out = run_example("course_workflow.py", tmp_path)
    assert "in Production" in out
    client = Client(uri)
    [production] = client.get_latest_versions("nyc-taxi-regressor", ["Production"])
    experiment = client.get_experiment_by_name("nyc-taxi-experiment")
    runs = client.search_runs([experiment.experiment_id], order_by=["metrics.rmse ASC"])
    assert len(runs) == 2 and all(r.info.status == "FINISHED" for r in runs)
    assert production.run_id == runs[0].info.run_id
    lasso = next(r for r in runs if "alpha" in r.data.params)
    assert lasso.data.tags["developer"] == "ana"
    assert [f.path for f in client.list_artifacts(lasso.info.run_id, "preprocessor")] == [
        "preprocessor/preprocessor.b"
    ]
    assert (tmp_path / "mlartifacts").is_dir()


def test_hyperopt_sweep(tmp_path: Path) -> None:
    uri, out = run_example("hyperopt_sweep.py", tmp_path)
    assert out.startswith("3 trials")
    client = Client(uri)
    experiment = client.get_experiment_by_name("xgboost-sweep")
    runs = client.search_runs([experiment.experiment_id])
    [parent] = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == 3 and all("rmse" in r.data.metrics for r in children)
    assert {"best_max_depth", "best_learning_rate"} <= set(parent.data.params)
