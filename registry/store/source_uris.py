"""What a model version's ``source`` URI names: a run, a logged model or a registered model.

Pure string parsing, shared by the rules that validate a source (``registry.services.sources``)
and the permission checks that guard creating one (``registry.auth``).
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def after_scheme(source: str, scheme: str) -> str | None:
    """What follows ``<scheme>:/`` in ``source`` (any case, as RFC 3986 allows), else None."""
    prefix = scheme + ":/"
    return source[len(prefix) :] if source[: len(prefix)].lower() == prefix else None


def runs_uri_parts(source: str) -> tuple[str, str] | None:
    """``(run_id, path)`` of a ``runs:/<run_id>/<path>`` URI, or None for any other URI."""
    rest = after_scheme(source, "runs")
    if rest is None:
        return None
    run_id, _, path = rest.strip("/").partition("/")
    return (run_id, path.strip("/")) if run_id else None


def logged_model_id_of(source: str) -> str:
    """The logged-model id of a ``models:/m-<id>[/<path>]`` source, or ``""``."""
    rest = after_scheme(source, "models")
    model_id = (rest or "").strip("/").split("/", 1)[0]
    return model_id if model_id.startswith("m-") else ""


def registered_model_ref(source: str) -> tuple[str, str, str] | None:
    """``(name, ref, alias)`` of ``models:/<name>/<ref>`` or ``models:/<name>@<alias>``.

    One of ``ref`` and ``alias`` is empty. None for any other URI (a logged model's included).
    """
    rest = after_scheme(source, "models")
    if rest is None or logged_model_id_of(source):
        return None
    rest = rest.strip("/")
    if "@" in rest and "/" not in rest:
        name, alias = rest.split("@", 1)
        return (name, "", alias) if name else None
    name, _, ref = rest.partition("/")
    return (name, ref, "") if name else None


def artifact_proxy_paths(source: str) -> list[str]:
    """The proxy paths an ``mlflow-artifacts:/<path>`` source could name, raw and decoded.

    Readers differ in whether they percent-decode the path, so every reading is listed (once);
    empty for any other URI.
    """
    parts = urlsplit(source)
    if parts.scheme.lower() != "mlflow-artifacts" or parts.netloc:
        return []
    raw = parts.path
    readings = (raw, unquote(raw), unquote(unquote(raw)))
    return list(dict.fromkeys(reading.strip("/") for reading in readings))
