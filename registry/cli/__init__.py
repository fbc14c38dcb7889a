"""The ``modelyard`` command: one module per command group, each exposing ``command``."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from registry import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="modelyard")
def cli() -> None:
    """Modelyard: experiment tracking, model registry and model serving."""


def _add_commands() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "commands", ()):
            cli.add_command(command)


def main() -> None:
    """Entry point of the ``modelyard`` console script."""
    _add_commands()
    try:
        cli.main(prog_name="modelyard", standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
