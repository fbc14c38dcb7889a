"""Where an import puts each artifact tree and what URI it stores for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry.importers.uris import COPY, KEEP, Location, UriMapper

EXPERIMENTS = [
    (0, "/srv/mlruns/0"),
    (1, "mlflow-artifacts:/1"),
    (2, "s3://bucket/team/2"),
    (3, "file:///srv/other-root/3"),
]


@pytest.mark.parametrize(
    ("source", "stored"),
    [
        ("mlflow-artifacts:/1/abc/artifacts", "mlflow-artifacts:/1/abc/artifacts"),
        ("mlflow-artifacts://mlflow.example:5000/1/abc", "mlflow-artifacts:/1/abc"),
        ("/srv/mlruns/0/abc/artifacts", "mlflow-artifacts:/0/abc/artifacts"),
        ("file:///srv/mlruns/0/abc/artifacts", "mlflow-artifacts:/0/abc/artifacts"),
        ("s3://bucket/team/2/models/m-1/artifacts", "mlflow-artifacts:/2/models/m-1/artifacts"),
        ("file:///srv/other-root/3/r/artifacts", "mlflow-artifacts:/3/r/artifacts"),
        ("s3://elsewhere/x/model", "mlflow-artifacts:/imported/s3/elsewhere/x/model"),
        ("/data/loose/model", "mlflow-artifacts:/imported/file/data/loose/model"),
        ("gs://bucket/model", "gs://bucket/model"),
    ],
)
def test_copy_stores_uris_the_modelyard_server_serves(source: str, stored: str) -> None:
    assert UriMapper(COPY, EXPERIMENTS).target_uri(source) == stored


def test_an_experiment_id_already_used_as_a_proxy_path_is_not_reused() -> None:
    mapper = UriMapper(COPY, [(1, "mlflow-artifacts:/5"), (5, "/srv/mlruns/5")])

    assert mapper.target_uri("/srv/mlruns/5/run") == "mlflow-artifacts:/imported/5/run"
    assert mapper.target_uri("mlflow-artifacts:/5/run") == "mlflow-artifacts:/5/run"


def test_keep_stores_every_uri_unchanged() -> None:
    mapper = UriMapper(KEEP, EXPERIMENTS)

    for uri in ("mlflow-artifacts:/1/a", "/srv/mlruns/0/a", "s3://bucket/team/2/a"):
        assert mapper.target_uri(uri) == uri


def test_proxy_uris_are_read_from_the_artifacts_destination(tmp_path: Path) -> None:
    on_disk = UriMapper(COPY, EXPERIMENTS, from_artifacts=str(tmp_path))
    on_s3 = UriMapper(COPY, EXPERIMENTS, from_artifacts="s3://bucket/mlartifacts/")
    unknown = UriMapper(COPY, EXPERIMENTS)

    assert on_disk.source_location("mlflow-artifacts:/1/r") == Location(f"{tmp_path.as_uri()}/1/r")
    assert on_s3.source_location("mlflow-artifacts:/1/r") == Location("s3://bucket/mlartifacts/1/r")
    assert unknown.source_location("mlflow-artifacts:/1/r") is None
    assert unknown.source_location("gs://bucket/model") is None
