"""What an import found, did and checked, per table; and how progress is shown while it runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from registry.importers.artifact_copy import CopyStats

TABLES = ("experiments", "runs", "logged_models", "registered_models", "model_versions")


@dataclass
class TableCounts:
    """One table: how many entities the source has in scope, and what became of them."""

    source: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    imported: int = 0
    failed: int = 0


@dataclass
class ImportReport:
    """The whole outcome; ``ok`` is false when anything failed or a check did not pass."""

    dry_run: bool
    tables: dict[str, TableCounts] = field(
        default_factory=lambda: {t: TableCounts() for t in TABLES}
    )
    artifacts: CopyStats | None = None
    problems: list[str] = field(default_factory=list)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    """(check name, passed, detail)."""

    @property
    def ok(self) -> bool:
        """True when nothing failed and every check passed (missing artifacts are warnings)."""
        failed = any(counts.failed for counts in self.tables.values())
        copy_failed = self.artifacts is not None and bool(self.artifacts.failed)
        return not failed and not copy_failed and all(passed for _, passed, _ in self.checks)

    def lines(self) -> list[str]:
        """The report as text lines."""
        verb = "would import" if self.dry_run else "imported"
        out = [f"{'table':<18} {'source':>8} {'new':>8} {'changed':>8} {'same':>8} {verb:>12}"]
        for name, c in self.tables.items():
            done = c.new + c.changed if self.dry_run else c.imported
            out.append(
                f"{name:<18} {c.source:>8} {c.new:>8} {c.changed:>8} {c.unchanged:>8} {done:>12}"
                + (f"  ({c.failed} failed)" if c.failed else "")
            )
        if self.artifacts is not None:
            a = self.artifacts
            out.append(
                f"artifacts: {a.files_copied} files copied ({a.bytes_copied} bytes), "
                f"{a.files_skipped} already there, {len(a.missing)} missing, {len(a.failed)} failed"
            )
            out += [f"  missing: {item}" for item in a.missing]
            out += [f"  failed: {item}" for item in a.failed]
        out += [f"problem: {problem}" for problem in self.problems]
        for name, passed, detail in self.checks:
            out.append(
                f"check {'ok  ' if passed else 'FAIL'} {name}" + (f": {detail}" if detail else "")
            )
        return out


class Progress(Protocol):
    """Receives progress while an import runs (the CLI draws bars from it)."""

    def start(self, table: str, total: int) -> None:
        """``table`` begins with ``total`` entities to write."""
        ...

    def advance(self, table: str, count: int = 1) -> None:
        """``count`` more entities of ``table`` are done."""
        ...

    def artifacts(self, total: int) -> None:
        """An artifact tree of ``total`` bytes starts copying."""
        ...

    def bytes(self, count: int) -> None:
        """``count`` more artifact bytes are copied (or found already there)."""
        ...


class NoProgress:
    """A ``Progress`` that shows nothing."""

    def start(self, table: str, total: int) -> None:
        """Ignore."""

    def advance(self, table: str, count: int = 1) -> None:
        """Ignore."""

    def artifacts(self, total: int) -> None:
        """Ignore."""

    def bytes(self, count: int) -> None:
        """Ignore."""
