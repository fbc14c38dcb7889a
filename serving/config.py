"""Serving process configuration: one frozen ``ServingConfig``, read once at startup."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from registry.config import read_settings

ENV_PREFIX = "SERVING_"


EXTRA_COLUMNS = ("reject", "drop")
FOLLOW_MODES = ("push", "poll")


@dataclasses.dataclass(frozen=True)
class ServingConfig:
    """Settings of a ``modelyard serve`` process; every field has a default.

    Attributes:
        model_uri: what to serve: ``runs:/``, ``models:/`` URIs or a local model directory.
        models: more models to serve, as ``NAME=URI`` pairs separated by commas or whitespace
            (``--model NAME=URI``, repeatable).
        models_file: a YAML or JSON file of models to serve: a map of name to URI, or a list
            of ``{"name", "uri"}`` objects.
        tracking_uri: registry to resolve ``runs:/`` and ``models:/`` URIs against.
        host: address the server binds to.
        port: port the server binds to.
        workers: gunicorn worker processes, each holding one model.
        threads: threads per worker (concurrent requests per worker).
        timeout: seconds a worker may spend on one request before gunicorn restarts it.
        max_request_bytes: largest request body accepted; bigger bodies get 413.
        max_request_rows: most rows (or first-axis entries) one prediction request may hold;
            more get 400 (0 = unlimited).
        poll_interval: seconds between checks of a stage or alias for a new version when
            polling (``follow=poll``, or while the registry's event stream is unreachable);
            above 0.
        follow: how a stage or alias is followed: ``push`` (wait on the registry's event
            stream and check as soon as the model changes; polling is the fallback) or
            ``poll`` (check every ``poll_interval`` only).
        batch_max_latency_ms: extra wait to gather concurrent requests into one predict call;
            0 turns micro-batching off.
        batch_max_rows: most rows one gathered predict call may hold.
        model_name: the model's name in Open Inference Protocol V2 paths (default: the
            registered name, or ``model``).
        preload: load the model in the gunicorn master before forking, so workers share it.
        prometheus_multiproc_dir: where workers write metrics (``PROMETHEUS_MULTIPROC_DIR``;
            ``modelyard serve`` sets a fresh temporary directory); empty for one process.
        allow_pickle: load models whose files are unpickled (pickle or cloudpickle sklearn
            models, custom pyfunc models); off, only skops and native xgboost models load.
        extra_columns: what ``/invocations`` does with a column the signature does not declare:
            ``reject`` (400, so a misspelt column is never ignored) or ``drop`` (MLflow's way).
        allow_repository_changes: accept the model repository extension's ``load`` and
            ``unload`` calls (off: they answer 403).
        repository_token: when set, ``load`` and ``unload`` need ``Authorization: Bearer``
            with this token.
        grpc_port: port of the Open Inference Protocol's gRPC server (0 = no gRPC).
    """

    model_uri: str = ""
    models: str = ""
    models_file: str = ""
    tracking_uri: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    threads: int = 4
    timeout: int = 60
    max_request_bytes: int = 50 * 1024 * 1024
    max_request_rows: int = 100_000
    poll_interval: float = 2.0
    follow: str = "push"
    batch_max_latency_ms: float = 0.0
    batch_max_rows: int = 1000
    model_name: str = ""
    preload: bool = True
    prometheus_multiproc_dir: str = ""
    allow_pickle: bool = False
    extra_columns: str = "reject"
    allow_repository_changes: bool = False
    repository_token: str = dataclasses.field(default="", repr=False)  # a secret
    grpc_port: int = 8081

    def __post_init__(self) -> None:
        if self.extra_columns not in EXTRA_COLUMNS:
            raise ValueError(
                f"SERVING_EXTRA_COLUMNS={self.extra_columns!r}: use {' or '.join(EXTRA_COLUMNS)}"
            )
        if self.follow not in FOLLOW_MODES:
            raise ValueError(f"SERVING_FOLLOW={self.follow!r}: use {' or '.join(FOLLOW_MODES)}")
        if not self.poll_interval > 0:
            raise ValueError(
                f"SERVING_POLL_INTERVAL={self.poll_interval}: use a number of seconds > 0"
            )
        if not 0 <= self.grpc_port <= 65535:
            raise ValueError(f"SERVING_GRPC_PORT={self.grpc_port}: use 0 (no gRPC) to 65535")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServingConfig:
        """Build a ServingConfig from ``SERVING_<FIELD>`` variables, then apply ``overrides``.

        ``MLFLOW_TRACKING_URI`` is the fallback for ``tracking_uri`` (as for ``mlflow models
        serve``) and ``PROMETHEUS_MULTIPROC_DIR`` sets ``prometheus_multiproc_dir``.

        Raises:
            ValueError: a variable holds a value that does not cast to its field's type.
        """
        return read_settings(cls, ENV_PREFIX, environ, overrides, _FALLBACKS)


_FALLBACKS = {
    "tracking_uri": "MLFLOW_TRACKING_URI",
    "prometheus_multiproc_dir": "PROMETHEUS_MULTIPROC_DIR",
}
