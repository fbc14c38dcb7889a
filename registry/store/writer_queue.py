"""One SQLite file's writers queued across threads and processes, woken the moment it frees.

SQLite lets one writer at a time hold a file's write lock. A writer that finds it taken sleeps
in SQLite's busy handler with a growing back-off (1, 2, 5, 10, 15, 20, 25 ... 100 ms) and
retries, so while two gunicorn workers write at once the lock often stands free while the
waiters sleep: measured through a real 2-worker server, request threads spent most of their
time asleep in ``BEGIN IMMEDIATE`` while the lock was held a third of the time.

``WriterQueue`` puts the writers of one file in line before they begin: the threads of a
process on a ``threading.Lock``, the processes on ``flock`` on a lock file beside the database
(``<database>-lock``). Both wake a waiter as soon as the holder lets go. The kernel releases a
``flock`` when its holder's process dies, however it dies, so a crash never leaves the queue
stuck. A waiter gives up after ``timeout`` seconds (SQLite's busy timeout) with SQLite's own
"database is locked" error, so the server answers 503 as it does for a lock wait that runs
out. ``flock`` itself cannot time out: a helper thread of the process waits in it on the
writer's behalf (a ``flock`` belongs to the open file, not to a thread), and lets go at once
of a lock it gets for a writer that has stopped waiting.

The queue only orders writers: each still takes SQLite's lock with ``BEGIN IMMEDIATE`` under
the busy timeout, so a process that does not queue (the ``sqlite3`` shell, an older server)
still writes safely, just without the prompt hand-over.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import peewee

LOCK_SUFFIX = "-lock"


class WriterQueue:
    """The line of writers of one SQLite file (see the module docstring)."""

    def __init__(self, lock_path: str, timeout: float) -> None:
        self.lock_path = lock_path
        self.timeout = timeout
        self._reset()
        _queues.add(self)

    def _reset(self) -> None:
        self._fd = -1
        self._turn = threading.Lock()
        self._state = threading.Condition(threading.Lock())
        self._held = False  # this process's open lock file holds the flock
        self._asked = False  # the helper is (or is about to be) blocked in flock
        self._wanted = False  # a writer waits for the helper's flock
        self._helper: threading.Thread | None = None

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this file's write turn (threads and processes in line), hold it in the block.

        Raises:
            peewee.OperationalError: "database is locked" after ``timeout`` seconds in line.
        """
        deadline = time.monotonic() + self.timeout
        if not self._turn.acquire(timeout=self.timeout):
            raise _locked(self.timeout)
        try:
            self._acquire_file(deadline)
            try:
                yield
            finally:
                with self._state:
                    self._held = False
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._turn.release()

    def _acquire_file(self, deadline: float) -> None:
        fd = self._file()
        with self._state:
            if self._held:  # the helper got it for a writer that had stopped waiting
                return
            if not self._asked:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    pass
                else:
                    self._held = True
                    return
                self._asked = True
                self._start_helper()
                self._state.notify_all()
            self._wanted = True
            try:
                got = self._state.wait_for(
                    lambda: self._held, timeout=max(0.0, deadline - time.monotonic())
                )
            finally:
                self._wanted = False
        if not got:
            raise _locked(self.timeout)

    def _file(self) -> int:
        if self._fd < 0:
            self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        return self._fd

    def _start_helper(self) -> None:
        if self._helper is None or not self._helper.is_alive():
            self._helper = threading.Thread(
                target=self._wait_in_flock, name="sqlite-writer-queue", daemon=True
            )
            self._helper.start()

    def _wait_in_flock(self) -> None:
        while True:
            with self._state:
                self._state.wait_for(lambda: self._asked)
                fd = self._fd
            fcntl.flock(fd, fcntl.LOCK_EX)
            with self._state:
                self._asked = False
                if self._wanted:
                    self._held = True
                    self._state.notify_all()
                else:
                    fcntl.flock(fd, fcntl.LOCK_UN)


def lock_path_for(database_path: str) -> str | None:
    """The queue's lock file for a SQLite database path; None for an in-memory database."""
    if not database_path or database_path == ":memory:" or database_path.startswith("file:"):
        return None
    return database_path + LOCK_SUFFIX


def _locked(timeout: float) -> peewee.OperationalError:
    return peewee.OperationalError(
        f"database is locked: no write turn within {timeout:g} s (busy timeout)"
    )


_queues: weakref.WeakSet[WriterQueue] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # The parent's open lock file is the same lock owner as its parent's (so no queue between
    # them), and the parent's threads and their locks are not the child's: start afresh. Closing
    # the inherited descriptor never releases the parent's lock, and keeping it open would hold
    # a lock the parent took past the parent's death.
    for queue in list(_queues):
        if queue._fd >= 0:
            os.close(queue._fd)
        queue._reset()


os.register_at_fork(after_in_child=_after_fork_in_child)
