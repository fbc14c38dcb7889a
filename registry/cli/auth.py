"""``modelyard auth ...``: the first admin, tokens and the audit log, straight on the database.

Also ``secure_config``, which ``modelyard server`` applies before it starts: the default
allowed hosts, the refusal to bind a non-loopback address without auth, the first admin.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import click

from registry.auth import bootstrap as first_admin
from registry.auth.audit import entry_json
from registry.auth.levels import SCOPES
from registry.auth.tokens import new_token
from registry.config import DEFAULT_DATABASE_URL, Config
from registry.errors import RegistryError
from registry.store import audit as audit_store
from registry.store import auth as store
from registry.store import close_database, open_database, use_database

_DAY_MS = 86_400_000


def secure_config(config: Config, environ: Mapping[str, str]) -> Config:
    """``config`` with its Host list filled in, after the start-up checks of auth.

    Raises:
        click.UsageError: a non-loopback bind without ``--auth`` or ``--insecure-no-auth``.
        click.ClickException: auth is on and no admin exists nor can be created.
    """
    if not config.auth and not config.insecure_no_auth and not first_admin.is_loopback(config.host):
        raise click.UsageError(
            f"Refusing to serve {config.host} without authentication: add --auth (see "
            "docs/security.md), or --insecure-no-auth if a trusted proxy authenticates."
        )
    if not config.allowed_hosts:
        hosts = first_admin.default_allowed_hosts(config.host)
        config = dataclasses.replace(config, allowed_hosts=hosts)
    if config.auth:
        with _database(config.database_url):
            try:
                created = first_admin.ensure_admin(environ)
            except RegistryError as err:
                raise click.ClickException(err.message) from None
        if created:
            click.echo(f"Created the first admin {created!r} from the environment.")
    return config


@contextmanager
def _database(url: str) -> Iterator[None]:
    database = open_database(url)
    try:
        with use_database(database), database.connection_context():
            yield
    finally:
        close_database(database)


_STORE = click.option(
    "--backend-store-uri",
    "database_url",
    default=DEFAULT_DATABASE_URL,
    show_default=True,
    envvar="REGISTRY_DATABASE_URL",
    help="Database URI.",
)


@click.group("auth")
def auth() -> None:
    """Users, tokens and the audit log of a server run with --auth."""


@auth.command("bootstrap")
@_STORE
@click.option("--username", default=None, help="The admin's name (MODELYARD_ADMIN_USERNAME).")
def bootstrap_command(database_url: str, username: str | None) -> None:
    """Create the first admin with a random password, printed once."""
    import os

    name = username or first_admin.admin_username(os.environ)
    with _database(database_url):
        try:
            password = first_admin.bootstrap(name)
        except RegistryError as err:
            raise click.ClickException(err.message) from None
    click.echo(f"Created admin {name!r}. Password (shown once): {password}")


@auth.command("create-token")
@_STORE
@click.argument("username")
@click.option("--name", default="", help="A label for the token.")
@click.option("--scope", type=click.Choice(SCOPES), default="read", show_default=True)
@click.option("--expires-in-days", type=click.IntRange(min=1), default=None)
@click.option("--service-account", is_flag=True, help="Create USERNAME as a service account.")
def create_token_command(
    database_url: str,
    username: str,
    name: str,
    scope: str,
    expires_in_days: int | None,
    service_account: bool,
) -> None:
    """Create a token for USERNAME and print it once (the store keeps only its hash)."""
    with _database(database_url):
        user = store.find_user(username)
        if user is None and service_account:
            user = store.create_user(username, None, is_service_account=True)
        if user is None:
            raise click.ClickException(
                f"No user {username!r} (add --service-account to create one)."
            )
        if scope == "admin" and not user.is_admin:
            raise click.ClickException("Only an admin may hold an admin token.")
        expires = store.now_ms() + expires_in_days * _DAY_MS if expires_in_days else None
        fresh = new_token()
        store.create_token(user, name, scope, fresh.lookup, fresh.secret_hash, expires)
    click.echo(fresh.plaintext)


@auth.command("audit")
@_STORE
@click.option("--user", "username", default=None, help="Only this user's writes.")
@click.option("--object-type", default=None, help="experiment, run, registered_model, ...")
@click.option("--object-id", default=None)
@click.option("--max-results", type=click.IntRange(1, 1000), default=50, show_default=True)
def audit_command(
    database_url: str,
    username: str | None,
    object_type: str | None,
    object_id: str | None,
    max_results: int,
) -> None:
    """Print the newest audit entries as JSON lines."""
    with _database(database_url):
        entries, _ = audit_store.search_audit(username, object_type, object_id, max_results, None)
        for entry in entries:
            click.echo(json.dumps(entry_json(entry)))


commands = (auth,)
