"""An app with auth on (each engine), and users made through the real store and hashes."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.auth.passwords import hash_password
from registry.auth.tokens import new_token
from registry.config import Config
from registry.store import auth as store
from registry.store import use_database

ADMIN_PASSWORD = "admin-password-1"
PASSWORD = "s3cret-password"


def basic(username: str, password: str) -> dict[str, str]:
    """The header the official client sends for MLFLOW_TRACKING_USERNAME/PASSWORD."""
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def bearer(token: str) -> dict[str, str]:
    """The header the official client sends for MLFLOW_TRACKING_TOKEN."""
    return {"Authorization": f"Bearer {token}"}


def _make(url: str, artifact_root: Path, **overrides: object) -> Flask:
    from registry.server.app import create_app

    config = Config(database_url=url, artifact_root=str(artifact_root), auth=True, **overrides)  # type: ignore[arg-type]
    application = create_app(config)
    application.config["TESTING"] = True
    return application


def _close(application: Flask) -> None:
    database = application.extensions["registry"].database
    close_all = getattr(database, "close_all", None)
    if close_all is not None:
        close_all()


@pytest.fixture
def auth_app(db_url: str, artifact_root: Path) -> Iterator[Flask]:
    """The real app with auth on, on each engine, with an admin ``admin``."""
    application = _make(db_url, artifact_root)
    with use_database(application.extensions["registry"].database):
        store.create_user("admin", hash_password(ADMIN_PASSWORD), is_admin=True)
    yield application
    _close(application)


@pytest.fixture
def closed_auth_app(db_url: str, artifact_root: Path) -> Iterator[Flask]:
    """``auth_app`` where ungranted objects are invisible (default NO_PERMISSIONS)."""
    application = _make(db_url, artifact_root, default_permission="NO_PERMISSIONS")
    with use_database(application.extensions["registry"].database):
        store.create_user("admin", hash_password(ADMIN_PASSWORD), is_admin=True)
    yield application
    _close(application)


@pytest.fixture
def sqlite_auth_app(sqlite_url: str, artifact_root: Path) -> Iterator[Flask]:
    """The app with auth on, SQLite only, with an admin ``admin``."""
    application = _make(sqlite_url, artifact_root)
    with use_database(application.extensions["registry"].database):
        store.create_user("admin", hash_password(ADMIN_PASSWORD), is_admin=True)
    yield application
    _close(application)


@pytest.fixture
def make_user(request: pytest.FixtureRequest) -> Callable[..., dict[str, str]]:
    """Create a user in the requesting test's auth app; return their Basic header."""

    def make(app: Flask, username: str, *, is_admin: bool = False) -> dict[str, str]:
        with use_database(app.extensions["registry"].database):
            store.create_user(username, hash_password(PASSWORD), is_admin=is_admin)
        return basic(username, PASSWORD)

    return make


def make_token(
    app: Flask, username: str, scope: str = "write", expires_at: int | None = None
) -> str:
    """A token for ``username`` stored through the real store (a service account if new)."""
    with use_database(app.extensions["registry"].database):
        user = store.find_user(username) or store.create_user(
            username, None, is_service_account=True
        )
        fresh = new_token()
        store.create_token(user, "test", scope, fresh.lookup, fresh.secret_hash, expires_at)
    return fresh.plaintext


@pytest.fixture
def admin(auth_app: Flask) -> FlaskClient:
    """A client of ``auth_app`` that sends the admin's Basic credentials."""
    client = auth_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = basic("admin", ADMIN_PASSWORD)["Authorization"]
    return client
