"""``modelyard db upgrade|downgrade`` on a database an older Modelyard left behind."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.store import close_database, open_database, use_database
from registry.store import models as live
from registry.store.migrate import LATEST_VERSION, MIGRATIONS, current_version, upgrade
from registry.store.migrations import m0001_initial as v1
from tests import databases


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def old_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at schema version 2 holding a run with a param, on each engine."""
    if request.param == "sqlite":
        context = None
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        try:
            context = databases.throwaway_database(request.param)
            url = context.__enter__()
        except Exception as err:
            databases.unavailable(request.param, err)
    database = open_database(url)
    now = int(time.time() * 1000)
    with database.connection_context():
        upgrade(target=2)
        exp = v1.Experiment.create(
            name="old",
            artifact_location="mlflow-artifacts:/1",
            creation_time=now,
            last_update_time=now,
        )
        v1.Run.create(run_uuid="c" * 32, experiment=exp, start_time=now, artifact_uri="x")
        v1.Param.create(run="c" * 32, key="alpha", value="0.1")
    close_database(database)
    try:
        yield url
    finally:
        if context is not None:
            context.__exit__(None, None, None)


def modelyard(*args: str, answer: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``modelyard db ARGS``, typing ``answer`` at any prompt."""
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", "db", *args],
        input=answer,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def schema_version(url: str) -> int:
    database = open_database(url)
    try:
        with use_database(database), database.connection_context():
            return current_version()
    finally:
        close_database(database)


def test_upgrade_an_old_database_then_downgrade_and_upgrade_it_again(old_database: str) -> None:
    result = modelyard("upgrade", old_database)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"Applied migrations {[n for n, _ in MIGRATIONS if n > 2]}; "
        f"schema at version {LATEST_VERSION}."
    )
    result = modelyard("downgrade", "--to", "1", "--yes", "--backend-store-uri", old_database)
    assert result.returncode == 0, result.stderr
    undone = [n for n, _ in reversed(MIGRATIONS) if n > 1]
    assert result.stdout.splitlines()[-1] == f"Undid migrations {undone}; schema at version 1."
    result = modelyard("downgrade", "--to", "1", old_database)
    assert result.stdout.strip() == "Schema already at version 1; nothing to undo."
    assert modelyard("upgrade", old_database).returncode == 0

    database = open_database(old_database)
    with database.connection_context():
        assert current_version() == LATEST_VERSION
        assert live.Param.get(live.Param.run == "c" * 32).value == "0.1"
        assert live.Run.get_by_id("c" * 32).experiment.name == "old"
    close_database(database)


def test_downgrade_needs_a_version_it_knows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = modelyard("downgrade", "--to", str(LATEST_VERSION + 1), url)
    assert result.returncode == 2
    assert f"0<=x<={LATEST_VERSION}" in result.stderr
    result = modelyard("downgrade", url)
    assert result.returncode == 2 and "Missing option '--to'" in result.stderr


def test_an_unreachable_database_is_one_line_naming_it_without_its_password() -> None:
    result = modelyard("downgrade", "--to", "0", "postgresql://nobody:hunter2@127.0.0.1:1/none")
    assert result.returncode == 1
    shown = "postgresql://nobody:***@127.0.0.1:1/none"
    assert result.stderr.startswith(f"Error: cannot open the database {shown}: ")
    assert "hunter2" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    assert modelyard("upgrade", url).returncode == 0
    return url


def test_downgrade_lists_what_it_drops_and_asks_first(sqlite_url: str) -> None:
    refused = modelyard("downgrade", "--to", "3", sqlite_url, answer="n\n")
    assert refused.returncode == 1
    assert "  5  m0005_auth" in refused.stdout
    assert "  4  m0004_binary_collation" in refused.stdout
    assert "m0003" not in refused.stdout
    assert "Continue? [y/N]" in refused.stdout
    assert "Aborted" in refused.stderr
    assert schema_version(sqlite_url) == LATEST_VERSION

    no_answer = modelyard("downgrade", "--to", "3", sqlite_url)  # a script that forgot --yes
    assert no_answer.returncode == 1
    assert schema_version(sqlite_url) == LATEST_VERSION

    accepted = modelyard("downgrade", "--to", "3", sqlite_url, answer="y\n")
    assert accepted.returncode == 0, accepted.stderr
    # (the typed answer is not echoed: the prompt and the result share a line)
    assert accepted.stdout.endswith(
        f"Continue? [y/N]: Undid migrations {[n for n, _ in reversed(MIGRATIONS) if n > 3]}; "
        "schema at version 3.\n"
    )
    assert schema_version(sqlite_url) == 3


def test_downgrade_refuses_a_database_newer_than_the_code(sqlite_url: str) -> None:
    database = open_database(sqlite_url)
    with use_database(database), database.connection_context():
        live.SchemaVersion.create(version=LATEST_VERSION + 1, name="m_future", applied_at=0)
    close_database(database)
    result = modelyard("downgrade", "--to", "0", "--yes", sqlite_url)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: The database schema is at version {LATEST_VERSION + 1}, newer than this"
        f" Modelyard knows ({LATEST_VERSION}): downgrade it with the Modelyard version that"
        " upgraded it."
    )
    assert schema_version(sqlite_url) == LATEST_VERSION + 1


def test_a_migration_failing_halfway_is_not_reported_as_unreachable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    database = open_database(url)
    with use_database(database), database.connection_context():
        upgrade(target=2)
        database.execute_sql("ALTER TABLE model_versions ADD COLUMN model_digest VARCHAR(80)")
    close_database(database)
    result = modelyard("upgrade", url)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: the database refused the schema change: ")
    assert "model_digest" in result.stderr
    assert "Traceback" not in result.stderr
    assert schema_version(url) == 2
