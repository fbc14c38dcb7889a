"""``modelyard db upgrade|downgrade`` on a database an older Modelyard left behind."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.store import close_database, open_database
from registry.store import models as live
from registry.store.migrate import LATEST_VERSION, current_version, upgrade
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


def modelyard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registry.cli", "db", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_upgrade_an_old_database_then_downgrade_and_upgrade_it_again(old_database: str) -> None:
    result = modelyard("upgrade", old_database)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"Applied migrations [3, 4, 5]; schema at version {LATEST_VERSION}."
    )
    result = modelyard("downgrade", "--to", "1", "--backend-store-uri", old_database)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Undid migrations [5, 4, 3, 2]; schema at version 1."
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


def test_an_unreachable_database_is_one_line_naming_it() -> None:
    url = "postgresql://nobody@127.0.0.1:1/none"
    result = modelyard("downgrade", "--to", "0", url)
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: cannot open the database {url}: ")
    assert len(result.stderr.strip().splitlines()) == 1
