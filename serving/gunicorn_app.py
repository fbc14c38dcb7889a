"""Run the serving app under gunicorn from a ``ServingConfig`` (no config file), with hooks.

The master builds the ``ModelTable``; with ``preload`` it loads every model once before
forking, so workers share their memory pages. Each worker then starts its own watcher, batcher
and model-table threads (threads do not survive fork). ``child_exit`` drops a dead worker's
live gauges from the multiprocess metrics. A worker whose master dies exits at once instead of
serving on, unsupervised, for its graceful timeout.
"""

from __future__ import annotations

import gc
import socket
import sys
from typing import TYPE_CHECKING, Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from registry.gunicorn_workers import WORKER_CLASS, exit_with_master
from serving import metrics
from serving.config import ServingConfig
from serving.models import ModelTable

if TYPE_CHECKING:
    from serving.api import ServingState

GRPC_GRACE_SECONDS = 10.0
"""How long a stopping worker lets gRPC calls in flight finish."""


class ServingServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application whose workers serve the models of one ``ModelTable``."""

    def __init__(self, config: ServingConfig, table: ModelTable) -> None:
        self.serving_config = config
        self.table = table
        super().__init__()

    def load_config(self) -> None:
        """Bind address, workers, threads and hooks from the ServingConfig."""
        config = self.serving_config
        settings: dict[str, Any] = {
            "bind": f"{config.host}:{config.port}",
            "workers": config.workers,
            "worker_class": WORKER_CLASS,
            "threads": config.threads,
            "timeout": config.timeout,
            "graceful_timeout": 20,
            "keepalive": 30,
            "accesslog": None,
            "control_socket_disable": True,
            "preload_app": config.preload,
            "post_fork": exit_with_master,
            "post_worker_init": _post_worker_init,
            "child_exit": _child_exit,
            "worker_exit": _worker_exit,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app (in the master when preloading, else in each worker)."""
        from serving.app import create_app

        config = self.serving_config
        return create_app(config, table=self.table, start=not config.preload)


WORKER_BOOT_ERROR = 3
"""A worker's exit status that makes gunicorn's master stop: "Worker failed to boot"."""


def _post_worker_init(worker: Any) -> None:
    state = worker.wsgi.extensions["serving"]
    if worker.cfg.preload_app:
        state.start()
    start_grpc(state, worker.log)


def start_grpc(state: ServingState, log: Any) -> None:
    """Start the worker's gRPC server, predicting through the worker's batcher.

    gRPC's threads do not survive fork: each worker binds the port itself (SO_REUSEPORT).
    ``modelyard serve`` checked the port before forking; if something took it since, the
    worker logs why on one line and exits with ``WORKER_BOOT_ERROR``, which stops the server.
    """
    config = state.config
    if not config.grpc_port or state.grpc_server is not None:
        return
    from serving.grpc import server

    try:
        state.grpc_server = server.start(config, state.table, state.batcher)
    except OSError as err:
        log.error(
            "%s; it was free at start-up. Stopping: pass --grpc-port with a free port, or"
            " --grpc-port 0 for no gRPC.",
            err,
        )
        sys.exit(WORKER_BOOT_ERROR)


def _worker_exit(server: Any, worker: Any) -> None:
    wsgi = getattr(worker, "wsgi", None)
    if wsgi is not None:
        wsgi.extensions["serving"].stop_grpc(GRPC_GRACE_SECONDS)


def _child_exit(server: Any, worker: Any) -> None:
    metrics.mark_process_dead(worker.pid, server.app.serving_config.prometheus_multiproc_dir)


def build_table(config: ServingConfig, state_file: str) -> ModelTable:
    """The models to serve, built in the master; with ``preload``, every one loaded now.

    Raises:
        ValueError: the models are badly named (``model_specs``).
        ModelFailed: a URI names nothing, the tracking server is unreachable, or (with
            ``preload``) a model does not load.
    """
    if not config.preload:
        return ModelTable.from_config(config, resolve=True, state_file=state_file)
    from registry.models.xgboost import boosters_without_sklearn

    with boosters_without_sklearn():
        table = ModelTable.from_config(config, load=True, state_file=state_file)
    # Move the million-odd objects of the ML libraries out of the collector's reach: full
    # collections stop scanning them (long pauses under load), and workers stop dirtying
    # the shared pages that hold them (copy-on-write). No collection first, although the
    # collector was off since start-up: it would walk every object once more (0.13 s of CPU of
    # the cold start) to free about a thousand cyclic objects of the imports, which stay frozen.
    gc.freeze()
    return table


def check_grpc_port(config: ServingConfig) -> None:
    """Fail before forking when the gRPC port is taken.

    Workers bind it with ``SO_REUSEPORT``, which would silently share it with another
    ``modelyard serve`` of the same user; a plain bind here refuses any listener at all.

    Raises:
        OSError: the port is in use or the address is not ours.
    """
    if not config.grpc_port:
        return
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR: a connection of an earlier server lingering in TIME_WAIT is no
        # listener; a listening socket still refuses the bind.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((config.host, config.grpc_port))


def run_server(config: ServingConfig, table: ModelTable) -> None:
    """Serve until stopped."""
    ServingServer(config, table).run()
