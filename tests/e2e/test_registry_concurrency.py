"""Two real server processes on one database, eight threads registering and promoting at once."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests import databases
from tests.servers import registry_server

pytestmark = pytest.mark.e2e

API = "/api/2.0/mlflow"
OURS = "/api/2.0/modelyard"
THREADS = 8
PER_THREAD = 5
NAME = "contended"


def _production_holders(client: httpx.Client) -> list[str]:
    query = {"filter": f"name = '{NAME}'", "max_results": 1000}
    response = client.get(f"{API}/model-versions/search", params=query)
    assert response.status_code == 200, response.text
    versions = response.json().get("model_versions", [])
    return [v["version"] for v in versions if v["current_stage"] == "Production"]


@pytest.mark.parametrize("engine", ["postgres", "sqlite"])
def test_two_replicas_promoting_concurrently_keep_one_production_holder(tmp_path, engine):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        databases.migrated_database(engine, tmp_path) as url,
        registry_server(tmp_path / "a", database_url=url) as first,
        registry_server(tmp_path / "b", database_url=url) as second,
    ):
        _contend(first, second)


def _contend(first: str, second: str) -> None:
    with httpx.Client(base_url=first, timeout=60) as setup:
        body = {"name": NAME, "exclusive_stages": True}
        assert setup.post(f"{API}/registered-models/create", json=body).status_code == 200

    statuses: Counter[int] = Counter()
    promoted: list[str] = []
    observed_max = 0
    stop = threading.Event()
    lock = threading.Lock()

    def worker(index: int) -> None:
        base = first if index % 2 else second
        with httpx.Client(base_url=base, timeout=60) as client:
            for _ in range(PER_THREAD):
                created = client.post(
                    f"{API}/model-versions/create",
                    json={"name": NAME, "source": "runs:/abc/model"},
                )
                with lock:
                    statuses[created.status_code] += 1
                if created.status_code != 200:
                    continue
                version = created.json()["model_version"]["version"]
                moved = client.post(
                    f"{API}/model-versions/transition-stage",
                    json={"name": NAME, "version": version, "stage": "Production"},
                    headers={"X-Modelyard-User": f"t{index}"},
                )
                with lock:
                    statuses[moved.status_code] += 1
                    if moved.status_code == 200:
                        promoted.append(version)

    def observer() -> None:
        nonlocal observed_max
        with httpx.Client(base_url=first, timeout=60) as client:
            while not stop.is_set():
                observed_max = max(observed_max, len(_production_holders(client)))

    watcher = threading.Thread(target=observer)
    watcher.start()
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(worker, range(THREADS)))
    finally:
        stop.set()
        watcher.join()

    total = THREADS * PER_THREAD
    assert statuses == Counter({200: 2 * total})
    assert observed_max <= 1
    with httpx.Client(base_url=second, timeout=60) as client:
        response = client.get(f"{API}/model-versions/search", params={"filter": f"name = '{NAME}'"})
        numbers = sorted(int(v["version"]) for v in response.json()["model_versions"])
        assert numbers == list(range(1, total + 1))
        assert len(_production_holders(client)) == 1
        history = client.get(
            f"{OURS}/registered-models/history", params={"name": NAME, "max_results": 1000}
        ).json()["transitions"]
    into_production = [e["version"] for e in history if e["to"] == "Production"]
    assert sorted(into_production) == sorted(promoted)
    assert len(promoted) == total
