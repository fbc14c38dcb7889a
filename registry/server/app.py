"""``create_app(config)``: the registry server's Flask application."""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
from dataclasses import dataclass
from typing import Any

import peewee
from flask import Flask, Response, current_app, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from registry.artifacts import ArtifactStore, open_artifact_store
from registry.config import Config
from registry.errors import InvalidParameter, PayloadTooLarge, RegistryError
from registry.server import api, hardening, prometheus
from registry.store import (
    DATABASE_UNAVAILABLE,
    db,
    open_database,
    retry_deadlocks,
    translate_operational_error,
    use_database,
)
from registry.store.migrate import check_schema, upgrade

logger = logging.getLogger(__name__)

_RETRY_AFTER_SECONDS = "1"

_ARTIFACT_UPLOADS = "/api/2.0/mlflow-artifacts/artifacts/"

_HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "ENDPOINT_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


@dataclass(frozen=True)
class ServerState:
    """What every request may reach: the config, the database and the artifact store."""

    config: Config
    database: peewee.Database
    artifacts: ArtifactStore


def create_app(config: Config | None = None) -> Flask:
    """Build the registry server for ``config`` (read from the environment when omitted).

    Raises:
        registry.store.migrate.SchemaOutOfDate: the schema needs ``modelyard db upgrade``
            (unless ``config.auto_migrate`` is set, in which case it is upgraded here).
    """
    config = config or Config.from_env()
    app = _RegistryFlask("registry.server")
    app.config["SECRET_KEY"] = config.secret_key
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.json.sort_keys = False  # type: ignore[attr-defined]
    database = open_database(
        config.database_url,
        busy_timeout_ms=config.sqlite_busy_timeout_ms,
        pool_size=config.database_pool_size,
        connect_timeout=config.database_connect_timeout_seconds,
        statement_timeout_ms=config.statement_timeout_ms,
    )
    with use_database(database), database.connection_context():
        if config.auto_migrate:
            upgrade()
        check_schema()
    app.extensions["registry"] = ServerState(config, database, open_artifact_store(config))
    _register_blueprints(app, api, "bp")
    if config.serve_ui:
        from registry.server import ui

        _register_blueprints(app, ui, "bp")
    _register_error_handlers(app)
    prometheus.install(app, os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    app.before_request(_limit_body)
    app.before_request(_connect)
    app.teardown_request(_close)
    hardening.install(app, config)
    app.wsgi_app = _bound_to(database, app.wsgi_app)  # type: ignore[method-assign]
    return app


class _RegistryFlask(Flask):
    def dispatch_request(self) -> Any:
        # A transaction the database aborted to break a deadlock is run again (the cure MySQL
        # and PostgreSQL document), so the client sees the deadlock only if it persists.
        return retry_deadlocks(super().dispatch_request)


def _bound_to(database: peewee.Database, wsgi_app: Any) -> Any:
    # Each request of this app uses this app's database, whatever other apps share the process.
    def bound(environ: Any, start_response: Any) -> Any:
        with use_database(database):
            return wsgi_app(environ, start_response)

    return bound


def _register_blueprints(app: Flask, package: Any, attribute: str) -> None:
    """Register ``bp`` from every module of ``package``: one module per resource."""
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        blueprint = getattr(module, attribute, None)
        if blueprint is not None:
            app.register_blueprint(blueprint)


def _limit_body() -> None:
    # Artifact uploads stream to storage under their own limit (max_upload_bytes).
    if request.method == "PUT" and request.path.startswith(_ARTIFACT_UPLOADS):
        return
    limit = current_app.extensions["registry"].config.max_request_bytes
    if limit <= 0:
        return
    length = request.content_length
    if length is None and request.environ.get("wsgi.input_terminated"):
        # A chunked body: Werkzeug silently cuts it at max_content_length, so read one byte
        # past the limit to tell a body that fits from one that does not.
        request.max_content_length = limit + 1
        length = len(request.get_data(cache=True))
    if length is not None and length > limit:
        raise PayloadTooLarge(
            f"The request body is over the limit of {limit} bytes (REGISTRY_MAX_REQUEST_BYTES).",
            limit=limit,
        )
    request.max_content_length = limit


def _connect() -> None:
    db.connect(reuse_if_open=True)


def _close(_exc: BaseException | None) -> None:
    if not db.is_closed():
        db.close()


def _register_error_handlers(app: Flask) -> None:
    app.register_error_handler(RegistryError, _registry_error)
    app.register_error_handler(ValidationError, _validation_error)
    app.register_error_handler(HTTPException, _http_error)
    for database_error in DATABASE_UNAVAILABLE:
        app.register_error_handler(database_error, _database_unavailable)
    app.register_error_handler(Exception, _unexpected_error)


def error_response(err: RegistryError) -> tuple[Response, int]:
    """The JSON body and status for one of our errors (a 503 also says when to retry)."""
    response = jsonify(err.to_dict())
    if err.http_status == 503:
        response.headers["Retry-After"] = _RETRY_AFTER_SECONDS
    return response, err.http_status


def _registry_error(err: RegistryError) -> tuple[Response, int]:
    return error_response(err)


def _validation_error(err: ValidationError) -> tuple[Response, int]:
    messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
    summary = "; ".join(f"{field}: {_flatten(msg)}" for field, msg in messages.items())
    return error_response(InvalidParameter(f"Invalid request: {summary}", **messages))


def _flatten(message: Any) -> str:
    if isinstance(message, list):
        return " ".join(_flatten(m) for m in message)
    if isinstance(message, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in message.items())
    return str(message)


def _http_error(err: HTTPException) -> tuple[Response, int]:
    status = err.code or 500
    code = _HTTP_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")
    message = err.description or err.name
    if status == 404:
        message = f"No endpoint {request.method} {request.path}"
    response = jsonify({"error_code": code, "message": message})
    if status == 405 and err.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(err.valid_methods)  # type: ignore[attr-defined]
    return response, status


def _database_unavailable(err: Exception) -> tuple[Response, int]:
    return error_response(translate_operational_error(err))


def _unexpected_error(err: Exception) -> tuple[Response, int]:
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return jsonify({"error_code": "INTERNAL_ERROR", "message": "Internal server error"}), 500
