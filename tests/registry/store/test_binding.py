"""One database per app: stores in one process never share a binding, a connection or a fork."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playhouse import db_url as peewee_db_url

from registry.client import Client
from registry.config import Config
from registry.server.app import create_app
from registry.store import close_database, open_database, use_database
from registry.store.models import Experiment, ModelVersion, RegisteredModel, RegisteredModelTag
from tests.factories import make_experiment
from tests.registry_factories import API, create_model, create_version

SEARCH = f"{API}/experiments/search"


def _experiment_names(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        return {name for (name,) in conn.execute("SELECT name FROM experiments")}


@dataclass
class Stores:
    """Two embedded clients (with their files) and two server apps, all in this process."""

    embedded: dict[str, Client]
    files: dict[str, Path]
    apps: dict[str, Flask]


@pytest.fixture
def stores(
    db_url: str, tmp_path: Path, sqlite_template: Path, artifact_root: Path
) -> Iterator[Stores]:
    """Embedded clients on two SQLite files, a server app on a third, one on each engine."""
    files = {"embedded-a": tmp_path / "a.db", "embedded-b": tmp_path / "b.db"}
    embedded = {label: Client(f"sqlite:///{path}") for label, path in files.items()}
    other = tmp_path / "other.db"
    shutil.copy(sqlite_template, other)
    # Built last, the db_url app is the process default its fixture's clean-up relies on.
    apps = {
        "server-1": create_app(
            Config(database_url=f"sqlite:///{other}", artifact_root=str(artifact_root))
        ),
        "server-2": create_app(Config(database_url=db_url, artifact_root=str(artifact_root))),
    }
    yield Stores(embedded, files, apps)
    for app in apps.values():
        close_database(app.extensions["registry"].database)


def test_two_embedded_stores_and_two_server_apps_interleaved_on_threads(stores: Stores) -> None:
    embedded, apps = stores.embedded, stores.apps

    def create(task: tuple[str, int]) -> None:
        label, i = task
        if label in embedded:
            embedded[label].create_experiment(f"{label}-{i}")
            return
        body = {"name": f"{label}-{i}"}
        response = apps[label].test_client().post(f"{API}/experiments/create", json=body)
        assert response.status_code == 200, response.json

    tasks = [(label, i) for i in range(10) for label in (*embedded, *apps)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(create, tasks))

    def expected(label: str) -> set[str]:
        return {"Default", *(f"{label}-{i}" for i in range(10))}

    for label, client in embedded.items():
        assert {e.name for e in client.search_experiments()} == expected(label)
        assert _experiment_names(stores.files[label]) == expected(label)
    for label, app in apps.items():
        reply = app.test_client().post(SEARCH, json={"max_results": 100}).json
        assert {e["name"] for e in reply["experiments"]} == expected(label)


def test_use_database_binds_one_thread_only(tmp_path: Path, sqlite_template: Path) -> None:
    paths = [tmp_path / "one.db", tmp_path / "two.db"]
    databases = []
    for path in paths:
        shutil.copy(sqlite_template, path)
        databases.append(open_database(f"sqlite:///{path}"))
    seen: dict[str, list[str]] = {}
    barrier = threading.Barrier(2)

    def work(database: Any, name: str) -> None:
        with use_database(database), database.connection_context():
            make_experiment(name=name)
            barrier.wait(timeout=10)  # both bindings are live at once
            seen[name] = [e.name for e in Experiment.select().order_by(Experiment.name)]

    threads = [
        threading.Thread(target=work, args=(database, name))
        for database, name in zip(databases, ("one", "two"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for database in databases:
        close_database(database)
    assert seen == {"one": ["Default", "one"], "two": ["Default", "two"]}


def _open_descriptors_on(path: Path) -> list[str]:
    fd_dir = Path("/proc/self/fd")
    targets = []
    for entry in fd_dir.iterdir():
        try:
            targets.append(os.readlink(entry))
        except OSError:
            continue
    return [t for t in targets if t.startswith(str(path))]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_no_pooled_connection_crosses_a_fork(sqlite_url: str) -> None:
    path = Path(sqlite_url[len("sqlite:///") :])
    database = open_database(sqlite_url)
    with use_database(database), database.connection_context():
        Experiment.select().count()  # the connection goes back to the pool, still open
    assert _open_descriptors_on(path)

    pid = os.fork()
    if pid == 0:  # the child: inherits nothing, then opens its own connection
        code = 1
        try:
            inherited = _open_descriptors_on(path)
            with use_database(database), database.connection_context():
                count = Experiment.select().count()
            code = 0 if not inherited and count == 1 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with use_database(database), database.connection_context():
        assert Experiment.select().count() == 1  # the parent reconnects as needed
    close_database(database)


def _waiting_for_a_lock(database: Any, engine: str) -> int:
    if engine == "postgres":
        sql = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
    else:  # MariaDB's INNODB_TRX lags; the request's statement in the process list is waiting
        sql = (
            "SELECT count(*) FROM information_schema.PROCESSLIST"
            " WHERE DB = DATABASE() AND INFO LIKE 'UPDATE `model_versions`%%'"
        )
    return int(database.execute_sql(sql).fetchone()[0])


def _deadlocks(database: Any, engine: str) -> int:
    if engine == "postgres":
        sql = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
    else:
        sql = "SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'"
    return int(database.execute_sql(sql).fetchone()[-1])


def test_a_deadlock_victim_request_is_run_again_and_succeeds(db_url: str, app: Flask) -> None:
    engine = "postgres" if db_url.startswith("postgres") else db_url.split(":")[0]
    if engine == "sqlite":
        pytest.skip("SQLite writers queue on BEGIN IMMEDIATE: no deadlocks to retry")
    client = app.test_client()
    create_model(client, "m1")
    create_version(client, "m1")
    create_model(client, "ballast")
    other = peewee_db_url.connect(db_url)  # the test's own connection, outside the app
    replies: list[Any] = []
    body = {"name": "m1", "version": "1", "stage": "Staging"}
    request = threading.Thread(
        target=lambda: replies.append(
            client.post(f"{API}/model-versions/transition-stage", json=body)
        )
    )
    with use_database(other), other.connection_context():
        deadlocks_before = _deadlocks(other, engine)
    with use_database(other), other.connection_context(), other.atomic():
        model = RegisteredModel.get(RegisteredModel.name == "m1")
        ModelVersion.update(description="held").where(
            ModelVersion.registered_model == model
        ).execute()
        # Enough written rows that InnoDB picks the request (the smaller transaction) as the
        # victim; PostgreSQL's victim is the first waiter, the request, anyway.
        ballast = RegisteredModel.get(RegisteredModel.name == "ballast")
        RegisteredModelTag.insert_many(
            [{"registered_model": ballast, "key": f"b-{i}", "value": "v"} for i in range(30)]
        ).execute()
        request.start()  # locks the model row, then waits for the version row
        deadline = time.monotonic() + 20
        while _waiting_for_a_lock(other, engine) == 0:
            assert time.monotonic() < deadline, "the request never waited for the lock"
            time.sleep(0.05)
        # The cycle: the database aborts the request's transaction and this lock is granted.
        RegisteredModel.select().where(RegisteredModel.id == model.id).for_update().get()
    request.join(timeout=30)
    deadline = time.monotonic() + 10  # PostgreSQL publishes its statistics with a delay
    while _deadlocks(other, engine) == deadlocks_before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _deadlocks(other, engine) > deadlocks_before, "no deadlock happened: nothing retried"
    other.close()

    assert replies and replies[0].status_code == 200, replies and replies[0].json
    assert replies[0].json["model_version"]["current_stage"] == "Staging"
    version = client.get(f"{API}/model-versions/get", query_string={"name": "m1", "version": "1"})
    assert version.json["model_version"]["description"] == "held"
