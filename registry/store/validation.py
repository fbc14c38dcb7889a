"""Validation of tracking writes: MLflow's key, value and batch rules; artifact locations."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from registry.config import Config
from registry.errors import InvalidParameter

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 5000
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_TOTAL = 1000
MAX_ENTITY_NAME_LENGTH = 250

_KEY_PATTERN = re.compile(r"^[\w\-. :/]*$")


def validate_key(key: str, kind: str) -> None:
    """Check a metric, param or tag name as MLflow does.

    Raises:
        InvalidParameter: empty, too long, with a forbidden character, ``..`` or a leading ``/``.
    """
    if not key:
        raise InvalidParameter(f"Invalid {kind} name: ''. Names may not be empty.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidParameter(
            f"{kind.capitalize()} name '{key[:40]}...' had length {len(key)}, "
            f"which exceeded length limit of {MAX_KEY_LENGTH}"
        )
    if not _KEY_PATTERN.match(key) or key.startswith("/") or ".." in key.split("/"):
        raise InvalidParameter(
            f"Invalid {kind} name: '{key}'. Names may only contain alphanumerics, underscores (_),"
            " dashes (-), periods (.), spaces ( ), colons (:) and slashes (/), and may not start"
            " with '/' or contain '..'."
        )


def validate_value(key: str, value: str, limit: int, kind: str) -> None:
    """Check a param or tag value's length.

    Raises:
        InvalidParameter: the value is longer than ``limit`` characters.
    """
    if len(value) > limit:
        raise InvalidParameter(
            f"{kind.capitalize()} value for '{key}' had length {len(value)}, "
            f"which exceeded length limit of {limit}"
        )


def validate_param(key: str, value: str) -> None:
    """Check a param's key and value.

    Raises:
        InvalidParameter: see ``validate_key`` and ``validate_value``.
    """
    validate_key(key, "param")
    validate_value(key, value, MAX_PARAM_VALUE_LENGTH, "param")


def validate_tag(key: str, value: str, limit: int = MAX_TAG_VALUE_LENGTH) -> None:
    """Check a tag's key and value.

    Raises:
        InvalidParameter: see ``validate_key`` and ``validate_value``.
    """
    validate_key(key, "tag")
    validate_value(key, value, limit, "tag")


def validate_batch_sizes(
    metrics: Sequence[object], params: Sequence[object], tags: Sequence[object]
) -> None:
    """Check log-batch's limits: 1000 metrics, 100 params, 100 tags, 1000 entries in all.

    Raises:
        InvalidParameter: a limit is exceeded.
    """
    for name, items, limit in (
        ("metrics", metrics, MAX_BATCH_METRICS),
        ("params", params, MAX_BATCH_PARAMS),
        ("tags", tags, MAX_BATCH_TAGS),
    ):
        if len(items) > limit:
            raise InvalidParameter(
                f"A batch logging request can contain at most {limit} {name}. "
                f"Got {len(items)} {name}. Please split up {name} across multiple requests and try"
                " again."
            )
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_BATCH_TOTAL:
        raise InvalidParameter(
            f"A batch logging request can contain at most {MAX_BATCH_TOTAL} metrics, params and"
            f" tags in total. Got {total} entries."
        )


def validate_length(value: str | None, limit: int, what: str) -> None:
    """Check that an optional string fits its column.

    Raises:
        InvalidParameter: the value is longer than ``limit`` characters.
    """
    if value is not None and len(value) > limit:
        raise InvalidParameter(
            f"{what} had length {len(value)}, which exceeded length limit of {limit}"
        )


def validate_name(name: str, kind: str) -> str:
    """A stripped, non-empty entity name (experiment, run, logged model).

    Raises:
        InvalidParameter: the name is empty or longer than 250 characters.
    """
    if not name or not name.strip():
        raise InvalidParameter(f"Invalid {kind} name: '{name}'. The name may not be empty.")
    if len(name) > MAX_ENTITY_NAME_LENGTH:
        raise InvalidParameter(
            f"{kind.capitalize()} name had length {len(name)}, "
            f"which exceeded length limit of {MAX_ENTITY_NAME_LENGTH}"
        )
    return name


def validate_artifact_location(location: str | None, config: Config) -> None:
    """Accept a client's ``artifact_location`` only where the server's own artifacts live.

    Allowed: ``mlflow-artifacts:/...`` without a host (the server's proxy), a location under
    the configured artifact root, or one under a prefix the operator lists in
    ``allowed_artifact_locations``. Anything else would make clients (the official one
    included) upload a run's files wherever the experiment's creator chose.

    Raises:
        InvalidParameter: control characters, ``..`` segments, or a location not allowed.
    """
    if not location:
        return
    for text in (location, unquote(location), unquote(unquote(location))):
        if any(ord(char) < 32 for char in text):
            raise InvalidParameter("Invalid artifact_location: control characters.")
        if ".." in re.split(r"[/\\]", text):
            raise InvalidParameter(f"Invalid artifact_location {location!r}: '..' segments.")
    parts = urlsplit(location)
    if parts.scheme == "mlflow-artifacts" and not parts.netloc:
        return
    if path_under_artifact_root(location, config) is not None or in_allowed_locations(
        location, config
    ):
        return
    raise InvalidParameter(
        f"Invalid artifact_location {location!r}: use mlflow-artifacts:/... or a location under"
        " the server's artifact root; an operator may allow other prefixes with"
        " REGISTRY_ALLOWED_ARTIFACT_LOCATIONS.",
        artifact_location=location,
    )


def in_allowed_locations(location: str, config: Config) -> bool:
    """True when ``location`` is at or under a prefix of ``allowed_artifact_locations``."""
    return any(
        location == prefix or location.startswith(prefix.rstrip("/") + "/")
        for prefix in _allowed_prefixes(config)
    )


def _allowed_prefixes(config: Config) -> list[str]:
    return [p.strip() for p in config.allowed_artifact_locations.split(",") if p.strip()]


def path_under_artifact_root(location: str, config: Config) -> str | None:
    """The path, relative to the server's artifact root, of a location strictly inside it.

    A ``file:`` URI (no host, or ``localhost``) or an absolute path, percent-decoded for
    ``file:`` and normalised, under a local root; a URI starting with an S3 root followed by
    ``/``. None for anything else, the root itself included. The one containment check that
    source validation, artifact locations and gc share.
    """
    root = config.artifact_root_path()
    if root is None:
        prefix = config.artifact_root.rstrip("/") + "/"
        relative = location[len(prefix) :].strip("/") if location.startswith(prefix) else ""
        return relative or None
    parts = urlsplit(location)
    if parts.scheme.lower() == "file" and parts.netloc in ("", "localhost"):
        path = unquote(parts.path)
    elif not parts.scheme:
        path = location
    else:
        return None
    if not path.startswith("/"):
        return None
    normal = PurePosixPath(posixpath.normpath(path))
    if normal == PurePosixPath(root) or not normal.is_relative_to(PurePosixPath(root)):
        return None
    return normal.relative_to(PurePosixPath(root)).as_posix()
