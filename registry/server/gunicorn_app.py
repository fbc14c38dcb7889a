"""Run the registry app under gunicorn, configured from a ``Config`` (no config file).

Workers build the app after the fork (no preload), so no database connection crosses it, and a
worker whose master dies exits at once instead of serving on, unsupervised, for its graceful
timeout.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from registry.config import Config

ORPHAN_POLL_SECONDS = 0.2
"""How often a worker checks that its master is alive (it exits within this of losing it)."""


class RegistryServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application whose workers each build the app from one Config."""

    def __init__(self, config: Config, threads: int) -> None:
        self.registry_config = config
        self.threads = threads
        super().__init__()

    def load_config(self) -> None:
        """Bind address, workers and threads from the Config."""
        settings = {
            "bind": f"{self.registry_config.host}:{self.registry_config.port}",
            "workers": self.registry_config.workers,
            "worker_class": "gthread",
            "threads": self.threads,
            "timeout": 120,
            "graceful_timeout": 20,
            "keepalive": 30,
            "accesslog": None,
            "child_exit": _child_exit,
            "post_fork": _exit_with_master,
            # gunicorn 27's control socket lives at one fixed path per user: two servers on one
            # machine would fight over it.
            "control_socket_disable": True,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app in each worker (after fork: no shared database connections)."""
        from registry.server.app import create_app

        return create_app(self.registry_config)


def _exit_with_master(_server: Any, worker: Any) -> None:
    # gunicorn itself notices a dead master only between events and then drains connections
    # for up to graceful_timeout. An orphan has no supervisor: leave at once, as a crash would.
    master = worker.ppid

    def watch() -> None:
        while os.getppid() == master:
            time.sleep(ORPHAN_POLL_SECONDS)
        worker.log.warning("master %s is gone; worker %s exits", master, os.getpid())
        os._exit(1)

    threading.Thread(target=watch, name="master-watch", daemon=True).start()


def _child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def run_server(config: Config, threads: int = 4) -> None:
    """Serve until stopped, with a fresh Prometheus multiprocess directory for the workers."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="modelyard-metrics-")
    RegistryServer(config, threads).run()
