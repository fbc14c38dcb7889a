"""gunicorn worker plumbing that the registry server and serving share.

A worker that reads request heads in its event loop and spreads kept-alive connections evenly
over the workers, and one that leaves when its master dies. It depends on gunicorn and
``registry.connection_share`` only, so serving may use it.
"""

from __future__ import annotations

import collections
import errno
import faulthandler
import os
import select
import selectors
import socket
import threading
import time
from functools import partial
from typing import Any

from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

from registry import connection_share
from registry.lingering_close import LingeringCloses

WORKER_CLASS = "registry.gunicorn_workers.HeadBufferingWorker"
"""gunicorn's ``worker_class`` setting for ``HeadBufferingWorker``."""
ORPHAN_POLL_SECONDS = 0.2
"""How often a worker checks that its master is alive (it exits within this of losing it)."""


HEAD_TIMEOUT_SECONDS = 10.0
"""How long a new connection may take to send its request head before it is closed."""
MAX_BUFFERED_HEAD = 64 * 1024
"""Past this many bytes without the end of the head, the parser takes over (and refuses it)."""
KEEPALIVE_LINGER_SECONDS = 0.002
"""How long a thread that answered a request waits for the next one on the same connection."""
LINGER_BACKOFF_MAX = 64
"""After a wait in vain, a connection's next requests go back to the event loop without one:
1, then 2, 4, ... up to this many after each further miss in a row; a hit starts over."""
HEARTBEAT_SECONDS = 0.5
"""How often, at most, a worker tells the master it is alive (gunicorn: every loop, each event)."""
ACCEPT_DEFER_SECONDS = 0.01
"""How long a worker holding more connections than another leaves a new one to the others (if
none takes it by then, it accepts it itself)."""
SHED_GAP = 2
"""A worker holding this many connections more than the least loaded other worker closes one
after answering on it (``Connection: close``): its client reconnects, and lands elsewhere."""
SHED_INTERVAL_SECONDS = 0.05
"""At most one connection closed so per this interval and worker, so that the counts the
workers share catch up before the next one."""
stopping = threading.Event()
"""Set when this worker starts a graceful exit: requests that wait (long-polls) answer now."""


class LingeringConnection(TConn):  # type: ignore[misc]
    """gunicorn's connection, but its graceful close waits for the client in the event loop."""

    lingering: LingeringCloses

    def close(self, graceful: bool = False) -> None:
        """Close; a graceful close from the event loop lingers there, without blocking it."""
        if graceful and threading.current_thread() is threading.main_thread():
            self.lingering.close(self.sock)
        else:
            super().close(graceful)


class HeadBufferingWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker, but a request takes a thread only once its head is in.

    The stock worker hands each accepted connection (and each kept-alive one that turns
    readable) to a thread, which waits up to 5 s for a first byte and then blocks reading the
    head for as long as the client drips it: 200 idle connections, or a few slowloris clients,
    queue every other request behind them. Here the worker's event loop reads the head without
    blocking and closes a connection that has not sent it within ``HEAD_TIMEOUT_SECONDS``;
    threads only ever run requests whose head arrived.

    A thread that answered a request also takes the connection's next one if its client sends
    it at once (``KEEPALIVE_LINGER_SECONDS``), sparing the round trip through the loop; after
    a wait in vain it skips that wait for the next 1, 2, 4 ... requests (``LINGER_BACKOFF_MAX``).

    With several workers, one that holds more connections than the least loaded other worker
    stops accepting for ``ACCEPT_DEFER_SECONDS``, so that worker takes the new connection
    (``registry.connection_share``): kept-alive clients end up spread evenly. Connections that
    all landed on one worker while the others were still starting (a load generator's burst
    just after start-up, a pool filled before a scale-up) are moved: a worker holding
    ``SHED_GAP`` more than another answers one of them with ``Connection: close`` every
    ``SHED_INTERVAL_SECONDS``, and its client reconnects to the other.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # gunicorn builds the worker object in the master, just before it forks.
        # With reuse_port each worker listens on its own socket: nothing to leave to others.
        self.share_slot = None if self.cfg.reuse_port else connection_share.claim_slot(self)
        self.exit_handled = False
        self.shed_resumes_at = 0.0

    def init_process(self) -> None:
        """Set up the queue of connections still sending their head, then run the worker."""
        self.head_conns: collections.deque[TConn] = collections.deque()
        self.accept_resumes_at = 0.0  # while later than now, new connections are left to others
        self.accept_anyway = False
        self.last_heartbeat = 0.0
        super().init_process()

    def run(self) -> None:
        """Run gunicorn's event loop, which also closes connections without waiting in it."""
        self.lingering = LingeringCloses(self.poller, max(1, self.worker_connections // 10))
        super().run()
        # gunicorn has closed its listeners and poller: drain the closing connections still
        # waiting, or the exit would reset them with their client's bytes unread.
        self.lingering.finish_all()

    def handle_exit(self, sig: int, frame: Any) -> None:
        """On SIGTERM, wake the requests that wait, so the worker drains in moments."""
        # Stopping a server's process group sends SIGTERM twice, from the caller and from the
        # master. A second handler run inside the first one's Event.set (or gunicorn's wake-up
        # write) waited for the lock the first one holds, for ever: the worker hung until
        # SIGKILL. Seen in about one test run in ten on a loaded machine.
        if self.exit_handled:
            return
        self.exit_handled = True
        # Still here a second before the master's SIGKILL: every thread's stack to the log,
        # to show what held the worker (the dump is lost with the process otherwise).
        faulthandler.dump_traceback_later(max(self.cfg.graceful_timeout - 1, 1))
        stopping.set()
        self._leave_share()
        super().handle_exit(sig, frame)

    def handle_quit(self, sig: int, frame: Any) -> None:
        """On SIGQUIT or SIGINT, stop counting in the other workers' share first."""
        self._leave_share()
        super().handle_quit(sig, frame)

    def _leave_share(self) -> None:
        slot, self.share_slot = self.share_slot, None
        if slot is not None:
            connection_share.leave(slot)

    def notify(self) -> None:
        """Tell the master this worker is alive, at most every ``HEARTBEAT_SECONDS``."""
        # gunicorn touches a file (a utime system call) on every turn of the event loop, which
        # under load is every request: a tenth of the worker's samples while creating runs.
        # The master kills a worker silent for its timeout (30 s by default), so twice a
        # second is plenty.
        now = time.monotonic()
        if now - self.last_heartbeat >= min(HEARTBEAT_SECONDS, self.timeout / 4):
            self.last_heartbeat = now
            super().notify()

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """Publish this worker's connection count, resume accepting when due, then wait."""
        now = time.monotonic()
        if not self.alive:  # stopping (a signal, max_requests, a lost master): accepts no more
            self._leave_share()
        slot = self.share_slot  # read once: a signal handler may clear it meanwhile
        if slot is not None:
            connection_share.publish(slot, self.nr_conns, now)
        closing_due = self.lingering.next_deadline()
        if closing_due is not None:  # closed on time, not a turn of the loop (1 s) later
            timeout = min(timeout, max(closing_due - now, 0.0))
        if self.accept_resumes_at:
            if now < self.accept_resumes_at:
                timeout = min(timeout, self.accept_resumes_at - now)
            else:
                # Nobody took what is waiting: accept it here, without asking again.
                self.accept_resumes_at = 0.0
                if self.alive and self.nr_conns < self.worker_connections:
                    super().set_accept_enabled(True)
                    self.accept_anyway = True
                    try:
                        super().wait_for_and_dispatch_events(0)
                    finally:
                        self.accept_anyway = False
        super().wait_for_and_dispatch_events(timeout)

    def set_accept_enabled(self, enabled: bool) -> None:
        """As gunicorn's, but accepting stays off while new connections are left to others."""
        if enabled and self.accept_resumes_at:
            return
        if not enabled:  # gunicorn stops accepting (stopping, or full): no resume pending
            self.accept_resumes_at = 0.0
        super().set_accept_enabled(enabled)

    def handle_request(self, req: Any, conn: TConn) -> Any:
        """As gunicorn's, but the answer closes the connection if this worker sheds one."""
        if self._sheds(req, conn):
            req.must_close = True
        return super().handle_request(req, conn)

    def _sheds(self, req: Any, conn: TConn) -> bool:
        # Runs in request threads: two may both shed within one interval, which the next
        # intervals even out. Never an HTTP/2 stream or an upgrade. (A client that pipelined
        # a request behind this one sends it again, as it must whenever a server closes.)
        slot = self.share_slot
        now = time.monotonic()
        if slot is None or not self.alive or now < self.shed_resumes_at or conn.is_http2:
            return False
        fewest = connection_share.fewest_elsewhere(slot, now)
        if fewest is None or self.nr_conns - fewest < SHED_GAP:
            return False
        if any(name == "UPGRADE" for name, _ in req.headers):
            return False
        self.shed_resumes_at = now + SHED_INTERVAL_SECONDS
        return True

    def _leave_to_others(self) -> bool:
        slot = self.share_slot
        if slot is None or self.accept_anyway:
            return False
        now = time.monotonic()
        fewest = connection_share.fewest_elsewhere(slot, now)
        if fewest is None or self.nr_conns <= fewest:
            return False
        super().set_accept_enabled(False)
        self.accept_resumes_at = now + ACCEPT_DEFER_SECONDS
        return True

    def handle(self, conn: TConn) -> Any:
        """Run the connection's request, then the ones its client sends right after, here."""
        result = super().handle(conn)
        while result is True and self._next_head_is_in(conn):
            result = super().handle(conn)
        return result

    def _next_head_is_in(self, conn: TConn) -> bool:
        # Handing a kept-alive connection back to the event loop and then to a thread again
        # costs a pipe write, two epoll changes and two thread wake-ups: a quarter of gunicorn's
        # CPU for a small request. A client that sends its next request at once (a logging
        # loop) has it answered by this thread instead, as long as nobody else waits for one
        # and the whole head is in: a slow head still goes back to the loop. A client that
        # kept the thread waiting in vain (think time, a browser) is waited for less and less
        # often (LINGER_BACKOFF_MAX); one that missed once, in a pause of its own or of a busy
        # machine, is waited for again after a request. (Until 2026-12-01 one miss stopped it
        # for good, and a logging loop's later requests all took the round trip.)
        if not self.alive or conn.is_http2 or self.cfg.is_ssl or not self.tpool._work_queue.empty():
            return False
        skip = getattr(conn, "linger_skip", 0)
        if skip:
            conn.linger_skip = skip - 1
            return False
        if conn.parser.unreader.buf.getbuffer().nbytes:  # pipelined: the stock path has it
            return False
        poll = select.poll()
        poll.register(conn.sock, select.POLLIN)
        head = b""
        if poll.poll(KEEPALIVE_LINGER_SECONDS * 1000):
            try:
                head = conn.sock.recv(MAX_BUFFERED_HEAD, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except OSError:
                return False
        if b"\r\n\r\n" in head:
            conn.linger_backoff = 0
            return True
        backoff = min(2 * getattr(conn, "linger_backoff", 0) or 1, LINGER_BACKOFF_MAX)
        conn.linger_backoff = conn.linger_skip = backoff
        return False

    def accept(self, listener: Any) -> None:
        """Accept a connection and wait, in the event loop, for its request head."""
        if self._leave_to_others():
            return
        if self.cfg.is_ssl:  # TLS bytes cannot be read ahead of the handshake: stock path
            super().accept(listener)
            return
        try:
            client_sock, client_addr = listener.accept()
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = LingeringConnection(self.cfg, client_sock, client_addr, listener.getsockname())
        conn.lingering = self.lingering
        conn.head = bytearray()
        conn.timeout = time.monotonic() + HEAD_TIMEOUT_SECONDS
        self.head_conns.append(conn)
        self.poller.register(client_sock, selectors.EVENT_READ, partial(self._read_head, conn))

    def on_client_socket_readable(self, conn: TConn, client: Any) -> None:
        """A kept-alive connection's next request: its head too is read in the event loop."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        if self.cfg.is_ssl:
            self.enqueue_req(conn)
            return
        conn.head = bytearray()
        # A stopping worker waits for a kept-alive head no longer than gunicorn waits for one.
        wait = HEAD_TIMEOUT_SECONDS if self.alive else STOP_KEEPALIVE_LINGER
        conn.timeout = time.monotonic() + wait
        self.head_conns.append(conn)
        self.poller.register(client, selectors.EVENT_READ, partial(self._read_head, conn))
        self._read_head(conn, client)  # readable: most often the whole head is in already

    def _read_head(self, conn: TConn, _client: Any) -> None:
        try:
            chunk = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._close_head_conn(conn)
            return
        conn.head += chunk
        if b"\r\n\r\n" in conn.head or len(conn.head) > MAX_BUFFERED_HEAD:
            self._unwatch(conn)
            conn.data_ready = True
            conn.init()
            conn.parser.unreader.unread(bytes(conn.head))
            self.enqueue_req(conn)

    def _unwatch(self, conn: TConn) -> None:
        self.poller.unregister(conn.sock)
        self.head_conns.remove(conn)

    def _close_head_conn(self, conn: TConn) -> None:
        self._unwatch(conn)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Close connections late with their head (and gunicorn's own) or with closing."""
        super().murder_pending()
        now = time.monotonic()
        while self.head_conns and self.head_conns[0].timeout <= now:
            self._close_head_conn(self.head_conns[0])
        self.lingering.expire(now)


def exit_with_master(_server: Any, worker: Any) -> None:
    """Exit the worker within ``ORPHAN_POLL_SECONDS`` of losing its master (``post_fork``)."""
    # gunicorn itself notices a dead master only between events and then drains connections
    # for up to graceful_timeout. An orphan has no supervisor: leave at once, as a crash would.
    master = worker.ppid

    def watch() -> None:
        while os.getppid() == master:
            time.sleep(ORPHAN_POLL_SECONDS)
        worker.log.warning("master %s is gone; worker %s exits", master, os.getpid())
        os._exit(1)

    threading.Thread(target=watch, name="master-watch", daemon=True).start()
