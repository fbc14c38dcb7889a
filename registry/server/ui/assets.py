"""Static files of the UI, and plotly's JS served from the installed ``plotly`` package."""

from __future__ import annotations

from importlib import metadata, resources

from flask import Blueprint, send_file
from werkzeug.wrappers import Response

from registry.server.ui.pages import UI_ROOT

bp = Blueprint(
    "assets",
    __name__,
    url_prefix="/ui-assets",
    static_folder=str(UI_ROOT / "static"),
    static_url_path="/static",
)

ONE_YEAR = 365 * 24 * 3600


def plotly_version() -> str:
    """The installed plotly version; the script URL carries it so that upgrades bust caches."""
    return metadata.version("plotly")


@bp.get("/plotly-<version>.min.js")
def plotly_js(version: str) -> Response:
    """plotly.min.js from the plotly package: never copied into the repo, never fetched."""
    script = resources.files("plotly") / "package_data" / "plotly.min.js"
    response = send_file(
        str(script), mimetype="text/javascript", max_age=ONE_YEAR, conditional=True
    )
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response


@bp.app_context_processor
def _plotly_url() -> dict[str, object]:
    return {"plotly_version": plotly_version}
