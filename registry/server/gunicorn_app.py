"""Run the registry app under gunicorn, configured from a ``Config`` (no config file).

Workers build the app after the fork (no preload), so no database connection crosses it, and a
worker whose master dies exits at once instead of serving on, unsupervised, for its graceful
timeout. Workers read each new request's head in their event loop, so idle and slowloris
connections never hold a thread; the master removes the metrics folder it created on exit.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from registry.config import Config
from registry.gunicorn_workers import WORKER_CLASS, exit_with_master


class RegistryServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application whose workers each build the app from one Config."""

    def __init__(self, config: Config, threads: int, owned_metrics_dir: str | None = None) -> None:
        self.registry_config = config
        self.threads = threads
        self.owned_metrics_dir = owned_metrics_dir
        super().__init__()

    def load_config(self) -> None:
        """Bind address, workers and threads from the Config."""
        settings = {
            "bind": f"{self.registry_config.host}:{self.registry_config.port}",
            "workers": self.registry_config.workers,
            "worker_class": WORKER_CLASS,
            "threads": self.threads,
            "timeout": 120,
            "graceful_timeout": 20,
            "keepalive": 30,
            "accesslog": None,
            "child_exit": _child_exit,
            "post_fork": exit_with_master,
            # gunicorn 27's control socket lives at one fixed path per user: two servers on one
            # machine would fight over it.
            "control_socket_disable": True,
            "on_exit": self._remove_owned_metrics_dir,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app in each worker (after fork: no shared database connections)."""
        from registry.server.app import create_app

        app = create_app(self.registry_config)
        # What is alive now lives as long as the worker (modules, schemas, compiled queries):
        # out of the collector's way, it is not traced again at every full collection, which
        # was about a fifth of the CPU of paging through runs/search.
        gc.freeze()
        return app

    def _remove_owned_metrics_dir(self, _arbiter: Any) -> None:
        # on_exit runs in the master only, once every worker has stopped writing to the folder.
        if self.owned_metrics_dir:
            shutil.rmtree(self.owned_metrics_dir, ignore_errors=True)


def _child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def run_server(config: Config, threads: int = 4) -> None:
    """Serve until stopped, with a fresh Prometheus multiprocess directory for the workers.

    A directory this function creates is removed when the server exits; one the user set in
    ``PROMETHEUS_MULTIPROC_DIR`` is left alone.
    """
    owned = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        owned = tempfile.mkdtemp(prefix="modelyard-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = owned
    RegistryServer(config, threads, owned).run()
