"""A metric point belongs to a run that exists, on every engine.

SQLite and MySQL keep the metrics' foreign key to their run; PostgreSQL checks it once a
statement with triggers (migration 16). The guarantee is the same however the engine keeps it,
with one difference in how it says so: MySQL's ``INSERT IGNORE`` (which stores an identical point
once) also drops, with a warning, a row whose run does not exist, where the others refuse the
statement.
"""

from __future__ import annotations

import peewee as pw
import psycopg2
import pytest

from registry.store import bulk, close_database, db, engine_name, open_database, write_transaction
from registry.store import metrics as store
from registry.store.metrics import MetricPoint
from registry.store.models import Experiment, LatestMetric, Metric, Param, Run, RunTag
from tests import databases
from tests.factories import make_experiment, make_run

NO_SUCH_RUN = "0" * 32


def _points(count: int) -> list[MetricPoint]:
    return [MetricPoint(f"k{i % 3}", float(i), 1, i) for i in range(count)]


_COLUMNS = ("run", "key", "value", "value_kind", "timestamp", "step")


def _rows(run_id: str, count: int) -> list[tuple[object, ...]]:
    return [(run_id, f"k{i % 3}", float(i), 0, 1, i) for i in range(count)]


def _stored(run_id: str) -> int:
    return int(Metric.select().where(Metric.run == run_id).count())


@pytest.mark.parametrize("count", [1, bulk.UNNEST_MIN_ROWS * 2], ids=["one point", "large batch"])
def test_points_of_a_run_that_does_not_exist_are_refused_and_nothing_is_stored(
    bound: None, count: int
) -> None:
    make_run(metrics={"m": 1.0})  # the table is not empty: the check is not vacuous
    before = Metric.select().count()
    try:
        with write_transaction():
            # The points alone, without their latest values (whose own key would refuse them).
            bulk.insert_rows(Metric, _COLUMNS, _rows(NO_SUCH_RUN, count))
    except pw.IntegrityError:
        refused = True
    else:
        refused = False
    assert Metric.select().count() == before
    assert refused or engine_name() == "mysql"


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_a_batch_naming_one_missing_run_among_existing_ones_is_refused_whole(bound: None) -> None:
    run = make_run()
    rows = _rows(run.run_uuid, 5) + _rows(NO_SUCH_RUN, 1)
    with pytest.raises(pw.IntegrityError), write_transaction():
        bulk.insert_rows(Metric, _COLUMNS, rows)
    assert _stored(run.run_uuid) == 0


def test_moving_points_to_a_run_that_does_not_exist_is_refused(bound: None) -> None:
    run = make_run(metrics={"m": 1.0})
    with pytest.raises(pw.IntegrityError), write_transaction():
        Metric.update(run=NO_SUCH_RUN).where(Metric.run == run.run_uuid).execute()
    assert _stored(run.run_uuid) == 1


def test_deleting_runs_deletes_their_points_and_no_others(bound: None) -> None:
    experiment = make_experiment()
    gone = [make_run(experiment, metrics={"a": 1.0, "b": 2.0}) for _ in range(2)]
    kept = make_run(experiment, metrics={"a": 3.0})
    with write_transaction():
        store.insert_points(gone[0].run_uuid, experiment.experiment_id, _points(50))
        Run.delete().where(Run.run_uuid.in_([r.run_uuid for r in gone])).execute()
    assert [_stored(r.run_uuid) for r in gone] == [0, 0]
    assert _stored(kept.run_uuid) == 1
    assert LatestMetric.select().where(LatestMetric.run == kept.run_uuid).count() == 1


def test_deleting_an_experiment_deletes_the_points_of_its_runs(bound: None) -> None:
    experiment = make_experiment()
    run = make_run(experiment, metrics={"a": 1.0})
    other = make_run(metrics={"a": 1.0})
    with write_transaction():
        Experiment.delete().where(Experiment.experiment_id == experiment.experiment_id).execute()
    assert _stored(run.run_uuid) == 0
    assert _stored(other.run_uuid) == 1


def test_a_run_with_points_keeps_its_id(bound: None) -> None:
    run = make_run(metrics={"a": 1.0})
    with write_transaction():  # only its points are left to hold the run to its id
        for model in (RunTag, Param, LatestMetric):
            model.delete().where(model.run == run.run_uuid).execute()
    with pytest.raises(pw.IntegrityError), write_transaction():
        Run.update(run_uuid="1" * 32).where(Run.run_uuid == run.run_uuid).execute()
    assert _stored(run.run_uuid) == 1
    with write_transaction():  # without them, nothing would be left behind
        Metric.delete().where(Metric.run == run.run_uuid).execute()
        Run.update(run_uuid="1" * 32).where(Run.run_uuid == run.run_uuid).execute()
    assert Run.select().where(Run.run_uuid == "1" * 32).count() == 1


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_run_being_logged_to_cannot_be_deleted_until_the_points_commit(
    bound: None, db_url: str
) -> None:
    run = make_run()
    with write_transaction():  # nothing else of the run's holds it: only its points will
        for model in (RunTag, Param, LatestMetric):
            model.delete().where(model.run == run.run_uuid).execute()
    other = psycopg2.connect(db_url)
    try:
        cursor = other.cursor()
        cursor.execute("SET lock_timeout = '100ms'")
        with db.atomic():
            bulk.insert_rows(Metric, _COLUMNS, _rows(run.run_uuid, 10))
            with pytest.raises(psycopg2.errors.LockNotAvailable):
                cursor.execute("DELETE FROM runs WHERE run_uuid = %s", (run.run_uuid,))
            other.rollback()
        cursor.execute("DELETE FROM runs WHERE run_uuid = %s", (run.run_uuid,))
        other.commit()
    finally:
        other.close()
    assert _stored(run.run_uuid) == 0


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_points_wait_for_a_delete_of_their_run_and_are_refused_once_it_commits(
    bound: None, db_url: str
) -> None:
    run = make_run()
    other = psycopg2.connect(db_url)
    try:
        other.cursor().execute("DELETE FROM runs WHERE run_uuid = %s", (run.run_uuid,))
        with pytest.raises(pw.OperationalError, match="lock timeout"), db.atomic():
            db.execute_sql("SET LOCAL lock_timeout = '100ms'")
            bulk.insert_rows(Metric, _COLUMNS, _rows(run.run_uuid, 10))
        other.commit()
    finally:
        other.close()
    with pytest.raises(pw.IntegrityError), db.atomic():
        bulk.insert_rows(Metric, _COLUMNS, _rows(run.run_uuid, 10))
    assert _stored(run.run_uuid) == 0


def test_server_connections_to_postgresql_read_committed_whatever_the_database_default() -> None:
    try:
        context = databases.throwaway_database("postgres")
        url = context.__enter__()
    except Exception as err:
        databases.unavailable("postgres", err)
    try:
        admin = psycopg2.connect(url)
        admin.autocommit = True
        name = url.rsplit("/", 1)[1]
        admin.cursor().execute(
            f"ALTER DATABASE \"{name}\" SET default_transaction_isolation = 'repeatable read'"
        )
        admin.close()
        database = open_database(url, statement_timeout_ms=5000)
        try:
            with database.connection_context():
                isolation = database.execute_sql("SHOW transaction_isolation").fetchone()
                timeout = database.execute_sql("SHOW statement_timeout").fetchone()
        finally:
            close_database(database)
    finally:
        context.__exit__(None, None, None)
    assert isolation == ("read committed",)
    assert timeout == ("5s",)  # the other startup option is kept
