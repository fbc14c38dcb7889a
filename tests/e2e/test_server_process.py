import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.servers import process, registry_server, server_args

pytestmark = pytest.mark.e2e


def test_server_starts_on_an_empty_sqlite_file_and_answers(tmp_path: Path) -> None:
    with registry_server(tmp_path) as base:
        assert httpx.get(f"{base}/health").text == "OK"
    assert (tmp_path / "server.db").exists()


def _server_refusal(python_args: list[str], database_url: str) -> str:
    """stderr of ``modelyard server`` on ``database_url``, which must refuse to start in one
    line without a traceback."""
    result = subprocess.run(
        [sys.executable, *python_args, "server", "--backend-store-uri", database_url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("Error: cannot open the database")
    assert len(result.stderr.strip().splitlines()) == 1
    return result.stderr


def test_a_missing_database_driver_is_one_line_without_traceback() -> None:
    # psycopg2 made unimportable, as in an install without the [postgres] extra.
    start = (
        "import sys; sys.modules['psycopg2'] = None; from registry.cli import main;"
        " sys.argv[0] = 'modelyard'; main()"
    )
    assert "driver" in _server_refusal(["-c", start], "postgresql://x@127.0.0.1/y")


def test_unreachable_database_is_one_line_without_traceback() -> None:
    _server_refusal(["-m", "registry.cli"], "postgresql://nobody@127.0.0.1:1/none")


def test_a_waiting_long_poll_is_answered_when_the_server_stops(tmp_path: Path) -> None:
    """SIGTERM wakes event-stream waits: the waiter gets an empty answer, not a dropped line.

    gunicorn drains for 20 s at most; a 30 s wait left asleep would be cut off by the kill.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = server_args(f"sqlite:///{tmp_path / 'server.db'}", str(tmp_path / "art"), port, 1)
    events = f"{base}/api/2.0/modelyard/events"
    # One waiter per process: of two long-polls, the one refused at once (503) proves the other
    # is waiting (no events exist, so nothing else answers it early).
    one_waiter = {"REGISTRY_EVENTS_MAX_WAITERS": "1"}
    with process(args, f"{base}/health", tmp_path / "server.log", env=one_waiter) as proc:
        cursor = httpx.get(events).json()["next_after"]
        answers: queue.Queue[httpx.Response | httpx.HTTPError] = queue.Queue()

        def long_poll() -> None:
            try:
                params = {"after": cursor, "wait_seconds": 30}
                answers.put(httpx.get(events, params=params, timeout=90))
            except httpx.HTTPError as err:
                answers.put(err)

        pollers = [threading.Thread(target=long_poll) for _ in range(2)]
        for poller in pollers:
            poller.start()
        first = answers.get(timeout=60)
        assert isinstance(first, httpx.Response) and first.status_code == 503, first
        proc.send_signal(signal.SIGTERM)
        waiting = answers.get(timeout=60)
        for poller in pollers:
            poller.join()
    assert isinstance(waiting, httpx.Response), waiting
    assert waiting.status_code == 200
    assert waiting.json()["events"] == []
