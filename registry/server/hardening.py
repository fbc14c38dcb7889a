"""The request guard: Host, Origin and Content-Type checks, then authentication and the rule.

Installed on every app by ``create_app``. The first three run with or without auth:

- **Host** must be one of ``allowed_hosts`` (DNS rebinding), through Flask's ``TRUSTED_HOSTS``.
- **Origin**, when a browser sends one, must be this server's own or listed in
  ``allowed_origins``; listed origins get CORS headers (preflights answered here).
- **Content-Type** of a JSON API write must be ``application/json``, so a cross-site
  ``text/plain`` POST (no preflight) never reaches a view. Artifact routes take raw bytes.

With ``auth`` on, the request's principal (Basic, Bearer, or the UI's session) is checked
against the route's rule (``registry.auth.rules``) before the view runs, searches are limited to
what the principal may read, creators get MANAGE, and every write is audited.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, redirect, request, session, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from registry.auth import audit
from registry.auth.enforce import authorize
from registry.auth.identity import Principal, authenticate
from registry.auth.levels import Level, parse_level
from registry.auth.memo import AuthMemo, header_key
from registry.auth.rules import Rule, rule_for
from registry.config import Config
from registry.errors import BadRequest, InvalidParameter, PermissionDenied, UnsupportedMediaType
from registry.search.tokens import OP, tokenize
from registry.store import audit as audit_store
from registry.store import auth as auth_store
from registry.store import permissions
from registry.store.audit import PendingAudit

ARTIFACT_PREFIX = "/api/2.0/mlflow-artifacts/"
API_PREFIXES = ("/api/", "/ajax-api/")
"""The JSON API, and the routes MLflow serves its web UI only under ``/ajax-api``."""
MACHINE_PATHS = ("/metrics", "/graphql", "/get-artifact", "/model-versions/get-artifact")
"""Answered to programs, not browsers: a 401, never a redirect to the login form."""
RAW_BODY_ROUTES = (ARTIFACT_PREFIX, "/ajax-api/2.0/mlflow/upload-artifact")
"""Routes whose body is an artifact's bytes, not JSON."""
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024
"""Largest unread body drained after an early answer (bigger ones end the connection)."""
_CHANGES_GRANTS = frozenset(
    {
        "api_experiments.create",
        "experiments.create",
        "registered_models.create",
        "run.register",
        "registered_models.rename",
        "registered_models.delete",
    }
)
MAX_FILTER_BYTES = 4096
MAX_FILTER_TERMS = 50
_FILTER_KEYS = ("filter", "filter_string")
_TERM_KEYWORDS = frozenset({"LIKE", "ILIKE", "IN", "IS"})
_LIST_ARGS = frozenset({"run_ids", "experiment_ids", "runs"})
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FRAME_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def install(app: Flask, config: Config) -> None:
    """Register the guard's hooks on ``app``."""
    hosts = trusted_hosts(config)
    if hosts is not None:
        app.config["TRUSTED_HOSTS"] = hosts
    app.before_request(_check_host)
    app.before_request(_check_origin)
    app.before_request(_check_content_type)
    app.before_request(_check_filter)
    app.after_request(_security_headers)
    app.after_request(_drain_unread_body)
    if config.auth:
        app.extensions["modelyard.auth"] = AuthMemo()
        app.before_request(_authorize)
        app.after_request(_after_write)
        app.teardown_request(_unbind_viewer)


def trusted_hosts(config: Config) -> list[str] | None:
    """The Host names this server answers (None: any, the library default when unset)."""
    names = [h.strip() for h in config.allowed_hosts.split(",") if h.strip()]
    if not names or "*" in names:
        return None
    return names


def allowed_origins(config: Config) -> list[str]:
    """The foreign origins (``scheme://host[:port]``) allowed to call, ``*`` for any."""
    return [o.strip().rstrip("/") for o in config.allowed_origins.split(",") if o.strip()]


def _config() -> Config:
    cfg: Config = current_app.extensions["registry"].config
    return cfg


def _check_host() -> None:
    # request.host raises werkzeug's SecurityError (400) when the Host is not trusted.
    request.host  # noqa: B018


