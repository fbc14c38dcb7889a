"""Planner statistics for the run-search tables before PostgreSQL's autovacuum gathers them.

A new database's tables have no statistics until autovacuum's first ANALYZE of them, up to a
minute or so after they fill. Without them PostgreSQL takes every table for a handful of rows
and joins runs by scanning instead of by primary key: a search of 1,000 runs logged a moment
ago took 185 ms instead of 20 (``benchmarks/results/tracking_postgresql_run2.json``). So a
search first checks, at most every ``CHECK_SECONDS`` per process, whether the tables it reads
hold rows that were never analyzed, and analyzes them then (what autovacuum would do, sooner).
Once every table has been analyzed, the process stops checking; autovacuum keeps them current.
ANALYZE reads a sample, takes no lock that blocks reads or writes, and skips a table the
database user does not own (with a warning, not an error).
"""

from __future__ import annotations

import logging
import os
import time

from registry.store import db, engine_name

logger = logging.getLogger(__name__)

TABLES = ("runs", "latest_metrics", "params", "run_tags")
"""The tables a run search plans its joins over."""
MIN_ROWS = 500
"""Below this many rows, a table without statistics is planned well enough."""
CHECK_SECONDS = 10.0

_next_check: dict[tuple[int, int], float] = {}
_settled: set[tuple[int, int]] = set()


def analyze_new_tables() -> None:
    """On PostgreSQL, ANALYZE the search tables that hold rows but were never analyzed."""
    if engine_name() != "postgresql":
        return
    key = (id(db.obj), os.getpid())
    now = time.monotonic()
    if key in _settled or now < _next_check.get(key, 0.0):
        return
    _next_check[key] = now + CHECK_SECONDS
    rows = db.execute_sql(
        "SELECT relname, n_live_tup, (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)"
        " FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname IN %s",
        (TABLES,),
    ).fetchall()
    stale = [name for name, live, analyzed in rows if not analyzed and live >= MIN_ROWS]
    if len(rows) == len(TABLES) and all(analyzed for _, _, analyzed in rows):
        _settled.add(key)
        return
    for name in stale:
        started = time.perf_counter()
        db.execute_sql(f'ANALYZE "{name}"')  # a name from TABLES, never from a request
        logger.info(
            "analyzed %s (%.0f ms): it had no planner statistics yet",
            name,
            (time.perf_counter() - started) * 1000,
        )
