"""A write and its audit row commit or roll back together, on every engine.

The database itself is made to refuse a row (a trigger, the way a full disk or a constraint
would) so the tests see what one transaction holds: if the audit row were written in a
transaction of its own, refusing it could not undo the write, nor the reverse.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.store import audit as audit_store
from registry.store import db, use_database, write_transaction
from registry.store.auth import get_user
from registry.store.auth_models import AuditEntry
from registry.store.experiments import create_experiment, get_experiment_by_name
from registry.store.models import MetricHistory, RunTag
from registry.store.permissions import experiment_id_by_name, experiment_permission

API = "/api/2.0/mlflow"


def _engine(app: Flask) -> str:
    return str(app.extensions["registry"].config.database_url).split(":", 1)[0]


_TRIGGERS = {
    "sqlite": [
        "CREATE TRIGGER refuse_row BEFORE INSERT ON {table} WHEN {condition} "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_row() RETURNS trigger AS $$ BEGIN IF {condition} THEN "
        "RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_row BEFORE INSERT ON {table} FOR EACH ROW "
        "EXECUTE FUNCTION refuse_row()",
    ],
    "mysql": [
        "CREATE TRIGGER refuse_row BEFORE INSERT ON {table} FOR EACH ROW BEGIN IF {condition} "
        "THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; END IF; END"
    ],
}
_DROPS = {
    "sqlite": ["DROP TRIGGER refuse_row"],
    "postgresql": ["DROP TRIGGER refuse_row ON {table}", "DROP FUNCTION refuse_row()"],
    "mysql": ["DROP TRIGGER refuse_row"],
}


@contextmanager
def refused(app: Flask, table: str, condition: str) -> Iterator[None]:
    """The database refuses new rows of ``table`` matching ``condition`` (in NEW.column terms)."""
    engine = _engine(app)
    with use_database(app.extensions["registry"].database), db.connection_context():
        for sql in _TRIGGERS[engine]:
            db.execute_sql(sql.format(table=table, condition=condition))
    try:
        yield
    finally:
        with use_database(app.extensions["registry"].database), db.connection_context():
            for sql in _DROPS[engine]:
                db.execute_sql(sql.format(table=table))


def rows(app: Flask) -> list[tuple[str, str, str, int]]:
    """Every audit row as (username, action, object_id, status), oldest first."""
    with use_database(app.extensions["registry"].database), db.connection_context():
        query = AuditEntry.select(
            AuditEntry.username, AuditEntry.action, AuditEntry.object_id, AuditEntry.status
        ).order_by(AuditEntry.id)
        return [tuple(row) for row in query.tuples()]


def count(app: Flask, query: Any) -> int:
    with use_database(app.extensions["registry"].database), db.connection_context():
        return int(query.count())


def _run(admin: FlaskClient) -> str:
    experiment = admin.post(f"{API}/experiments/create", json={"name": "e"}).get_json()
    run = admin.post(f"{API}/runs/create", json={"experiment_id": experiment["experiment_id"]})
    return str(run.get_json()["run"]["info"]["run_id"])


def test_a_write_lands_with_its_audit_row(auth_app: Flask, admin: FlaskClient) -> None:
    run_id = _run(admin)
    logged = admin.post(
        f"{API}/runs/log-metric",
        json={"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0},
    )
    assert logged.status_code == 200
    assert count(auth_app, MetricHistory.select().where(MetricHistory.run == run_id)) == 1
    assert rows(auth_app)[-1] == ("admin", "api_metrics.log_metric", run_id, 200)


def test_a_refused_audit_row_undoes_the_write(auth_app: Flask, admin: FlaskClient) -> None:
    run_id = _run(admin)
    body = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0}
    # Only the row written inside the view's transaction (the assumed 200) is refused.
    with refused(
        auth_app, "audit_log", "NEW.action = 'api_metrics.log_metric' AND NEW.status = 200"
    ):
        failed = admin.post(f"{API}/runs/log-metric", json=body)
    assert failed.status_code >= 400
    assert count(auth_app, MetricHistory.select().where(MetricHistory.run == run_id)) == 0
    # The failed attempt is still on record, with the status it was answered.
    assert rows(auth_app)[-1] == ("admin", "api_metrics.log_metric", run_id, failed.status_code)


def test_a_view_failing_after_its_write_leaves_neither(auth_app: Flask, admin: FlaskClient) -> None:
    run_id = _run(admin)
    before = rows(auth_app)
    body = {
        "run_id": run_id,
        "tags": [{"key": "written", "value": "first"}],
        "metrics": [{"key": "boom", "value": 1.0, "timestamp": 1, "step": 0}],
    }
    # log-batch writes the tag, then the database refuses the metric: one transaction undone.
    with refused(auth_app, "metrics", "NEW.key = 'boom'"):
        failed = admin.post(f"{API}/runs/log-batch", json=body)
    assert failed.status_code >= 400
    assert (
        count(auth_app, RunTag.select().where(RunTag.run == run_id, RunTag.key == "written")) == 0
    )
    after = rows(auth_app)[len(before) :]
    assert after == [("admin", "api_runs.log_batch", run_id, failed.status_code)]


def test_a_create_its_grant_and_its_row_share_one_commit(
    auth_app: Flask, admin: FlaskClient, make_user: Any
) -> None:
    headers = make_user(auth_app, "ana")
    client = auth_app.test_client()
    created = client.post(f"{API}/experiments/create", json={"name": "ana's"}, headers=headers)
    experiment_id = created.get_json()["experiment_id"]
    assert rows(auth_app)[-1] == ("ana", "api_experiments.create", experiment_id, 200)
    with use_database(auth_app.extensions["registry"].database), db.connection_context():
        assert experiment_permission(_user_id("ana"), int(experiment_id)) == "MANAGE"
    # The grant is refused by the database: the create is undone with it, row and all.
    with refused(auth_app, "experiment_permissions", "NEW.permission = 'MANAGE'"):
        failed = client.post(f"{API}/experiments/create", json={"name": "lost"}, headers=headers)
    assert failed.status_code >= 400
    with use_database(auth_app.extensions["registry"].database), db.connection_context():
        assert experiment_id_by_name("lost") is None
    assert rows(auth_app)[-1] == ("ana", "api_experiments.create", "", failed.status_code)


def _user_id(username: str) -> int:
    return int(get_user(username).id)


@pytest.fixture
def bound(auth_app: Flask) -> Iterator[None]:
    with use_database(auth_app.extensions["registry"].database):
        yield


def _pending(action: str = "test.write") -> audit_store.PendingAudit:
    return audit_store.PendingAudit(
        audit_store.AuditRecord(username="ana", action=action, method="POST", path="/x")
    )


def test_the_row_is_appended_once_by_the_first_commit(auth_app: Flask, bound: None) -> None:
    pending = _pending()
    token = audit_store.arm(pending)
    try:
        create_experiment("one")
        create_experiment("two")
        audit_store.settle(pending, 200)
    finally:
        audit_store.disarm(token)
    assert [r[1] for r in rows(auth_app)] == ["test.write"]
    assert get_experiment_by_name("two") is not None


def test_a_rolled_back_transaction_takes_its_row_along(auth_app: Flask, bound: None) -> None:
    pending = _pending()
    token = audit_store.arm(pending)
    try:
        with pytest.raises(RuntimeError), write_transaction():
            create_experiment("undone")
            raise RuntimeError("the view failed after writing")
        assert rows(auth_app) == []
        assert experiment_id_by_name("undone") is None
        audit_store.settle(pending, 500)  # nothing committed it: appended on its own
    finally:
        audit_store.disarm(token)
    assert rows(auth_app) == [("ana", "test.write", "", 500)]


def test_a_committed_row_gets_the_status_the_request_was_answered(
    auth_app: Flask, bound: None
) -> None:
    pending = _pending()
    token = audit_store.arm(pending)
    try:
        create_experiment("kept")
        audit_store.settle(pending, 500)  # e.g. a later step of the view failed
        create_experiment("after")  # settled: no second row
    finally:
        audit_store.disarm(token)
    assert rows(auth_app) == [("ana", "test.write", "", 500)]
