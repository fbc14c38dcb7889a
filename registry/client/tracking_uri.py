"""Which server the client talks to: set explicitly, else ``MLFLOW_TRACKING_URI``, else default."""

from __future__ import annotations

import os

from registry.client.transport import DEFAULT_TRACKING_URI, normalize_tracking_uri

_tracking_uri: str | None = None


def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Point the client (fluent API and new ``Client()`` objects) at ``uri``.

    Raises:
        InvalidParameter: the URI's scheme is not one the client speaks.
    """
    global _tracking_uri
    _tracking_uri = normalize_tracking_uri(os.fspath(uri))


def get_tracking_uri() -> str:
    """The URI in effect: the one set, else ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``."""
    if _tracking_uri is not None:
        return _tracking_uri
    return normalize_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI)


def reset_tracking_uri() -> None:
    """Forget the URI set by ``set_tracking_uri`` (the environment applies again)."""
    global _tracking_uri
    _tracking_uri = None
