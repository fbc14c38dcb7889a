"""The ``modelyard`` command: one module per command group, each exposing ``commands``.

Other packages add commands through the ``modelyard.commands`` entry point group (``serve`` comes
from ``serving.cli`` that way), so the registry never imports them.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import sys

import click

from registry import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="modelyard")
def cli() -> None:
    """Modelyard: experiment tracking, model registry and model serving."""


def _add_commands(argv: list[str]) -> None:
    plugins = {ep.name: ep for ep in importlib.metadata.entry_points(group="modelyard.commands")}
    if argv and argv[0] in plugins:
        # ``modelyard serve`` needs none of the registry's commands: importing them all (the
        # client, peewee) was a third of a second of every model server's cold start.
        _add_plugin(plugins[argv[0]])
        return
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):  # __main__ would run the command again on import
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "commands", ()):
            cli.add_command(command)
    for entry_point in plugins.values():
        _add_plugin(entry_point)


def _add_plugin(entry_point: importlib.metadata.EntryPoint) -> None:
    try:
        command = entry_point.load()
    except Exception as err:  # one broken plugin must not take every command down with it
        click.echo(
            f"Warning: skipped the command {entry_point.name!r} ({entry_point.value}):"
            f" it failed to load: {type(err).__name__}: {err}",
            err=True,
        )
        return
    cli.add_command(command, entry_point.name)


def main() -> None:
    """Entry point of the ``modelyard`` console script."""
    _add_commands(sys.argv[1:])
    try:
        cli.main(prog_name="modelyard", standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
