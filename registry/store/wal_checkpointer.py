"""Checkpoint a SQLite file's write-ahead log in the background instead of inside a request.

In WAL mode SQLite copies the log back into the database file (a checkpoint) once the log
passes 1,000 pages, in whichever commit crosses that line: that request then copies a few
megabytes and waits for two fsyncs while it still holds the file's write lock, so every other
writer waits too. Measured while populating runs (a run and its params, metrics and tags a
few milliseconds apart), one commit in about a hundred took 6-8 ms instead of 0.1 ms, and the
commits took 1.0 s of 1.6 s.

``WalCheckpointer`` runs a passive checkpoint (one that never waits for or blocks a reader or
a writer) from a thread of the writing process every ``INTERVAL_SECONDS`` while writes come,
so the log seldom reaches SQLite's own threshold, which ``registry.store`` raises to 10,000
pages as a backstop (populating runs writes about 1,000 pages in 50 ms). The thread closes its
connection and ends once writes stop for a second (or the database is closed:
``registry.store.close_database``), and starts again with the next write.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import weakref
from urllib.parse import quote

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.1
"""How soon after a write the log is checkpointed."""
IDLE_ROUNDS = 10
"""Intervals without a write after which the thread ends (it restarts with the next write)."""


class WalCheckpointer:
    """The background checkpoints of one SQLite file, in this process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._written = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        _checkpointers.add(self)

    def wrote(self) -> None:
        """Note that a transaction committed; start the thread if it is not running."""
        self._written = True
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's thread is not ours
                self._pid, self._thread = os.getpid(), None
                self._stop = threading.Event()
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name="sqlite-wal-checkpoint", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        """End the thread and close its connection (the database is being closed)."""
        with self._lock:
            thread = self._thread if self._pid == os.getpid() else None
            self._thread = None
            self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self, stop: threading.Event) -> None:
        # mode=rw: a database removed meanwhile is not created again, empty.
        uri = f"file:{quote(self.path)}?mode=rw"
        try:
            connection = sqlite3.connect(uri, uri=True, timeout=0, check_same_thread=False)
        except sqlite3.Error as err:
            logger.warning("cannot open %s to checkpoint its log: %s", self.path, err)
            return
        idle = 0
        try:
            while idle < IDLE_ROUNDS and not stop.wait(INTERVAL_SECONDS):
                if not self._written:
                    idle += 1
                    continue
                idle, self._written = 0, False
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as err:  # busy, or the file went away: the next round
                    logger.debug("checkpoint of %s skipped: %s", self.path, err)
        finally:
            connection.close()


_checkpointers: weakref.WeakSet[WalCheckpointer] = weakref.WeakSet()


def _stop_before_fork() -> None:
    # No checkpoint connection is open across a fork (gunicorn's master migrates, then forks
    # its workers): a child that closed its copy would drop its own locks on the file.
    for checkpointer in list(_checkpointers):
        checkpointer.stop()


os.register_at_fork(before=_stop_before_fork)
