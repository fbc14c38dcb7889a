"""Fixtures for client tests: the fluent API pointed at a fresh embedded SQLite store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import registry
from registry import fluent
from registry.client import Client
from registry.client.tracking_uri import reset_tracking_uri


@pytest.fixture
def tracking_uri(sqlite_url: str) -> Iterator[str]:
    """The fluent API on an embedded SQLite file (artifacts in ``mlartifacts`` beside it)."""
    registry.set_tracking_uri(sqlite_url)
    yield sqlite_url
    while fluent.active_run() is not None:
        fluent.end_run()
    reset_tracking_uri()


@pytest.fixture
def ml(tracking_uri: str) -> Client:
    """The fluent API's shared client for ``tracking_uri``."""
    return fluent.client()
