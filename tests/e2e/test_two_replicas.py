"""Two ``modelyard server`` replicas on one PostgreSQL and one artifact root: one truth."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import databases
from tests.servers import registry_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]
API = "/api/2.0/mlflow"


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    artifacts = str(tmp_path / "shared-artifacts")
    with (
        databases.migrated_database("postgres", tmp_path) as url,
        registry_server(tmp_path / "a", database_url=url, artifact_root=artifacts) as a,
        registry_server(tmp_path / "b", database_url=url, artifact_root=artifacts) as b,
        httpx.Client(base_url=a, timeout=30) as left,
        httpx.Client(base_url=b, timeout=30) as right,
    ):
        yield left, right


@pytest.fixture(autouse=True)
def _replica_dirs(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json() if response.content else {}


def test_a_client_alternating_between_replicas_sees_every_write(
    replicas: tuple[httpx.Client, httpx.Client],
) -> None:
    servers = itertools.cycle(replicas)
    exp_id = _ok(next(servers).post(f"{API}/experiments/create", json={"name": "shared"}))[
        "experiment_id"
    ]
    assert (
        _ok(next(servers).get(f"{API}/experiments/get", params={"experiment_id": exp_id}))[
            "experiment"
        ]["name"]
        == "shared"
    )
    run = _ok(
        next(servers).post(f"{API}/runs/create", json={"experiment_id": exp_id, "start_time": 1})
    )["run"]
    run_id = run["info"]["run_id"]
    for step in range(10):
        _ok(
            next(servers).post(
                f"{API}/runs/log-metric",
                json={
                    "run_id": run_id,
                    "key": "loss",
                    "value": 1.0 / (step + 1),
                    "timestamp": 1000 + step,
                    "step": step,
                },
            )
        )
        history = _ok(
            next(servers).get(
                f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"}
            )
        )
        assert len(history["metrics"]) == step + 1
    _ok(
        next(servers).post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "k", "value": "v"})
    )
    tags = _ok(next(servers).get(f"{API}/runs/get", params={"run_id": run_id}))["run"]["data"][
        "tags"
    ]
    assert {"key": "k", "value": "v"} in tags

    path = f"/api/2.0/mlflow-artifacts/artifacts/{exp_id}/{run_id}/artifacts/hello.txt"
    _ok(next(servers).put(path, content=b"written on one replica"))
    assert next(servers).get(path).content == b"written on one replica"

    _ok(next(servers).post(f"{API}/registered-models/create", json={"name": "shared-model"}))
    source = f"runs:/{run_id}/model"
    version = _ok(
        next(servers).post(
            f"{API}/model-versions/create",
            json={"name": "shared-model", "source": source, "run_id": run_id},
        )
    )["model_version"]["version"]
    _ok(
        next(servers).post(
            f"{API}/model-versions/transition-stage",
            json={
                "name": "shared-model",
                "version": version,
                "stage": "Production",
                "archive_existing_versions": True,
            },
        )
    )
    latest = _ok(
        next(servers).post(
            f"{API}/registered-models/get-latest-versions",
            json={"name": "shared-model", "stages": ["Production"]},
        )
    )
    assert [v["version"] for v in latest["model_versions"]] == [version]


def test_concurrent_registrations_through_both_replicas_stay_consistent(
    replicas: tuple[httpx.Client, httpx.Client],
) -> None:
    left, right = replicas
    _ok(left.post(f"{API}/registered-models/create", json={"name": "busy"}))
    statuses: list[int] = []
    lock = threading.Lock()

    def register(client: httpx.Client) -> None:
        for _ in range(10):
            response = client.post(
                f"{API}/model-versions/create",
                json={"name": "busy", "source": "mlflow-artifacts:/0/x/artifacts/model"},
            )
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=register, args=(c,)) for c in (left, right, left, right)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert time.monotonic() - started < 120
    assert statuses == [200] * 40
    versions = _ok(
        right.get(
            f"{API}/model-versions/search", params={"filter": "name='busy'", "max_results": 1000}
        )
    )
    numbers = sorted(int(v["version"]) for v in versions["model_versions"])
    assert numbers == list(range(1, 41))
