"""The course workflow through ``import registry as mlflow`` on an embedded store."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import registry as mlflow
from registry.client import Client
from registry.client.run_context import git_commit
from registry.errors import InvalidParameter, NotFound

matplotlib.use("Agg")


def test_course_run_records_params_metrics_tags_and_artifacts(ml: Client, tmp_path: Path) -> None:
    experiment = mlflow.set_experiment("nyc-taxi-experiment")
    assert mlflow.set_experiment("nyc-taxi-experiment").experiment_id == experiment.experiment_id
    preprocessor = tmp_path / "preprocessor.b"
    preprocessor.write_bytes(b"\x00pickled")
    with mlflow.start_run(run_name="lasso") as run:
        mlflow.set_tag("developer", "ana")
        mlflow.log_param("alpha", 0.01)
        mlflow.log_params({"train-data-path": "a.parquet", "n": 3})
        mlflow.log_metric("rmse", 6.9)
        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"mae": 4.2, "nan": float("nan")}, step=1)
        mlflow.log_artifact(preprocessor, artifact_path="models_pickle")
    stored = mlflow.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.info.end_time is not None and stored.info.end_time >= stored.info.start_time
    assert stored.info.experiment_id == experiment.experiment_id
    assert stored.data.params == {"alpha": "0.01", "train-data-path": "a.parquet", "n": "3"}
    assert stored.data.metrics["rmse"] == 6.9 and stored.data.metrics["loss"] == pytest.approx(
        1 / 3
    )
    assert math.isnan(stored.data.metrics["nan"])
    tags = stored.data.tags
    assert tags["developer"] == "ana" and tags["mlflow.runName"] == "lasso"
    assert tags["mlflow.source.type"] == "LOCAL" and tags["mlflow.user"]
    assert "mlflow.source.name" in tags
    history = ml.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    listed = ml.list_artifacts(run.info.run_id, "models_pickle")
    assert [(f.path, f.file_size) for f in listed] == [("models_pickle/preprocessor.b", 8)]
    local = ml.download_artifacts(run.info.run_id, "models_pickle", str(tmp_path / "dl"))
    assert (Path(local) / "preprocessor.b").read_bytes() == b"\x00pickled"


def test_exception_in_block_marks_run_failed(ml: Client) -> None:
    with pytest.raises(RuntimeError), mlflow.start_run() as run:
        raise RuntimeError("boom")
    assert mlflow.get_run(run.info.run_id).info.status == "FAILED"
    assert mlflow.active_run() is None
    assert mlflow.last_active_run().info.run_id == run.info.run_id


def test_nested_runs_record_their_parent(ml: Client) -> None:
    with mlflow.start_run() as parent:
        with pytest.raises(InvalidParameter, match="nested=True"):
            mlflow.start_run()
        for trial in range(2):
            with mlflow.start_run(nested=True) as child:
                mlflow.log_param("trial", trial)
                assert mlflow.active_run().info.run_id == child.info.run_id
        assert mlflow.active_run().info.run_id == parent.info.run_id
    children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert len(children) == 2 and set(children["status"]) == {"FINISHED"}


def test_resume_run_by_id(ml: Client) -> None:
    with mlflow.start_run() as run:
        mlflow.log_param("a", 1)
    with mlflow.start_run(run_id=run.info.run_id):
        mlflow.log_metric("late", 2.0)
    resumed = mlflow.get_run(run.info.run_id)
    assert resumed.data.metrics == {"late": 2.0} and resumed.info.status == "FINISHED"


def test_bad_input_is_refused_and_nothing_half_written(ml: Client) -> None:
    with mlflow.start_run() as run:
        with pytest.raises(InvalidParameter, match="'rmse'"):
            mlflow.log_metric("rmse", "six")  # type: ignore[arg-type]
        with pytest.raises(InvalidParameter, match="'bad'"):
            mlflow.log_metrics({"good": 1.0, "bad": None})  # type: ignore[dict-item]
        with pytest.raises(InvalidParameter, match="metric name"):
            mlflow.log_metric("rmse?", 1.0)
        mlflow.log_param("alpha", 0.1)
        mlflow.log_param("alpha", 0.1)
        with pytest.raises(InvalidParameter):
            mlflow.log_param("alpha", 0.2)
    stored = mlflow.get_run(run.info.run_id)
    assert stored.data.metrics == {} and stored.data.params == {"alpha": "0.1"}
    with pytest.raises(NotFound):
        mlflow.get_run("0" * 32)


def test_search_runs_frame_filters_and_orders(ml: Client) -> None:
    mlflow.set_experiment("sweep")
    for rmse in (7.0, 6.5, 6.0):
        with mlflow.start_run():
            mlflow.log_metric("rmse", rmse)
            mlflow.log_param("model", "lasso")
    frame = mlflow.search_runs(filter_string="metrics.rmse < 6.8", order_by=["metrics.rmse ASC"])
    assert list(frame["metrics.rmse"]) == [6.0, 6.5]
    assert {
        "run_id",
        "experiment_id",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
        "params.model",
        "tags.mlflow.user",
    } <= set(frame.columns)
    assert str(frame["start_time"].dtype).startswith("datetime64")
    exp = mlflow.get_experiment_by_name("sweep")
    runs = ml.search_runs(
        experiment_ids=[exp.experiment_id],
        filter_string="metrics.rmse < 6.8",
        run_view_type=mlflow.ViewType.ACTIVE_ONLY,
        max_results=1,
        order_by=["metrics.rmse ASC"],
    )
    assert [r.data.metrics["rmse"] for r in runs] == [6.0] and runs.token
    assert [e.name for e in mlflow.search_experiments(filter_string="name = 'sweep'")] == ["sweep"]


def test_log_dict_text_figure_and_input(ml: Client, tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with mlflow.start_run() as run:
        mlflow.log_dict({"alpha": 0.1}, "config/params.json")
        mlflow.log_text("hello", "notes.txt")
        mlflow.log_figure(fig, "plots/curve.png")
        mlflow.log_input(pd.DataFrame({"a": np.arange(5.0)}), context="train")
    plt.close(fig)
    names = {f.path for f in ml.list_artifacts(run.info.run_id)}
    assert names == {"config", "notes.txt", "plots"}
    out = Path(ml.download_artifacts(run.info.run_id, "config/params.json", str(tmp_path)))
    assert out.read_text().replace(" ", "").replace("\n", "") == '{"alpha":0.1}'
    png = Path(ml.download_artifacts(run.info.run_id, "plots/curve.png", str(tmp_path)))
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_unknown_tracking_scheme_names_the_accepted_ones() -> None:
    with pytest.raises(InvalidParameter, match=r"http://.*sqlite:///"):
        mlflow.set_tracking_uri("ftp://example.com")


def test_bare_db_path_runs_embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    client = Client("project-experiments.db")
    experiment_id = client.create_experiment("local")
    run = client.create_run(experiment_id)
    client.log_text(run.info.run_id, "x", "a.txt")
    assert (tmp_path / "project-experiments.db").is_file()
    assert list((tmp_path / "mlartifacts").rglob("a.txt"))


def test_git_commit_read_from_dot_git(tmp_path: Path) -> None:
    repo = Path(__file__).resolve()
    expected = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo.parent, capture_output=True, text=True, check=False
    ).stdout.strip()
    if expected:
        assert git_commit(str(repo)) == expected
    assert git_commit(str(tmp_path)) is None
