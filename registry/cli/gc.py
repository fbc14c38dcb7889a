"""``modelyard gc``: permanently remove deleted runs and experiments, with their artifacts."""

from __future__ import annotations

import re
import time

import click

from registry.cli.preflight import prepare_database
from registry.config import Config

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration_ms(text: str) -> int:
    """``7d``, ``12h``, ``1d2h30m``, ``0s`` as milliseconds.

    Raises:
        click.BadParameter: the text is not such a duration.
    """
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise click.BadParameter(f"{text!r} is not a duration like 30d, 12h, 1d2h30m or 0s")
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000


@click.command("gc")
@click.option("--backend-store-uri", "database_url", default=None, help="Database URI.")
@click.option("--artifacts-destination", "artifact_root", default=None, help="Artifact root.")
@click.option(
    "--older-than",
    default="0s",
    show_default=True,
    help="Only what was deleted at least this long ago (e.g. 30d, 12h).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be removed; remove nothing.")
def gc(database_url: str | None, artifact_root: str | None, older_than: str, dry_run: bool) -> None:
    """Permanently remove deleted runs and experiments and their artifacts.

    Runs, logged models and experiments that a registered model version still uses are kept.
    """
    cutoff_ms = int(time.time() * 1000) - parse_duration_ms(older_than)
    config = Config.from_env(database_url=database_url, artifact_root=artifact_root)
    prepare_database(config)
    from registry.artifacts import open_artifact_store
    from registry.services.gc import collect_garbage
    from registry.store import open_database

    database = open_database(config.database_url)
    with database.connection_context():
        report = collect_garbage(open_artifact_store(config), config, cutoff_ms, dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    for kind, items in (
        ("run", report.runs),
        ("logged model", report.logged_models),
        ("experiment", report.experiments),
    ):
        for item in items:
            click.echo(f"{verb} {kind} {item}")
    for line in report.kept:
        click.echo(f"Kept {line}")
    click.echo(
        f"{verb} {len(report.runs)} runs, {len(report.logged_models)} logged models, "
        f"{len(report.experiments)} experiments."
    )


commands = (gc,)
