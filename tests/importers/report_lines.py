"""Reading the per-table lines of the import report the command prints."""

from __future__ import annotations

TABLES = ("experiments", "runs", "logged_models", "registered_models", "model_versions")


def table_rows(stdout: str) -> dict[str, list[int]]:
    """``table -> [source, new, changed, same, imported]`` from the printed report."""
    rows = {}
    for line in stdout.splitlines():
        parts = line.split()
        if parts and parts[0] in TABLES:
            rows[parts[0]] = [int(part) for part in parts[1:6]]
    return rows


def imported_counts(stdout: str) -> dict[str, int]:
    """How many entities of each table the run wrote (or, dry, would write)."""
    return {table: row[4] for table, row in table_rows(stdout).items()}
