"""``modelyard server`` / ``modelyard ui``: the API, artifact proxy and web UI under gunicorn."""

from __future__ import annotations

import os
from typing import Any

import click

from registry.cli.auth import secure_config
from registry.cli.preflight import prepare_database
from registry.cli.webhooks import check_webhook_key
from registry.config import DEFAULT_ARTIFACT_ROOT, DEFAULT_DATABASE_URL, Config


def _server_options(func: Any) -> Any:
    options = [
        click.option(
            "--backend-store-uri",
            "database_url",
            default=None,
            help=f"Database URI (default {DEFAULT_DATABASE_URL}, or REGISTRY_DATABASE_URL).",
        ),
        click.option(
            "--artifacts-destination",
            "artifact_root",
            default=None,
            help=f"Artifact root: a directory or s3://bucket/prefix ({DEFAULT_ARTIFACT_ROOT}).",
        ),
        click.option("--default-artifact-root", "legacy_artifact_root", default=None, hidden=True),
        click.option("--host", "-h", default=None, help="Address to bind (default 127.0.0.1)."),
        click.option("--port", "-p", type=int, default=None, help="Port to bind (default 5000)."),
        click.option(
            "--workers",
            "-w",
            type=click.IntRange(min=1),
            default=None,
            help="Gunicorn worker processes (default 2).",
        ),
        click.option(
            "--auth/--no-auth",
            "auth",
            default=None,
            help="Require users and tokens, enforce permissions (REGISTRY_AUTH).",
        ),
        click.option(
            "--insecure-no-auth",
            "insecure_no_auth",
            is_flag=True,
            default=None,
            help="Allow a non-loopback --host without --auth (anyone who reaches it can write).",
        ),
        click.option(
            "--allowed-hosts",
            "allowed_hosts",
            default=None,
            help="Comma-separated Host names to answer (default: --host, localhost, 127.0.0.1).",
        ),
        click.option(
            "--allowed-origins",
            "allowed_origins",
            default=None,
            help="Comma-separated foreign origins allowed to call cross-origin (default: none).",
        ),
        click.option(
            "--default-permission",
            "default_permission",
            type=click.Choice(["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"]),
            default=None,
            help="A user's level on objects nobody granted them anything on (default READ).",
        ),
        click.option(
            "--webhook-allow",
            "webhook_allow",
            multiple=True,
            metavar="HOST[:PORT]",
            help="A webhook receiver allowed although private or loopback, and over http "
            "(repeatable; or MODELYARD_WEBHOOK_ALLOW, comma-separated).",
        ),
        click.option(
            "--webhook-worker/--no-webhook-worker",
            "webhook_worker",
            default=None,
            help="Deliver webhooks from this server's processes (default on, or "
            "REGISTRY_WEBHOOK_WORKER; off when `modelyard webhooks worker` runs elsewhere).",
        ),
        click.option(
            "--threads",
            type=click.IntRange(min=1),
            default=4,
            show_default=True,
            help="Threads per worker.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run(threads: int, legacy_artifact_root: str | None, **flags: Any) -> None:
    flags["artifact_root"] = flags["artifact_root"] or legacy_artifact_root
    flags["webhook_allow"] = ",".join(flags["webhook_allow"]) or None
    if flags["webhook_worker"] is None and "REGISTRY_WEBHOOK_WORKER" not in os.environ:
        flags["webhook_worker"] = True
    try:
        config = Config.from_env(**flags)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    prepare_database(config)
    check_webhook_key(config)
    config = secure_config(config, os.environ)
    from registry.server.gunicorn_app import run_server

    click.echo(
        f"Modelyard listening on http://{config.host}:{config.port} "
        f"(store {config.database_url}, artifacts {config.artifact_root})"
    )
    run_server(config, threads=threads)


@click.command("server")
@_server_options
def server(**flags: Any) -> None:
    """Run the tracking and registry server (REST API, artifact proxy, web UI)."""
    _run(**flags)


@click.command("ui")
@_server_options
def ui(**flags: Any) -> None:
    """Run the server for browsing, as `mlflow ui` does (the same server)."""
    _run(**flags)


commands = (server, ui)
