"""The runs table's state in its URL: filter, sort, columns, page; and the links that change it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

PAGE_SIZES = (25, 50, 100, 200)
MAX_PAGE = 1_000_000
"""Pages past this are clamped to it (an offset beyond it would overflow an engine's integer)."""
ATTRIBUTE_SORTS = {
    "start_time": "attributes.start_time",
    "run_name": "attributes.run_name",
    "status": "attributes.status",
    "user_id": "attributes.user_id",
    "end_time": "attributes.end_time",
}
DEFAULT_COLUMNS_PER_KIND = 6


@dataclass(frozen=True)
class TableState:
    """What the user chose: ``columns`` are ``params.k``/``metrics.k``/``tags.k``."""

    filter: str = ""
    sort: str = "start_time"
    descending: bool = True
    columns: tuple[str, ...] = ()
    columns_chosen: bool = False
    page: int = 1
    per_page: int = 50
    deleted: bool = False

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> TableState:
        """Read the state from query arguments; anything malformed falls back to defaults."""
        cols_arg = args.get("cols")
        columns = tuple(c for c in (cols_arg or "").split(",") if _is_column(c))
        per_page = _int(args.get("per"), 50)
        return cls(
            filter=args.get("filter", "").strip(),
            sort=args.get("sort", "start_time"),
            descending=args.get("dir", "desc") != "asc",
            columns=columns,
            columns_chosen=cols_arg is not None,
            page=min(MAX_PAGE, max(1, _int(args.get("page"), 1))),
            per_page=per_page if per_page in PAGE_SIZES else 50,
            deleted=args.get("view") == "deleted",
        )

    def order_by(self) -> list[str]:
        """The search grammar's ``order_by`` for the chosen sort."""
        direction = "DESC" if self.descending else "ASC"
        if self.sort in ATTRIBUTE_SORTS:
            return [f"{ATTRIBUTE_SORTS[self.sort]} {direction}"]
        kind, _, key = self.sort.partition(".")
        return [f"{kind}.`{key}` {direction}"]

    def with_defaults(self, keys: dict[str, list[str]]) -> TableState:
        """The state with default columns when the user has chosen none."""
        sort = self.sort if self.sort in ATTRIBUTE_SORTS or _is_column(self.sort) else "start_time"
        if self.columns_chosen:
            return replace(self, sort=sort)
        defaults = [
            f"{kind}.{key}"
            for kind in ("metrics", "params")
            for key in keys.get(kind, [])[:DEFAULT_COLUMNS_PER_KIND]
        ]
        return replace(self, sort=sort, columns=tuple(defaults))

    def query(self, **changes: Any) -> str:
        """A query string for this state with ``changes`` applied."""
        state = replace(self, **changes)
        args: dict[str, Any] = {}
        if state.filter:
            args["filter"] = state.filter
        if (state.sort, state.descending) != ("start_time", True):
            args["sort"] = state.sort
            args["dir"] = "desc" if state.descending else "asc"
        if state.columns_chosen:
            args["cols"] = ",".join(state.columns)
        if state.page > 1:
            args["page"] = state.page
        if state.per_page != 50:
            args["per"] = state.per_page
        if state.deleted:
            args["view"] = "deleted"
        return "?" + urlencode(args) if args else "?"

    def sort_query(self, column: str) -> str:
        """The link for a column header: sort by it, or flip the direction if already sorted."""
        if self.sort == column:
            return self.query(descending=not self.descending, page=1)
        return self.query(sort=column, descending=column.startswith("metrics."), page=1)


def _is_column(text: str) -> bool:
    kind, dot, key = text.partition(".")
    return bool(dot and key) and kind in {"params", "metrics", "tags"}


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default
