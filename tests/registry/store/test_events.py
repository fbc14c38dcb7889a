"""The event store: appended in the change's transaction, read back in order, on every engine."""

from __future__ import annotations

import threading

import pytest

from registry.store import db, write_transaction
from registry.store.events import events_after, latest_event_id, record_event
from registry.store.imports.registry import import_aliases
from registry.store.model_versions import create_model_version
from registry.store.models import RegisteredModelTag
from registry.store.registered_models import create_registered_model, lock_registered_model

pytestmark = pytest.mark.usefixtures("bound")


def _record(model: str, version: int | None = None, **data: object) -> int:
    with write_transaction():
        return record_event(
            entity="model_version",
            action="created",
            model_name=model,
            version=version,
            data={"name": model, **data},
            user_id="alice",
        )


def test_events_read_back_in_order_with_their_fields() -> None:
    assert latest_event_id() == 0
    first = _record("fraud", 1, source="models:/m-1")
    second = _record("churn")
    third = _record("fraud", 2)

    assert first < second < third == latest_event_id()
    rows = events_after(0)
    assert [row.id for row in rows] == [first, second, third]
    row = rows[0]
    assert (row.entity, row.action, row.event_type) == (
        "model_version",
        "created",
        "model_version.created",
    )
    assert (row.model_name, row.version, row.user_id) == ("fraud", 1, "alice")
    assert row.data == {"name": "fraud", "source": "models:/m-1"}
    assert row.timestamp > 0
    assert [r.id for r in events_after(first)] == [second, third]
    assert [r.id for r in events_after(0, model_name="fraud")] == [first, third]
    assert [r.id for r in events_after(0, limit=2)] == [first, second]
    assert events_after(third) == []


def test_a_change_that_rolls_back_leaves_no_event_and_no_gap() -> None:
    before = _record("fraud")
    with pytest.raises(RuntimeError), write_transaction():
        record_event(entity="registered_model", action="deleted", model_name="fraud", data={})
        raise RuntimeError("the change failed")
    after = _record("fraud")

    assert [row.id for row in events_after(0)] == [before, after]
    assert after == before + 1


def test_concurrent_writers_get_dense_ids_in_commit_order(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer orders commits already")
    # Writer A takes an id and holds its transaction open; writer B must wait for A's commit,
    # so B's id is higher than A's and a reader never sees B's event before A's.
    database = db.obj
    a_recorded = threading.Event()
    release_a = threading.Event()
    ids: dict[str, int] = {}

    def writer_a() -> None:
        with database.connection_context(), write_transaction():
            ids["a"] = record_event(entity="x", action="a", model_name="m1", data={})
            a_recorded.set()
            release_a.wait(30)

    thread = threading.Thread(target=writer_a)
    thread.start()
    assert a_recorded.wait(30)
    seen_while_a_open: list[int] = []

    def writer_b() -> None:
        with database.connection_context(), write_transaction():
            ids["b"] = record_event(entity="x", action="b", model_name="m2", data={})

    other = threading.Thread(target=writer_b)
    other.start()
    other.join(0.5)
    seen_while_a_open.extend(row.id for row in events_after(0))
    release_a.set()
    thread.join(30)
    other.join(30)

    assert seen_while_a_open == []
    assert ids["b"] == ids["a"] + 1
    assert [row.action for row in events_after(0)] == ["a", "b"]


def _someone_waits_for_a_lock(db_url: str) -> bool:
    if db_url.startswith("postgres"):
        query = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
    else:
        # Only this test's database: the other xdist worker's tests share the server. MariaDB
        # takes the row lock of a unique-key FOR UPDATE while it plans the query: the waiting
        # statement sits in the "Statistics" state and its transaction is not listed in
        # innodb_trx. 50 ms there is a wait (the lookup alone takes microseconds). time_ms is
        # MariaDB's (MySQL 8 has no such column).
        query = (
            "SELECT count(*) FROM information_schema.processlist p"
            " LEFT JOIN information_schema.innodb_trx t ON t.trx_mysql_thread_id = p.id"
            " WHERE p.db = DATABASE() AND p.id != CONNECTION_ID() AND p.command = 'Query'"
            " AND (t.trx_state = 'LOCK WAIT' OR (p.info LIKE %s AND p.time_ms > 50))"
        )
        return bool(db.obj.execute_sql(query, ("%FOR UPDATE%",)).fetchone()[0])
    return bool(db.obj.execute_sql(query).fetchone()[0])


def test_an_import_locks_the_model_before_the_event_sequence(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite's single writer takes no row locks")
    # A writer (another import) holds a shared lock on the model's row, from a row referring
    # to it, and then records its event; an import of the model's aliases meanwhile must wait
    # for the model row while holding nothing, or the two deadlock.
    model = create_registered_model("m1")
    with write_transaction():
        create_model_version(lock_registered_model("m1"), source="s3://bucket/m1")
    database = db.obj
    holding = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with database.connection_context(), write_transaction():
                RegisteredModelTag.create(registered_model=model.id, key="k", value="v")
                holding.set()
                release.wait(30)
                record_event(entity="x", action="writer", model_name="m1", data={})
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    def importer() -> None:
        try:
            with database.connection_context():
                import_aliases("m1", {"champion": 1}, 1)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=writer)]
    threads[0].start()
    assert holding.wait(30)
    threads.append(threading.Thread(target=importer))
    threads[1].start()
    while threads[1].is_alive() and not _someone_waits_for_a_lock(db_url):  # blocked by the writer
        threads[1].join(0.02)
    release.set()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert [row.action for row in events_after(0)][-2:] == ["writer", "created"]