def _check_origin() -> Response | None:
    origin = request.environ.get("HTTP_ORIGIN")  # request.headers.get, without its KeyError
    if origin is None or _same_origin(origin):
        return None
    if not _origin_allowed(origin):
        raise PermissionDenied(
            f"Cross-origin request from {origin!r} refused: add it to --allowed-origins "
            "(REGISTRY_ALLOWED_ORIGINS) to allow it."
        )
    if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
        return Response(status=204)
    return None


def _same_origin(origin: str) -> bool:
    return urlsplit(origin).netloc.lower() == request.host.lower()


def _origin_allowed(origin: str) -> bool:
    allowed = allowed_origins(_config())
    return "*" in allowed or origin.rstrip("/") in allowed


def _check_content_type() -> None:
    if request.method not in _WRITE_METHODS or not request.path.startswith(API_PREFIXES):
        return
    if request.path.startswith(RAW_BODY_ROUTES):
        return
    has_body = bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )
    if request.method != "POST" and not has_body:
        return
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            f"The API reads JSON: send Content-Type: application/json "
            f"(got {request.mimetype or 'none'!r})."
        )
    try:
        # Parsed once here (the views reuse werkzeug's cached result).
        request.get_json(silent=True)
    except RecursionError:
        raise BadRequest("Malformed request body: JSON nested too deeply.") from None


def _check_filter() -> None:
    texts = [request.args.get(key) for key in _FILTER_KEYS] if request.query_string else []
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        texts += [body.get(key) for key in _FILTER_KEYS]
    for text in texts:
        if isinstance(text, str) and text:
            check_filter_size(text)


def check_filter_size(text: str) -> None:
    """Refuse a search filter over ``MAX_FILTER_BYTES`` or ``MAX_FILTER_TERMS`` comparisons.

    Raises:
        InvalidParameter: the filter is too long or has too many terms.
    """
    size = len(text.encode())
    if size > MAX_FILTER_BYTES:
        raise InvalidParameter(
            f"The filter has {size} bytes; the limit is {MAX_FILTER_BYTES}.", limit=MAX_FILTER_BYTES
        )
    try:
        tokens = tokenize(text)
    except InvalidParameter:
        return  # the view reports the syntax error with its position
    terms = sum(1 for t in tokens if t.type == OP or t.keyword() in _TERM_KEYWORDS)
    if terms > MAX_FILTER_TERMS:
        raise InvalidParameter(
            f"The filter has {terms} comparisons; the limit is {MAX_FILTER_TERMS}.",
            limit=MAX_FILTER_TERMS,
        )


def _drain_unread_body(response: Response) -> Response:
    # An answer given before the body was read (401, 403, 415, a bad path) must still consume
    # it: gunicorn would otherwise lose a request the client pipelined behind it.
    length = request.content_length or 0
    if not 0 < length <= DRAIN_LIMIT_BYTES:
        return response
    left = length
    try:
        while left > 0 and (chunk := request.stream.read(min(left, 65536))):
            left -= len(chunk)
    except (OSError, ValueError, HTTPException):  # the client went away: nothing to keep
        pass
    return response


def _security_headers(response: Response) -> Response:
    for key, value in _FRAME_HEADERS.items():
        response.headers.setdefault(key, value)
    origin = request.environ.get("HTTP_ORIGIN")
    if origin and not _same_origin_safe(origin) and _origin_allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
        response.vary.add("Origin")
    if response.status_code == 401 and (
        request.path.startswith(API_PREFIXES) or request.path in MACHINE_PATHS
    ):
        response.headers["WWW-Authenticate"] = 'Basic realm="modelyard"'
    return response


def _same_origin_safe(origin: str) -> bool:
    try:
        return _same_origin(origin)
    except Exception:  # an untrusted Host: its 400 is already the answer
        return False


def default_level(config: Config) -> Level:
    """The level of a user on objects nobody granted them anything on."""
    return parse_level(config.default_permission)


def auth_memo() -> AuthMemo:
    """The app's auth caches."""
    memo: AuthMemo = current_app.extensions["modelyard.auth"]
    return memo


def current_principal() -> Principal | None:
    """The principal of this request (None when anonymous or auth is off)."""
    principal: Principal | None = g.get("principal")
    return principal


