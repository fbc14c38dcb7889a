"""What every UI blueprint shares: templates, the CSRF check and the error page."""

from __future__ import annotations

import hmac
import logging
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from registry.artifacts import ArtifactStore
from registry.errors import NotFound, RegistryError, error_reply
from registry.server.ui.formatting import FILTERS
from registry.server.ui.markdown_text import render_markdown

logger = logging.getLogger(__name__)
UI_ROOT = Path(__file__).parent
CSRF_FIELD = "csrf_token"
_SESSION_KEY = "_csrf"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def make_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A UI blueprint: shared templates, CSRF-checked POSTs and HTML error pages."""
    bp = Blueprint(
        name, import_name, url_prefix=url_prefix or None, template_folder=str(UI_ROOT / "templates")
    )
    bp.before_request(_check_csrf)
    bp.after_request(_security_headers)
    bp.register_error_handler(RegistryError, _registry_error)
    bp.register_error_handler(Exception, error_page)
    bp.app_context_processor(_template_globals)
    for filter_name, function in FILTERS.items():
        bp.add_app_template_filter(function, filter_name)
    bp.add_app_template_filter(render_markdown, "markdown")
    return bp


def csrf_token() -> str:
    """The session's CSRF token (created on first use)."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[_SESSION_KEY] = token
    return token


def artifact_store() -> ArtifactStore:
    """The server's artifact store."""
    store: ArtifactStore = current_app.extensions["registry"].artifacts
    return store


def back(default: str) -> Response:
    """Redirect to the form's ``next`` field when it is a local path, else to ``default``."""
    target = request.form.get("next", "")
    return redirect(target if _is_local_path(target) else default, code=303)


def _is_local_path(target: str) -> bool:
    # Browsers drop tabs and newlines and read a backslash as a slash: "/\t/evil.com" is
    # "//evil.com". So: no control characters or backslashes, no scheme or host, one leading "/".
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in target):
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
    )


def _security_headers(response: Response) -> Response:
    # Pages run only our own script files: an injected inline <script> would not execute even
    # if escaping ever failed. plotly's WebGL traces compile shaders with Function(), hence eval.
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def _template_globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "CSRF_FIELD": CSRF_FIELD}


def _check_csrf() -> None:
    if request.method != "POST":
        return
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get(_SESSION_KEY)
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        abort(400, "The form expired or did not come from this site: reload the page and retry.")


def _registry_error(err: RegistryError) -> Response | tuple[str, int, dict[str, str]]:
    # A refused button action goes back to the page it came from with the server's reason.
    if request.method == "POST" and not isinstance(err, NotFound):
        flash(err.message, "error")
        return back(request.referrer or url_for("experiments.index"))
    return error_page(err)


HUMAN_TITLES = {
    400: "That request could not be understood",
    401: "Please log in",
    403: "You may not see this",
    404: "Page not found",
    405: "That action is not available here",
    409: "That conflicts with what exists",
    413: "That upload is too large",
    429: "Too many requests",
    503: "The server is busy",
}


def error_page(exc: BaseException) -> tuple[str, int, dict[str, str]]:
    """The HTML form of the one error body: the same status, error_code and message.

    The page is titled for people ("Page not found"); the API's ``error_code`` stays on it, small.
    """
    reply = error_reply(exc, where=f"{request.method} {request.path}")
    title = HUMAN_TITLES.get(reply.status) or (
        "Something went wrong" if reply.status >= 500 else "That did not work"
    )
    page = render_template(
        "error.html",
        status=reply.status,
        title=title,
        error_code=reply.body["error_code"],
        message=reply.body["message"],
    )
    return page, reply.status, reply.headers
