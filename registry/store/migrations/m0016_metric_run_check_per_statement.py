"""Migration 16 (PostgreSQL only): a metric's run is checked once a statement, not once a point.

PostgreSQL checks a foreign key row by row: every inserted metric point ran its own lookup of
its run (``SELECT 1 FROM runs WHERE run_uuid = $1 FOR KEY SHARE``), which was a third of the
database's time for a 1,000-point log-batch. Measured with ``COPY`` of 1,000-point batches into
this schema: 137,000 points/s with the key, 238,000 with these triggers, 255,000 with neither.

The triggers keep what the foreign key guaranteed, and raise the same error
(``foreign_key_violation``, which the driver reports as an ``IntegrityError``):

- after each statement that inserts metrics, or changes their ``run_id``, the runs they name
  must exist; they are locked ``FOR KEY SHARE`` until the transaction ends, as the key's check
  locks them, so a concurrent delete of the run waits, and a run deleted first is not found;
- after each statement that deletes runs, their metrics are deleted (``ON DELETE CASCADE``);
- a run's ``run_uuid`` never changes; an update that would leave metrics behind is refused
  (the key's ``ON UPDATE NO ACTION``).

SQLite checks a key inside its own b-tree search and MySQL's InnoDB in the engine: both keep it.
"""

from __future__ import annotations

import peewee as pw

_KEY = "metrics_run_id_fkey"

_UP = (
    f'ALTER TABLE "metrics" DROP CONSTRAINT "{_KEY}"',
    """
    CREATE FUNCTION modelyard_metrics_name_runs() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        named bigint;
        found bigint;
    BEGIN
        SELECT count(DISTINCT run_id) INTO named FROM changed;
        SELECT count(*) INTO found FROM (
            SELECT 1 FROM runs
            WHERE run_uuid IN (SELECT DISTINCT run_id FROM changed)
            FOR KEY SHARE
        ) AS locked;
        IF found < named THEN
            RAISE foreign_key_violation USING
                MESSAGE = 'insert or update on table "metrics" names a run that does not exist',
                TABLE = 'metrics';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER modelyard_metrics_insert_names_runs AFTER INSERT ON "metrics"
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION modelyard_metrics_name_runs()
    """,
    """
    CREATE TRIGGER modelyard_metrics_update_names_runs AFTER UPDATE ON "metrics"
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION modelyard_metrics_name_runs()
    """,
    """
    CREATE FUNCTION modelyard_runs_delete_metrics() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM metrics WHERE run_id IN (SELECT run_uuid FROM gone);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER modelyard_runs_delete_metrics AFTER DELETE ON "runs"
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION modelyard_runs_delete_metrics()
    """,
    """
    CREATE FUNCTION modelyard_runs_keep_their_id() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM metrics WHERE run_id = OLD.run_uuid) THEN
            RAISE foreign_key_violation USING
                MESSAGE = 'update on table "runs" would leave metrics without their run',
                TABLE = 'runs';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER modelyard_runs_keep_their_id BEFORE UPDATE OF run_uuid ON "runs"
    FOR EACH ROW WHEN (OLD.run_uuid IS DISTINCT FROM NEW.run_uuid)
    EXECUTE FUNCTION modelyard_runs_keep_their_id()
    """,
)

_DOWN = (
    'DROP TRIGGER modelyard_runs_keep_their_id ON "runs"',
    "DROP FUNCTION modelyard_runs_keep_their_id()",
    'DROP TRIGGER modelyard_runs_delete_metrics ON "runs"',
    "DROP FUNCTION modelyard_runs_delete_metrics()",
    'DROP TRIGGER modelyard_metrics_update_names_runs ON "metrics"',
    'DROP TRIGGER modelyard_metrics_insert_names_runs ON "metrics"',
    "DROP FUNCTION modelyard_metrics_name_runs()",
    f'ALTER TABLE "metrics" ADD CONSTRAINT "{_KEY}" FOREIGN KEY ("run_id")'
    ' REFERENCES "runs" ("run_uuid") ON DELETE CASCADE',
)


def up(database: pw.Database) -> None:
    """On PostgreSQL, replace the metrics' foreign key to their run with the triggers."""
    if isinstance(database, pw.PostgresqlDatabase):
        for statement in _UP:
            database.execute_sql(statement)


def down(database: pw.Database) -> None:
    """On PostgreSQL, drop the triggers and put the foreign key back (checking every row)."""
    if isinstance(database, pw.PostgresqlDatabase):
        for statement in _DOWN:
            database.execute_sql(statement)
