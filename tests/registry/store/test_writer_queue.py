"""SQLite writers queued across threads and real processes: nothing lost, a dead holder frees
the queue, a wait past the busy timeout is "database is locked" (a 503), a forked child queues
apart from its parent, and an in-memory database needs no lock file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import peewee
import pytest

from registry.errors import TemporarilyUnavailable
from registry.store import (
    close_database,
    database_error,
    open_database,
    use_database,
)
from registry.store.experiments import create_experiment
from registry.store.metrics import MetricPoint
from registry.store.models import Metric, Run
from registry.store.run_data import log_batch
from registry.store.runs import create_run
from registry.store.writer_queue import LOCK_SUFFIX, WriterQueue

REPO = Path(__file__).resolve().parents[3]

_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from registry.store import open_database, use_database
    from registry.store.metrics import MetricPoint
    from registry.store.run_data import log_batch
    from registry.store.runs import create_run

    url, experiment_id, runs, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    database = open_database(url)
    while not start.exists():  # both writers begin together
        time.sleep(0.01)
    with use_database(database), database.connection_context():
        for i in range(runs):
            run = create_run(experiment_id)
            points = [MetricPoint(f"m{j}", float(i), 1, j) for j in range(50)]
            log_batch(run.run_uuid, metrics=points, params=[("p", str(i))], tags=[("t", "x")])
    print("done", flush=True)
    """
)

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from registry.store import open_database, use_database, write_transaction
    from registry.store.runs import create_run

    database = open_database(sys.argv[1])
    with use_database(database), database.connection_context():
        with write_transaction():
            create_run(sys.argv[2])
            print("holding", flush=True)
            time.sleep(600)  # until killed
    """
)


@pytest.fixture
def database(sqlite_url: str) -> Iterator[peewee.Database]:
    opened = open_database(sqlite_url, busy_timeout_ms=20000)
    with use_database(opened), opened.connection_context():
        yield opened
    close_database(opened)


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, env=env
    )


def _hold_turn(sqlite_url: str, experiment_id: str) -> subprocess.Popen[str]:
    holder = _python(_HOLDER, sqlite_url, experiment_id)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_two_processes_writing_at_once_both_succeed_and_nothing_is_lost(
    database: peewee.Database, sqlite_url: str, tmp_path: Path
) -> None:
    experiment_id = str(create_experiment("queued").experiment_id)
    start = tmp_path / "start"
    writers = [_python(_WRITER, sqlite_url, experiment_id, "40", str(start)) for _ in range(2)]
    start.touch()
    outputs = [writer.communicate(timeout=300)[0] for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0]
    assert all(output.strip() == "done" for output in outputs)
    assert Run.select().where(Run.experiment == int(experiment_id)).count() == 80
    assert Metric.select().count() == 80 * 50
    assert Path(sqlite_url.removeprefix("sqlite:///") + LOCK_SUFFIX).exists()


def test_threads_of_one_process_writing_at_once_lose_nothing(
    database: peewee.Database,
) -> None:
    experiment_id = create_experiment("threads").experiment_id
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            with use_database(database), database.connection_context():
                for i in range(10):
                    run = create_run(experiment_id)
                    log_batch(run.run_uuid, metrics=[MetricPoint("m", float(index), 1, i)])
        except BaseException as err:  # reported below: a thread's error would be lost
            errors.append(err)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Metric.select().count() == 60


def test_a_holder_that_dies_releases_the_queue(database: peewee.Database, sqlite_url: str) -> None:
    experiment_id = str(create_experiment("crash").experiment_id)
    holder = _hold_turn(sqlite_url, experiment_id)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    run = create_run(experiment_id)  # within the 20 s busy timeout, or "database is locked"
    assert Run.select().where(Run.run_uuid == run.run_uuid).count() == 1
    # The dead holder's transaction never committed.
    assert Run.select().where(Run.experiment == int(experiment_id)).count() == 1


def test_a_wait_past_the_busy_timeout_is_database_is_locked_then_the_queue_recovers(
    database: peewee.Database, sqlite_url: str
) -> None:
    experiment_id = str(create_experiment("timeout").experiment_id)
    impatient = open_database(sqlite_url, busy_timeout_ms=300)
    holder = _hold_turn(sqlite_url, experiment_id)
    try:
        with use_database(impatient), impatient.connection_context():
            with pytest.raises(peewee.OperationalError, match="database is locked") as raised:
                create_run(experiment_id)
            assert isinstance(database_error(raised.value), TemporarilyUnavailable)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The abandoned wait's lock, taken when the holder died, was let go of again.
    with use_database(impatient), impatient.connection_context():
        create_run(experiment_id)
    create_run(experiment_id)
    assert Run.select().where(Run.experiment == int(experiment_id)).count() == 2
    close_database(impatient)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() only")
def test_a_child_forked_while_its_parent_holds_the_turn_gets_its_own_once_the_parent_is_done(
    tmp_path: Path,
) -> None:
    queue = WriterQueue(str(tmp_path / "db") + LOCK_SUFFIX, timeout=20)
    with queue.turn():
        pass  # this process's lock file is open before the fork
    released, done = os.pipe()
    with queue.turn():
        pid = os.fork()
        if pid == 0:  # the child: its copy of the parent's held turn must not be its own
            code = 1
            try:
                os.read(released, 1)
                with queue.turn():
                    code = 0
            finally:
                os._exit(code)
    os.write(done, b"x")
    _, status = os.waitpid(pid, 0)
    os.close(released)
    os.close(done)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() only")
def test_a_forked_child_does_not_share_its_parents_turn(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "db") + LOCK_SUFFIX, timeout=0.2)
    with queue.turn():
        pass
    with queue.turn():
        pid = os.fork()
        if pid == 0:  # the parent holds the turn: the child must wait, then give up
            code = 1
            try:
                with queue.turn():
                    code = 2
            except peewee.OperationalError as err:
                code = 0 if "database is locked" in str(err) else 3
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_an_in_memory_database_writes_without_a_lock_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry.store.migrate import upgrade

    monkeypatch.chdir(tmp_path)
    memory = open_database("sqlite:///:memory:")
    with use_database(memory), memory.connection_context():
        upgrade()
        experiment_id = create_experiment("memory").experiment_id
        create_run(experiment_id)
        assert Run.select().count() == 1
    close_database(memory)
    assert list(tmp_path.iterdir()) == []
