"""Migrations: idempotent, and data written on the first schema survives every later one."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import peewee as pw
import pytest

from registry.store import db, open_database
from registry.store import models as live
from registry.store.migrate import (
    LATEST_VERSION,
    MIGRATIONS,
    SchemaOutOfDate,
    check_schema,
    current_version,
    downgrade,
    upgrade,
)
from registry.store.migrations import m0001_initial as v1
from tests import databases


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    try:
        context = databases.throwaway_database(request.param)
        url = context.__enter__()
    except Exception as err:
        databases.unavailable(request.param, err)
    try:
        yield url
    finally:
        database = db.obj
        if database is not None:
            getattr(database, "close_all", database.close)()
        context.__exit__(None, None, None)


def test_upgrade_is_idempotent_and_the_check_follows_it(empty_database: str) -> None:
    open_database(empty_database)
    with db.connection_context():
        assert current_version() == 0
        with pytest.raises(SchemaOutOfDate, match="modelyard db upgrade"):
            check_schema()
        assert upgrade() == [number for number, _ in MIGRATIONS]
        assert upgrade() == []
        check_schema()
        assert current_version() == LATEST_VERSION


def test_data_from_the_first_schema_survives_every_migration(empty_database: str) -> None:
    open_database(empty_database)
    now = int(time.time() * 1000)
    with db.connection_context():
        upgrade(target=1)
        exp = v1.Experiment.create(
            name="kept",
            artifact_location="mlflow-artifacts:/1",
            creation_time=now,
            last_update_time=now,
        )
        v1.Run.create(
            run_uuid="a" * 32,
            experiment=exp,
            name="r",
            start_time=now,
            artifact_uri="mlflow-artifacts:/1/" + "a" * 32 + "/artifacts",
        )
        v1.Param.create(run="a" * 32, key="alpha", value="0.1")
        v1.Metric.create(run="a" * 32, key="rmse", value=2.5, timestamp=now, step=3)
        model = v1.RegisteredModel.create(
            name="m", creation_timestamp=now, last_updated_timestamp=now
        )
        v1.ModelVersion.create(
            registered_model=model,
            version=1,
            creation_timestamp=now,
            last_updated_timestamp=now,
            source="runs:/" + "a" * 32 + "/m",
            current_stage="Production",
        )

        upgrade()
        check_schema()

        run = live.Run.get_by_id("a" * 32)
        assert run.experiment.name == "kept"
        assert live.Param.get(live.Param.run == run).value == "0.1"
        metric = live.Metric.get(live.Metric.run == run)
        assert (metric.value, metric.step) == (2.5, 3)
        version = live.ModelVersion.get(live.ModelVersion.version == 1)
        assert version.current_stage == "Production"
        assert version.model_digest is None  # recorded later by `modelyard models digest`
        assert live.Experiment.get_by_id(0).name == "Default"


def test_migration_3_adds_the_version_digest_column_and_takes_it_back(
    empty_database: str,
) -> None:
    from registry.store.migrations import m0003_version_digest as v3

    open_database(empty_database)
    with db.connection_context():
        upgrade(target=2)
        assert "model_digest" not in {c.name for c in db.get_columns("model_versions")}
        upgrade(target=3)
        assert "model_digest" in {c.name for c in db.get_columns("model_versions")}
        now = int(time.time() * 1000)
        model = live.RegisteredModel.create(
            name="m", creation_timestamp=now, last_updated_timestamp=now
        )
        digest = "sha256:" + "0" * 64
        live.ModelVersion.create(
            registered_model=model,
            version=1,
            creation_timestamp=now,
            last_updated_timestamp=now,
            source="models:/m-1",
            model_digest=digest,
        )
        assert live.ModelVersion.get(live.ModelVersion.version == 1).model_digest == digest
        v3.down(db.obj)
        assert "model_digest" not in {c.name for c in db.get_columns("model_versions")}


def test_server_refuses_an_out_of_date_schema_with_the_command_to_run(tmp_path: Path) -> None:
    from registry.config import Config
    from registry.server.app import create_app

    path = tmp_path / "old.db"
    open_database(f"sqlite:///{path}")
    with db.connection_context():
        upgrade(target=0)  # an empty database: version 0
    with pytest.raises(SchemaOutOfDate, match="modelyard db upgrade"):
        create_app(Config(database_url=f"sqlite:///{path}", artifact_root=str(tmp_path / "a")))
    shutil.rmtree(tmp_path / "a", ignore_errors=True)


def _schema() -> dict[str, Any]:
    """Every table with its columns, indexes and foreign keys, as the engine reports them."""
    database = db.obj
    shape: dict[str, Any] = {}
    for table in database.get_tables():
        columns = sorted(
            (c.name, c.data_type, c.null, c.primary_key) for c in database.get_columns(table)
        )
        indexes = sorted((tuple(i.columns), i.unique) for i in database.get_indexes(table))
        keys = sorted(
            (k.column, k.dest_table, k.dest_column) for k in database.get_foreign_keys(table)
        )
        shape[table] = (columns, indexes, keys)
    if isinstance(database, pw.PostgresqlDatabase):
        # What get_foreign_keys leaves out: the keys' delete rules, and triggers (migration 16).
        shape["key_rules"] = sorted(
            database.execute_sql(
                "SELECT conrelid::regclass::text, confrelid::regclass::text, confdeltype"
                " FROM pg_constraint WHERE contype = 'f'"
            ).fetchall()
        )
        shape["triggers"] = sorted(
            database.execute_sql(
                "SELECT tgrelid::regclass::text, tgname, p.proname FROM pg_trigger"
                " JOIN pg_proc p ON p.oid = tgfoid WHERE NOT tgisinternal"
            ).fetchall()
        )
    if isinstance(database, pw.MySQLDatabase):
        shape["collations"] = sorted(
            database.execute_sql(
                "SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES"
                " WHERE TABLE_SCHEMA = DATABASE()"
            ).fetchall()
        )
    return shape


def test_each_down_step_undoes_its_up_step_and_all_go_back_to_zero(
    empty_database: str,
) -> None:
    open_database(empty_database)
    with db.connection_context():
        shapes = {0: _schema()}
        for number, _ in MIGRATIONS:
            upgrade(target=number)
            shapes[number] = _schema()
        assert {"schema_versions", "model_versions", "users"} <= set(shapes[LATEST_VERSION])
        assert downgrade(LATEST_VERSION) == []
        for number, _ in reversed(MIGRATIONS):
            assert downgrade(number - 1) == [number]
            assert _schema() == shapes[number - 1], f"down of migration {number}"

        assert upgrade() == [number for number, _ in MIGRATIONS]
        assert _schema() == shapes[LATEST_VERSION]
        check_schema()
        assert live.Experiment.get_by_id(0).name == "Default"

        assert downgrade(0) == [number for number, _ in reversed(MIGRATIONS)]
        assert db.get_tables() == [] and current_version() == 0
        assert downgrade(0) == []


def test_data_survives_going_down_and_up_again(empty_database: str) -> None:
    open_database(empty_database)
    now = int(time.time() * 1000)
    with db.connection_context():
        upgrade()
        exp = live.Experiment.create(
            name="kept",
            artifact_location="mlflow-artifacts:/1",
            creation_time=now,
            last_update_time=now,
        )
        live.Param.create(
            run=live.Run.create(
                run_uuid="b" * 32, experiment=exp, start_time=now, artifact_uri="x"
            ),
            key="alpha",
            value="0.1",
        )
        model = live.RegisteredModel.create(
            name="m", creation_timestamp=now, last_updated_timestamp=now
        )
        live.ModelVersion.create(
            registered_model=model,
            version=1,
            creation_timestamp=now,
            last_updated_timestamp=now,
            source="models:/m-1",
            model_digest="sha256:" + "1" * 64,
        )

        assert downgrade(2) == [n for n, _ in reversed(MIGRATIONS) if n > 2]
        assert "model_digest" not in {c.name for c in db.get_columns("model_versions")}
        upgrade()

        assert live.Param.get(live.Param.run == "b" * 32).value == "0.1"
        assert live.Run.get_by_id("b" * 32).experiment.name == "kept"
        version = live.ModelVersion.get(live.ModelVersion.version == 1)
        assert version.model_digest is None  # the column went with migration 3
        assert version.registered_model.name == "m"


def test_a_negative_target_is_refused(empty_database: str) -> None:
    from registry.errors import InvalidParameter

    open_database(empty_database)
    with db.connection_context(), pytest.raises(InvalidParameter):
        downgrade(-1)


def test_migration_14_fills_each_latest_metric_with_its_runs_experiment(
    empty_database: str,
) -> None:
    open_database(empty_database)
    with db.connection_context():
        upgrade(target=13)
        runs = {}
        for name in ("first", "second"):
            exp = live.Experiment.create(
                name=name, artifact_location="file:///e", creation_time=1, last_update_time=1
            )
            run_id = name[0] * 32
            live.Run.create(run_uuid=run_id, experiment=exp, artifact_uri="file:///e")
            runs[run_id] = exp.experiment_id
        # Rows as the schema before migration 14 held them: no experiment_id column.
        latest = pw.Table(
            "latest_metrics", ("run_id", "key", "value", "value_kind", "timestamp", "step")
        )
        latest.bind(db.obj).insert(
            [(run_id, key, 0.5, 0, 1, 0) for run_id in runs for key in ("loss", "acc")]
        ).execute()

        upgrade()

        filled = {(row.run_id, row.key): row.experiment_id for row in live.LatestMetric.select()}
        assert filled == {(run_id, key): runs[run_id] for run_id in runs for key in ("loss", "acc")}
        column = next(c for c in db.get_columns("latest_metrics") if c.name == "experiment_id")
        assert column.null is False
        # MySQL in strict mode refuses it as having no default: an OperationalError.
        with pytest.raises((pw.IntegrityError, pw.OperationalError)), db.atomic():
            latest.bind(db.obj).insert(
                run_id="f" * 32, key="new", value=1.0, value_kind=0, timestamp=1, step=0
            ).execute()


_RUN_DATA_TABLES = ("runs", "params", "run_tags", "latest_metrics")


def _run_data_indexes() -> set[tuple[str, tuple[str, ...], bool]]:
    return {
        (table, tuple(index.columns), index.unique)
        for table in _RUN_DATA_TABLES
        for index in db.get_indexes(table)
    }


def test_migration_15_drops_the_indexes_a_longer_one_covers_as_a_fresh_schema_has_none(
    empty_database: str,
) -> None:
    open_database(empty_database)
    with db.connection_context():
        upgrade(target=14)
        before = _run_data_indexes()
        upgrade()
        migrated = _run_data_indexes()
        assert before - migrated == {
            ("runs", ("experiment_id",), False),
            ("params", ("run_id",), False),
            ("run_tags", ("run_id",), False),
            ("latest_metrics", ("run_id",), False),
        }
        assert migrated <= before
        downgrade(14)
        assert _run_data_indexes() == before

        # The models declare the same indexes, so a schema made from them matches. Migrations 9
        # and 11 add engine-specific (key, value) indexes on params and run_tags the models
        # leave out.
        downgrade(0)
        db.create_tables(live.ALL_MODELS)
        fresh = _run_data_indexes()
        assert fresh <= migrated
        extra = migrated - fresh
        assert all(
            table in ("params", "run_tags") and columns[0] == "key" and "value" in columns[1]
            for table, columns, _ in extra
        )


def test_migration_17_going_down_turns_packed_points_back_into_rows(empty_database: str) -> None:
    from registry.store.metric_batches import PACK_MIN_POINTS
    from registry.store.metrics import MetricPoint, get_metric_history
    from registry.store.run_data import log_batch

    open_database(empty_database)
    with db.connection_context():
        upgrade()
        exp = live.Experiment.create(
            name="kept", artifact_location="file:///e", creation_time=1, last_update_time=1
        )
        run_id = "c" * 32
        live.Run.create(run_uuid=run_id, experiment=exp, artifact_uri="file:///e")
        batch = [MetricPoint(f"k{i % 2}", i / 3, 1, i // 2) for i in range(2 * PACK_MIN_POINTS)]
        log_batch(run_id, metrics=batch)
        log_batch(run_id, metrics=batch[:5])  # identical points, stored as rows

        def history() -> list[tuple[str, int, float]]:
            return [
                (key, row.step, row.value)
                for key in ("k0", "k1")
                for row in get_metric_history(run_id, key)[0]
            ]

        before = history()
        assert len(before) == 2 * PACK_MIN_POINTS
        downgrade(16)
        rows = live.Metric.select().where(live.Metric.run == run_id)
        assert sorted((m.key, m.step, m.value) for m in rows) == sorted(before)
        assert "metric_history" not in {view.name for view in db.get_views()}
        if isinstance(db.obj, pw.PostgresqlDatabase):
            assert "metric_batches" not in db.get_tables()
        upgrade()
        assert history() == before
