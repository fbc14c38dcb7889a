"""Run the serving app under gunicorn from a ``ServingConfig`` (no config file), with hooks.

With ``preload`` the master loads the model once before forking, so workers share its memory
pages; each worker then starts its own watcher and batcher threads (threads do not survive
fork). ``child_exit`` drops a dead worker's live gauges from the multiprocess metrics. A worker
whose master dies exits at once instead of serving on, unsupervised, for its graceful timeout.
"""

from __future__ import annotations

import gc
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from registry.gunicorn_workers import WORKER_CLASS, exit_with_master
from serving import metrics
from serving.config import ServingConfig
from serving.loader import LoadedModel, ModelSource


class ServingServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application whose workers serve one model."""

    def __init__(self, config: ServingConfig, model: LoadedModel | None) -> None:
        self.serving_config = config
        self.model = model
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
            "preload_app": self.model is not None,
            "post_fork": exit_with_master,
            "post_worker_init": _post_worker_init,
            "child_exit": _child_exit,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the app (in the master when preloading, else in each worker)."""
        from serving.app import create_app

        return create_app(self.serving_config, self.model, start=self.model is None)


def _post_worker_init(worker: Any) -> None:
    if worker.cfg.preload_app:
        worker.wsgi.extensions["serving"].start()


def _child_exit(server: Any, worker: Any) -> None:
    metrics.mark_process_dead(worker.pid, server.app.serving_config.prometheus_multiproc_dir)


def preload(config: ServingConfig) -> LoadedModel:
    """Load the model in the master (before fork) and record its load time.

    Raises:
        RegistryError: the URI names nothing or the tracking server is unreachable.
    """
    model = ModelSource(
        config.model_uri, config.tracking_uri, allow_pickle=config.allow_pickle
    ).load()
    metrics.LOAD_SECONDS.observe(model.load_seconds)
    # Move the million-odd objects of the ML libraries out of the collector's reach: full
    # collections stop scanning them (long pauses under load), and workers stop dirtying
    # the shared pages that hold them (copy-on-write).
    gc.collect()
    gc.freeze()
    return model


def run_server(config: ServingConfig, model: LoadedModel | None) -> None:
    """Serve until stopped."""
    ServingServer(config, model).run()
