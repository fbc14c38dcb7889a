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
rows of ``metrics``. Measured with 1,000-point batches of 10 keys: ``COPY`` of 1,000 rows into
``metrics`` took 152,000 points/s, an INSERT of the 10 packed rows 725,000
(``benchmarks/insert_ceiling.py``). ``metrics`` keeps every point logged alone, in small
batches, by an import, or with a model or dataset (the readers that look points up by model
read that table).

An identical point may now be stored twice (a batch sent twice, or a point both packed and a
row); the view keeps one. Its ``DISTINCT ON`` follows the unique index of ``metrics`` exactly,
so PostgreSQL merges that index's order with the sorted packed points and sorts no rows, and
pushes a reader's ``run_id`` and ``key`` conditions into both branches. Which of two identical
points it keeps is not defined, so a point stored as a row with a model or dataset has its
packed copies removed (``store.metric_batches.drop_packed_copies``): ``log_model`` links
points logged before it.

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

_POSTGRESQL_UP = (
    """
    CREATE TABLE metric_batches (
        id bigserial PRIMARY KEY,
        run_id varchar(32) NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
        key varchar(250) NOT NULL,
        steps bigint[] NOT NULL,
        timestamps bigint[] NOT NULL,
        metric_values double precision[] NOT NULL,
        value_kinds smallint[] NOT NULL
    )
    """,
    "CREATE INDEX metric_batches_run_id_key ON metric_batches (run_id, key)",
    """
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
