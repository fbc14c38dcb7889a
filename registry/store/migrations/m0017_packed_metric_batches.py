"""Migration 17: the view ``metric_history``, and on PostgreSQL packed metric batches.

Every engine gets the view ``metric_history``: every metric point a run has, each identical
point once, which is what the readers of histories query (``MetricHistory`` in
``registry/store/models.py``). A later migration that changes ``metrics`` must drop the view
first and create it again after (SQLite's table rebuild and PostgreSQL's column changes refuse
a table a view reads).

On SQLite and MySQL the view is ``metrics`` itself, column for column; both engines merge such
a view into the query that reads it, so it reads the same indexes. MySQL's runs as its invoker.

On PostgreSQL a large batch (``store.metric_batches.PACK_MIN_POINTS``) no longer stores a row
per point. Each of its keys becomes one row of ``metric_batches`` holding the key's points as
four arrays (steps, timestamps, values and their kinds), and the view unnests them beside the
rows of ``metrics``. Measured with 1,000-point batches of 10 keys (``benchmarks/insert_ceiling.py``,
median of 3): ``COPY`` of 1,000 rows into ``metrics`` took 164,000 points/s, an INSERT of the 10
packed rows 746,000. ``metrics`` keeps every point logged alone, in small batches, by an import,
or with a model or dataset (the readers that look points up by model read that table).

An identical point may now be stored twice: a batch sent twice, or a point both packed and a
row. The view keeps one. Its ``DISTINCT ON`` follows the unique index of ``metrics`` exactly, so
PostgreSQL merges that index's order with the sorted packed points (it sorts only those), and
pushes a reader's ``run_id`` and ``key`` conditions into both branches. Which of two identical
points ``DISTINCT ON`` keeps is not defined: that matters only where one of them is a row with a
model or dataset, which the view must show with its links. So a batch is ``shadowed`` when it is
stored while its run has such rows of its key, or when such a row is stored later for one of
its steps (``log_model`` links points logged before it), and the view hides a shadowed batch's
points that are such rows, found by the partial index ``metrics_linked``. Nothing packed is
ever removed but with its run, so a run's stored points only grow (chart previews rely on it).

A batch goes with its run (``ON DELETE CASCADE``); its foreign key is checked once a row, ten
rows for such a batch.
"""

from __future__ import annotations

import peewee as pw

_PORTABLE_COLUMNS = (
    "run_id",
    "key",
    "value",
    "value_kind",
    "timestamp",
    "step",
    "model_id",
    "dataset_name",
    "dataset_digest",
)


def _linked(table: str = "") -> str:
    # A point stored with a model or dataset (metrics_linked indexes these rows).
    return " OR ".join(
        f"{table}{column} IS NOT NULL" for column in ("model_id", "dataset_name", "dataset_digest")
    )


_POSTGRESQL_UP = (
    """
    CREATE TABLE metric_batches (
        run_id varchar(32) NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
        key varchar(250) NOT NULL,
        steps bigint[] NOT NULL,
        timestamps bigint[] NOT NULL,
        metric_values double precision[] NOT NULL,
        value_kinds smallint[] NOT NULL,
        shadowed boolean NOT NULL DEFAULT false
    )
    """,
    "CREATE INDEX metric_batches_run_id_key ON metric_batches (run_id, key)",
    # The few points stored with a model or dataset, by run and key: what a packed point may
    # have to give way to (below).
    f"CREATE INDEX metrics_linked ON metrics (run_id, key, step) WHERE {_linked()}",
    f"""
    CREATE VIEW metric_history AS
    SELECT DISTINCT ON (run_id, key, step, "timestamp", value, value_kind)
        run_id, key, value, value_kind, "timestamp", step, model_id, dataset_name, dataset_digest
    FROM (
        SELECT run_id, key, value, value_kind, "timestamp", step,
            model_id, dataset_name, dataset_digest
        FROM metrics
        UNION ALL
        SELECT b.run_id, b.key, p.value, p.value_kind, p."timestamp", p.step,
            NULL::varchar, NULL::varchar, NULL::varchar
        FROM metric_batches AS b,
            unnest(b.metric_values, b.value_kinds, b.timestamps, b.steps)
                AS p (value, value_kind, "timestamp", step)
        WHERE NOT b.shadowed OR NOT EXISTS (
            SELECT 1 FROM metrics AS m
            WHERE m.run_id = b.run_id AND m.key = b.key AND m.step = p.step
                AND m."timestamp" = p."timestamp" AND m.value = p.value
                AND m.value_kind = p.value_kind AND ({_linked("m.")})
        )
    ) AS points
    ORDER BY run_id, key, step, "timestamp", value, value_kind
    """,
)

_POSTGRESQL_DOWN = (
    "DROP VIEW metric_history",
    # Back into rows; an identical point already there (or in another batch) is stored once.
    """
    INSERT INTO metrics (run_id, key, value, value_kind, "timestamp", step)
    SELECT b.run_id, b.key, p.value, p.value_kind, p."timestamp", p.step
    FROM metric_batches AS b,
        unnest(b.metric_values, b.value_kinds, b.timestamps, b.steps)
            AS p (value, value_kind, "timestamp", step)
    ON CONFLICT DO NOTHING
    """,
    "DROP TABLE metric_batches",
    "DROP INDEX metrics_linked",
)


def up(database: pw.Database) -> None:
    """Create the view, and on PostgreSQL the table of packed batches under it."""
    if isinstance(database, pw.PostgresqlDatabase):
        for statement in _POSTGRESQL_UP:
            database.execute_sql(statement)
    else:
        quote = str(database.quote)  # its opening and closing character ("" or ``)
        columns = ", ".join(f"{quote[0]}{name}{quote[1]}" for name in _PORTABLE_COLUMNS)
        # MySQL runs a view as its definer unless told otherwise: it would fail for everyone
        # once the account that ran the upgrade is dropped.
        invoker = "SQL SECURITY INVOKER " if isinstance(database, pw.MySQLDatabase) else ""
        database.execute_sql(
            f"CREATE {invoker}VIEW metric_history AS SELECT {columns} FROM metrics"
        )


def down(database: pw.Database) -> None:
    """Drop the view; on PostgreSQL first move packed points back into ``metrics``."""
    if isinstance(database, pw.PostgresqlDatabase):
        for statement in _POSTGRESQL_DOWN:
            database.execute_sql(statement)
    else:
        database.execute_sql("DROP VIEW metric_history")
