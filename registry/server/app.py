"""``create_app(config)``: the registry server's Flask application."""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import NotFound

from registry.artifacts import ArtifactStore, open_artifact_store
from registry.config import Config
from registry.errors import PayloadTooLarge, error_reply
from registry.server import api, hardening, prometheus
from registry.server.api import not_supported
from registry.server.json_body import RegistryJSONProvider
from registry.store import database_error, db, open_database, retry_deadlocks, use_database
from registry.store.migrate import check_schema, upgrade

_ARTIFACT_UPLOADS = "/api/2.0/mlflow-artifacts/artifacts/"
_AJAX_ALIASED = (
    "/ajax-api/2.0/mlflow/",
    "/ajax-api/2.0/mlflow-artifacts/",
    "/ajax-api/3.0/mlflow/",
)

ErrorPage = Callable[[BaseException], Any]
"""Renders an error as the UI's HTML page (``registry.server.ui.pages.error_page``)."""


@dataclass(frozen=True)
class ServerState:
    """What every request may reach: the config, the database and the artifact store."""

    config: Config
    database: Any  # the store's Database, from registry.store.open_database
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
    page: ErrorPage | None = None
    if config.serve_ui:
        from registry.server import ui
        from registry.server.ui.pages import error_page

        _register_blueprints(app, ui, "bp")
        page = error_page
    _register_error_handlers(app, page)
    prometheus.install(app, os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    app.before_request(_limit_body)
    app.before_request(_connect)
    app.teardown_request(_close)
    hardening.install(app, config)
    app.wsgi_app = _bound_to(database, app.wsgi_app)  # type: ignore[method-assign]
    app.wsgi_app = _ajax_aliases(app, app.wsgi_app)  # type: ignore[method-assign]
    if config.webhook_worker:
        from registry.services.webhooks.dispatcher import start_worker_thread
        from registry.services.webhooks.settings import WebhookSettings

        app.extensions["webhook_worker"] = start_worker_thread(
            WebhookSettings.from_config(config), database
        )
    return app


_SYNC_CACHE_LIMIT = 4096
"""Most functions whose ``ensure_sync`` answer is kept (views and hooks number a few hundred)."""


class _RegistryFlask(Flask):
    json_provider_class = RegistryJSONProvider

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Flask asks this of every hook and view on every request (a dozen inspect calls a
        # request): the answer for a given function never changes.
        try:
            return self._sync[func]
        except KeyError:
            sync = super().ensure_sync(func)
            if len(self._sync) < _SYNC_CACHE_LIMIT:  # per-request callables must not pile up
                self._sync[func] = sync
            return sync

    def dispatch_request(self) -> Any:
        # A transaction the database aborted to break a deadlock is run again (the cure MySQL
        # and PostgreSQL document), so the client sees the deadlock only if it persists.
        return retry_deadlocks(super().dispatch_request)

    def handle_user_exception(self, e: Exception) -> Any:
        # A database error raised anywhere in a request (a view, the auth hook, the connect)
        # becomes the error the store translates it to, before any handler sees it.
        translated = database_error(e)
        if translated is not None:
            translated.__cause__ = e
            e = translated
        return super().handle_user_exception(e)


def _bound_to(database: Any, wsgi_app: Any) -> Any:
    # Each request of this app uses this app's database, whatever other apps share the process.
    def bound(environ: Any, start_response: Any) -> Any:
        with use_database(database):
            return wsgi_app(environ, start_response)

    return bound


def _ajax_aliases(app: Flask, wsgi_app: Any) -> Any:
    """Answer MLflow's ``/ajax-api/...`` paths (its web UI's) with the ``/api/...`` routes.

    MLflow serves every API route under both prefixes. Rewriting the path before routing
    means one route, one rule and one guard for both; the few routes MLflow has only under
    ``/ajax-api`` are routed as they are.
    """
    own = app.url_map.bind("")

    def aliased(environ: Any, start_response: Any) -> Any:
        path: str = environ.get("PATH_INFO", "")
        if path.startswith(_AJAX_ALIASED) and not own.test(path, environ.get("REQUEST_METHOD")):
            environ["PATH_INFO"] = "/api/" + path.removeprefix("/ajax-api/")
        return wsgi_app(environ, start_response)

    return aliased


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


def _register_error_handlers(app: Flask, page: ErrorPage | None) -> None:
    def handle(exc: BaseException) -> Any:
        if isinstance(exc, ValidationError):
            exc = api.invalid_request(exc)
        if isinstance(exc, NotFound):  # no route: an MLflow GenAI path answers "not supported"
            exc = not_supported.refusal(request.path) or exc
        if page is not None and _wants_page():
            return page(exc)
        return error_response(exc)

    app.register_error_handler(Exception, handle)


def _wants_page() -> bool:
    # A browser that asks for a path outside the API (a mistyped UI address) gets the HTML
    # form of the error body; API clients, and clients that name no preference, get JSON.
    if request.path.startswith(("/api/", "/ajax-api/")):
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def error_response(exc: BaseException) -> tuple[Response, int, dict[str, str]]:
    """The JSON answer to ``exc``: ``registry.errors.error_reply``'s status, body and headers."""
    reply = error_reply(exc, where=f"{request.method} {request.path}")
    return jsonify(reply.body), reply.status, reply.headers
