import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.servers import registry_server

pytestmark = pytest.mark.e2e


def test_server_starts_on_an_empty_sqlite_file_and_answers(tmp_path: Path) -> None:
    with registry_server(tmp_path) as base:
        assert httpx.get(f"{base}/health").text == "OK"
    assert (tmp_path / "server.db").exists()


def test_unreachable_database_is_one_line_without_traceback() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "registry.cli",
            "server",
            "--backend-store-uri",
            "postgresql://nobody@127.0.0.1:1/none",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("Error: cannot open the database")
    assert len(result.stderr.strip().splitlines()) == 1
