"""Process configuration: one frozen ``Config``, read once from the environment or CLI flags.

``read_settings`` is the one reader of environment variables for both servers' settings.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import marshmallow as ma

ENV_PREFIX = "REGISTRY_"
DEFAULT_DATABASE_URL = "sqlite:///mlflow.db"
DEFAULT_ARTIFACT_ROOT = "./mlartifacts"

S = TypeVar("S")


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings of a registry server process; every field has a default.

    Attributes:
        database_url: ``sqlite:///path``, ``postgresql://...`` or ``mysql://...``.
        artifact_root: a directory (or ``file://`` URI) or ``s3://bucket/prefix``.
        s3_endpoint_url: endpoint of an S3-compatible store (MinIO, moto); empty for AWS.
        secret_key: Flask's secret key (signs UI form tokens).
        host: address the server binds to.
        port: port the server binds to.
        workers: gunicorn worker processes.
        sqlite_busy_timeout_ms: how long a SQLite writer waits for the lock.
        database_pool_size: connections kept per process for PostgreSQL and MySQL.
        database_connect_timeout_seconds: how long opening a PostgreSQL or MySQL connection
            may take before the request fails with 503 (libpq's minimum is 2).
        statement_timeout_ms: longest a PostgreSQL or MySQL/MariaDB statement may run before
            the database cancels it and the request fails with 503 (0 = no limit).
        max_upload_bytes: largest artifact a single PUT may carry (0 = unlimited).
        max_digest_files: most files a registration hashes for the version's digest; a source
            holding more is a 400 (0 = unlimited).
        max_digest_bytes: most bytes a registration hashes for the version's digest; a source
            holding more is a 400 (0 = unlimited).
        max_request_bytes: largest body of any other request (JSON API, UI forms); bigger
            gets 413 (0 = unlimited).
        allowed_artifact_locations: comma-separated URI prefixes a client may give as an
            experiment's ``artifact_location``, besides ``mlflow-artifacts:/`` and the root.
        serve_ui: serve the web UI at ``/``.
        auto_migrate: create or upgrade the schema on start (the embedded default).
        allowed_hosts: comma-separated Host names the server answers (DNS rebinding guard);
            empty or ``*`` = any (``modelyard server`` fills in its bound address, localhost
            and 127.0.0.1).
        allowed_origins: comma-separated foreign origins (``https://app.example``) allowed to
            call cross-origin, ``*`` for any; other foreign origins get 403.
        auth: require users, passwords or tokens, and enforce permissions.
        insecure_no_auth: allow binding a non-loopback address without ``auth``.
        default_permission: a user's level on objects nobody granted them anything on
            (READ, EDIT, MANAGE or NO_PERMISSIONS).
        webhook_key: Fernet key(s) encrypting webhook signing secrets at rest, comma-separated
            (the first encrypts, any decrypts: key rotation); also ``MODELYARD_WEBHOOK_KEY``.
        webhook_allow: comma-separated ``HOST[:PORT]`` webhook receivers allowed although
            private or loopback (and over http); also ``MODELYARD_WEBHOOK_ALLOW``.
        webhook_worker: run the webhook delivery worker as a thread in each server process
            (``modelyard server`` turns it on unless ``--no-webhook-worker``).
        webhook_retry_base_seconds: the first retry delay of a failed delivery; later ones
            are multiples of it (1, 5, 15, 60, 180, 360, 720: 22 hours at the default 60).
        webhook_poll_seconds: how often an idle delivery worker looks for new events.
        webhook_timeout_seconds: how long one delivery may take (connect, send, answer).
        events_max_waiters: long-polls of the event stream (``wait_seconds``) that may wait at
            once in one server process; each holds one of its ``--threads`` while it waits, so
            keep it below them. More are refused with a 503 and ``Retry-After``.
        model_version_source_regex: when set, a model version's source must match it (as
            ``re.search``), and matching sources MLflow accepts outside the artifact root are
            accepted too (other object stores, a run's own local artifact directory); also
            MLflow's ``MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX``.
    """

    database_url: str = DEFAULT_DATABASE_URL
    artifact_root: str = DEFAULT_ARTIFACT_ROOT
    s3_endpoint_url: str = ""
    secret_key: str = "modelyard-dev"
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 2
    sqlite_busy_timeout_ms: int = 30000
    database_pool_size: int = 8
    database_connect_timeout_seconds: int = 2
    statement_timeout_ms: int = 30000
    max_upload_bytes: int = 0
    max_digest_files: int = 10_000
    max_digest_bytes: int = 4 * 1024 * 1024 * 1024
    max_request_bytes: int = 16 * 1024 * 1024
    allowed_artifact_locations: str = ""
    serve_ui: bool = True
    auto_migrate: bool = False
    allowed_hosts: str = ""
    allowed_origins: str = ""
    auth: bool = False
    insecure_no_auth: bool = False
    default_permission: str = "READ"
    webhook_key: str = dataclasses.field(default="", repr=False)
    webhook_allow: str = ""
    webhook_worker: bool = False
    webhook_retry_base_seconds: float = 60.0
    webhook_poll_seconds: float = 1.0
    webhook_timeout_seconds: float = 10.0
    events_max_waiters: int = 2
    model_version_source_regex: str = ""

    def __post_init__(self) -> None:
        if self.model_version_source_regex:
            try:
                re.compile(self.model_version_source_regex)
            except re.error as err:
                raise ValueError(
                    f"REGISTRY_MODEL_VERSION_SOURCE_REGEX={self.model_version_source_regex!r}:"
                    f" not a valid regular expression ({err})"
                ) from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Build a Config from ``REGISTRY_<FIELD>`` variables, then apply ``overrides``.

        Raises:
            ValueError: a variable holds a value that does not cast to its field's type.
        """
        return read_settings(cls, ENV_PREFIX, environ, overrides, _FALLBACKS)

    def artifact_root_path(self) -> Path | None:
        """The local artifact directory, or None when the root is remote (S3)."""
        root = self.artifact_root
        if root.startswith("s3://"):
            return None
        if root.startswith("file://"):
            root = root[len("file://") :]
        return Path(root).expanduser().resolve()


_FALLBACKS = {
    "webhook_key": "MODELYARD_WEBHOOK_KEY",
    "webhook_allow": "MODELYARD_WEBHOOK_ALLOW",
    "model_version_source_regex": "MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX",
}
"""Second names (the issue's, MLflow's), read when the ``REGISTRY_`` variables are absent."""


def read_settings(
    cls: type[S],
    prefix: str,
    environ: Mapping[str, str] | None,
    overrides: Mapping[str, Any],
    fallbacks: Mapping[str, str] | None = None,
) -> S:
    """Build the settings dataclass ``cls`` from ``<prefix><FIELD>`` variables and ``overrides``.

    The one settings reader of both servers (``Config`` and serving's ``ServingConfig``).
    marshmallow casts each variable by its field's type (int, float, bool, str) and collects
    every bad one, so one start reports them all. ``fallbacks`` maps a field to a second
    variable read when the prefixed one is absent (``MLFLOW_TRACKING_URI``). Overrides that
    are None are ignored (a CLI flag left unset).

    Raises:
        ValueError: a variable holds a value that does not cast to its field's type, naming
            each such variable.
    """
    environ = os.environ if environ is None else environ
    fallbacks = fallbacks or {}
    declared: dict[str, ma.fields.Field[Any]] = {}
    raw: dict[str, str] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = prefix + field.name.upper()
        if name not in environ and environ.get(fallbacks.get(field.name, "")):
            name = fallbacks[field.name]
        if name in environ:
            type_name = str(field.type)
            declared[field.name] = _FIELD_TYPES[type_name](data_key=name)
            raw[name] = environ[name] if type_name == "str" else environ[name].strip()
    try:
        values: dict[str, Any] = ma.Schema.from_dict(declared)().load(raw)
    except ma.ValidationError as err:
        problems = " ".join(
            f"{name}={raw.get(name)!r}: {' '.join(map(str, messages))}"
            for name, messages in sorted(err.messages_dict.items())
        )
        raise ValueError(problems) from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    return cls(**values)


_FIELD_TYPES: dict[str, Callable[..., ma.fields.Field[Any]]] = {
    "str": ma.fields.String,
    "int": ma.fields.Integer,
    "float": partial(ma.fields.Float, allow_nan=False),
    "bool": partial(ma.fields.Boolean, falsy={*ma.fields.Boolean.falsy, ""}),
}
