"""Migration 16 (PostgreSQL only): a metric's run is checked once a statement, not once a point.

PostgreSQL checks a foreign key row by row: every inserted metric point ran its own lookup of
its run (``SELECT 1 FROM runs WHERE run_uuid = $1 FOR KEY SHARE``), which was a third of the
database's time for a 1,000-point log-batch. Measured with ``COPY`` of 1,000-point batches into
this schema: 137,000 points/s with the key, 238,000 with these triggers, 255,000 with neither.

The triggers keep what the foreign key guaranteed, and raise the same error
(``foreign_key_violation``, which the driver reports as an ``IntegrityError``):

- after each statement that inserts metrics, the runs they name must exist; they are locked
  ``FOR KEY SHARE`` until the transaction ends, as the key's check locks them, so a concurrent
  delete of the run waits, and a run deleted first is not found (an update that moves a point
  to another run is checked row by row, as the key did);
- after each statement that deletes runs, their metrics are deleted (``ON DELETE CASCADE``);
- a run's ``run_uuid`` never changes; an update that would leave metrics behind is refused
  (the key's ``ON UPDATE NO ACTION``).

SQLite checks a key inside its own b-tree search and MySQL's InnoDB in the engine: both keep it.

The functions run with the ``search_path`` of the migration, so they find this schema's tables
whoever calls them. Like the key's cascade, the delete trigger relies on READ COMMITTED, which
every connection of the server pins (``registry.store``): under REPEATABLE READ it would miss
points committed after its transaction's snapshot, where the key raised a serialization error.
"""

from __future__ import annotations

import peewee as pw

_KEY = "metrics_run_id_fkey"

_KEYS_TO_RUNS = (
    "SELECT conname FROM pg_constraint WHERE contype = 'f'"
    " AND conrelid = 'metrics'::regclass AND confrelid = 'runs'::regclass"
)

_UP = (
    """
    CREATE FUNCTION modelyard_metrics_name_runs() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
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
    # Row by row, as the key was: a trigger with a transition table cannot be limited to
    # updates of run_id, and attaching a model to a point updates metrics one row at a time.
    """
    CREATE FUNCTION modelyard_metrics_move_to_run() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
    BEGIN
        PERFORM 1 FROM runs WHERE run_uuid = NEW.run_id FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE foreign_key_violation USING
                MESSAGE = 'update on table "metrics" names a run that does not exist',
                TABLE = 'metrics';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER modelyard_metrics_update_names_runs AFTER UPDATE OF run_id ON "metrics"
    FOR EACH ROW WHEN (OLD.run_id IS DISTINCT FROM NEW.run_id)
    EXECUTE FUNCTION modelyard_metrics_move_to_run()
    """,
    """
    CREATE FUNCTION modelyard_runs_delete_metrics() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
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
    CREATE FUNCTION modelyard_runs_keep_their_id() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
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
    "DROP FUNCTION modelyard_metrics_move_to_run()",
    'DROP TRIGGER modelyard_metrics_insert_names_runs ON "metrics"',
    "DROP FUNCTION modelyard_metrics_name_runs()",
    f'ALTER TABLE "metrics" ADD CONSTRAINT "{_KEY}" FOREIGN KEY ("run_id")'
    ' REFERENCES "runs" ("run_uuid") ON DELETE CASCADE',
)


def up(database: pw.Database) -> None:
    """On PostgreSQL, replace the metrics' foreign key to their run with the triggers."""
    if isinstance(database, pw.PostgresqlDatabase):
        # By the name the database gave it (metrics_run_id_fkey when peewee created the table).
        for (name,) in database.execute_sql(_KEYS_TO_RUNS).fetchall():
            database.execute_sql(f'ALTER TABLE "metrics" DROP CONSTRAINT "{name}"')
        for statement in _UP:
            database.execute_sql(statement)


def down(database: pw.Database) -> None:
    """On PostgreSQL, drop the triggers and put the foreign key back (checking every row)."""
    if isinstance(database, pw.PostgresqlDatabase):
        for statement in _DOWN:
            database.execute_sql(statement)
