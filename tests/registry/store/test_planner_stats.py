"""PostgreSQL: a run search analyzes the tables autovacuum has not analyzed yet."""

from __future__ import annotations

from collections.abc import Iterator

import peewee
import pytest

from registry.store import db, open_database
from registry.store.migrate import upgrade
from registry.store.models import Experiment, Run
from registry.store.planner_stats import MIN_ROWS, TABLES
from registry.store.run_search import page_of_runs
from tests import databases


def _analyzed() -> dict[str, bool]:
    rows = db.execute_sql(
        "SELECT relname, (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)"
        " FROM pg_stat_user_tables WHERE relname IN %s",
        (TABLES,),
    ).fetchall()
    return dict(rows)


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """A new, migrated PostgreSQL database whose search tables autovacuum leaves alone."""
    try:
        context = databases.throwaway_database("postgres")
        url = context.__enter__()
    except Exception as err:
        databases.unavailable("postgres", err)
    database: peewee.Database = open_database(url)
    try:
        with database.connection_context():
            upgrade()
            for table in TABLES:  # autovacuum must not get there first
                db.execute_sql(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)')
            yield url
    finally:
        getattr(database, "close_all", database.close)()
        context.__exit__(None, None, None)


def test_a_search_analyzes_tables_that_hold_rows_but_no_statistics(fresh_postgres: str) -> None:
    exp = Experiment.create(
        name="fresh", artifact_location="file:///f", creation_time=1, last_update_time=1
    )
    Run.insert_many(
        [
            {"run_uuid": f"{n:032x}", "experiment": exp, "name": f"r{n}",
             "start_time": n, "artifact_uri": f"file:///f/{n}"}
            for n in range(MIN_ROWS + 100)
        ]
    ).execute()  # fmt: skip
    db.execute_sql("SELECT pg_stat_force_next_flush()")  # the row counts, now
    assert _analyzed()["runs"] is False

    page = page_of_runs([exp.experiment_id], "", None, "ACTIVE_ONLY", offset=0, limit=10)

    assert len(page) == 10
    analyzed = _analyzed()
    assert analyzed["runs"] is True  # it held rows: analyzed
    assert analyzed["params"] is False  # empty: left to autovacuum
