"""What the user can read (the README and every page under docs/) and what must be in it.

The doc tests (``tests/test_docs.py``) and the settings-documented tests of each area use these:
``documented_text`` is the text a name must appear in; ``cli_commands`` walks the ``modelyard``
command tree as the console script builds it (the registry's commands plus the
``modelyard.commands`` entry points, which bring ``serve``); ``environment_names`` lists the
environment variables the code reads by name.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# Pages a reader is sent to from the README; their links are checked like the docs' own.
TOP_LEVEL_PAGES = ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")
ENVIRONMENT_NAME = re.compile(
    r"[\"'](?:MLFLOW|MODELYARD|REGISTRY|SERVING|PROMETHEUS)_[A-Z0-9_]+[\"']"
)


def doc_pages() -> list[Path]:
    """The README followed by every markdown page under ``docs/``."""
    return [README, *sorted(DOCS.glob("**/*.md"))]


def documented_text() -> str:
    """The README followed by every markdown page under ``docs/``."""
    return "\n".join(page.read_text() for page in doc_pages())


def cli_commands() -> Iterator[tuple[str, click.Command]]:
    """Every ``modelyard`` command and group, as ``("modelyard models promote", command)``."""
    from registry import cli as cli_package

    root = cli_package.cli
    for info in pkgutil.iter_modules(cli_package.__path__):
        if info.name.startswith("__"):  # __main__ runs the command when imported
            continue
        module = importlib.import_module(f"{cli_package.__name__}.{info.name}")
        for command in getattr(module, "commands", ()):
            root.add_command(command)
    for entry_point in importlib.metadata.entry_points(group="modelyard.commands"):
        root.add_command(entry_point.load(), entry_point.name)
    if "serve" not in root.commands:
        # An editable install made before the entry point was declared does not list it yet.
        for home in ("serving.cli", "registry.cli.serve"):
            try:
                root.add_command(importlib.import_module(home).serve, "serve")
                break
            except ModuleNotFoundError:
                continue
    yield from _walk(root, "modelyard")


def _walk(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _walk(sub, f"{path} {name}")


def long_flags(command: click.Command) -> list[str]:
    """The visible ``--long`` flags of ``command`` (``--help`` is implied everywhere)."""
    return [
        flag
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden
        for flag in (*param.opts, *param.secondary_opts)
        if flag.startswith("--") and flag != "--help"
    ]


def environment_names() -> set[str]:
    """Names of the environment variables ``registry`` and ``serving`` read by a literal name."""
    names: set[str] = set()
    for package in ("registry", "serving"):
        for source in (ROOT / package).rglob("*.py"):
            names |= {m.strip("\"'") for m in ENVIRONMENT_NAME.findall(source.read_text())}
    return names