def _authorize() -> BaseResponse | None:
    principal = _principal_of(request.headers.get("Authorization"))
    if principal is None and "user_id" in session:
        principal = _session_principal(int(session["user_id"]))
    g.principal = principal
    rule = rule_for(request.endpoint)
    if request.endpoint is not None and rule is None:
        raise PermissionDenied(f"No permission rule for {request.endpoint}: refused.")
    if principal is not None and not principal.is_admin:
        g.viewer_token = permissions.bind_viewer(_viewer(principal, rule))
    fields = _fields() if rule is not None else {}
    if _audited(rule):
        # Appended by the request's committing write transaction, else settled after it.
        g.audit = _audit_row(fields)
        g.audit_token = audit_store.arm(g.audit)
    if principal is None and rule is not None and rule.access != "public" and _is_page():
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth_ui.login", next=target), code=303)
    if rule is not None:
        authorize(principal, rule, fields, default_level(_config()), auth_memo())
    return None


def _audited(rule: Rule | None) -> bool:
    # Reads (searches sent as POST included) are not audited.
    return rule is not None and rule.level != Level.READ and request.method in _WRITE_METHODS


def _audit_row(fields: dict[str, Any]) -> PendingAudit:
    principal = current_principal()
    return audit.prepare(
        endpoint=request.endpoint or "",
        method=request.method,
        path=request.path,
        fields=fields,
        remote_addr=request.remote_addr or "",
        username=principal.username if principal else "",
        user_id=principal.user_id if principal else None,
    )


def _viewer(principal: Principal, rule: Rule | None) -> permissions.Viewer:
    readable = min(default_level(_config()), principal.cap) >= Level.READ
    if rule is None or rule.access != "user":
        return permissions.Viewer(principal.user_id, readable)
    # A listing: filter on the user's few exceptions (remembered a moment) over a subquery.
    key = (principal.user_id, readable)
    listed = auth_memo().exceptions.get(key)
    if not isinstance(listed, tuple):
        listed = permissions.exceptions_of(principal.user_id, readable)
        auth_memo().exceptions.put(key, listed)
    return permissions.Viewer(principal.user_id, readable, listed[0], listed[1])


def _is_page() -> bool:
    # A browser asking for a UI page is sent to the login form instead of a bare 401.
    ui = request.path not in MACHINE_PATHS and not request.path.startswith(API_PREFIXES)
    return ui and _config().serve_ui


def _principal_of(authorization: str | None) -> Principal | None:
    if not authorization:
        return None
    key = header_key(authorization)
    remembered = auth_memo().principals.get(key)
    if isinstance(remembered, Principal):
        return remembered
    principal = authenticate(authorization)
    if principal is not None:
        auth_memo().principals.put(key, principal)
    return principal


def _session_principal(user_id: int) -> Principal | None:
    user = auth_store.find_user_by_id(user_id)
    if user is None:
        session.clear()
        return None
    return Principal(int(user.id), str(user.username), bool(user.is_admin))


def _fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    # An artifact's bytes name nothing: only its URL and query string say what it is written to.
    writes = request.method in _WRITE_METHODS and not request.path.startswith(RAW_BODY_ROUTES)
    if writes and request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            fields.update(body)
    elif writes and request.form:
        fields.update(request.form.to_dict())
    for key in request.args:
        # As the views read them: every value of a list argument, else the first one only.
        value = request.args.getlist(key) if key in _LIST_ARGS else request.args.get(key)
        fields.setdefault(key, value)
    fields.update(request.view_args or {})
    return fields


def _after_write(response: Response) -> Response:
    pending: PendingAudit | None = g.get("audit")
    if pending is None:  # refused before the rule was checked (a bad credential, a 415)
        if not _audited(rule_for(request.endpoint)):
            return response
        pending = _audit_row(_fields())
    endpoint = request.endpoint or ""
    changes_grants = endpoint.startswith(("auth_api.", "auth_ui.")) or endpoint in _CHANGES_GRANTS
    if changes_grants and current_principal() is not None and response.status_code < 400:
        auth_memo().forget()  # a user, token or grant changed: applied at once here
    audit_store.settle(pending, response.status_code)
    return response


def _unbind_viewer(_exc: BaseException | None) -> None:
    token = g.pop("viewer_token", None)
    if token is not None:
        permissions.unbind_viewer(token)
    audit_token = g.pop("audit_token", None)
    if audit_token is not None:
        audit_store.disarm(audit_token)
