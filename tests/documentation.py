"""What the user can read: the README and every page under docs/, as one text."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def documented_text() -> str:
    """The README followed by every markdown page under ``docs/``."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    return "\n".join(page.read_text() for page in pages)
