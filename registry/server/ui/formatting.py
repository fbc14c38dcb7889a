"""Jinja filters for the UI: times, durations and numbers as people read them."""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Callable
from datetime import UTC, datetime


def format_datetime(ms: int | None) -> str:
    """``2026-11-22 19:52:03`` (UTC) for a time in ms since the epoch; empty for none."""
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(start: int | None, end: int | None) -> str:
    """``1h 02m``, ``3m 05s`` or ``4.2s`` between two times in ms; empty when unknown."""
    if not start or not end or end < start:
        return ""
    seconds = (end - start) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def format_number(value: float | int | str | None) -> str:
    """A metric value with at most 6 significant digits; NaN and infinities spelled out."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return f"{value:.6g}"


def shell_quote(text: str) -> str:
    """``text`` quoted for a POSIX shell, so that a copied command runs as shown."""
    return shlex.quote(text)


def python_string(text: str) -> str:
    """``text`` as a double-quoted string literal for a Python snippet shown on a page."""
    return json.dumps(text, ensure_ascii=False)


FILTERS: dict[str, Callable[..., str]] = {
    "datetime": format_datetime,
    "duration": format_duration,
    "number": format_number,
    "shell_quote": shell_quote,
    "python_string": python_string,
}
