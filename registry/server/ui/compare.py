"""Comparing runs: values side by side, one chart per metric, params and metrics plotted.

Constant params are folded away by default; the scatter and parallel-coordinates axes are the
params and metrics the user picks.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from registry.errors import InvalidParameter, NotFound
from registry.server.ui.pages import make_blueprint
from registry.store.metric_downsample import downsampled_histories
from registry.store.run_tables import RunRow, fill_columns, keys_of_runs, runs_by_id

bp = make_blueprint("compare", __name__)
MAX_RUNS = 500


@bp.get("/compare")
def compare() -> str:
    """The runs named by ``?runs=a,b,c`` (or repeated ``runs=``), side by side."""
    run_ids = [i for arg in request.args.getlist("runs") for i in arg.split(",") if i]
    return render_comparison(run_ids)


def render_comparison(run_ids: list[str]) -> str:
    """The compare page for these runs.

    Raises:
        InvalidParameter: fewer than one or more than ``MAX_RUNS`` runs.
        NotFound: none of the runs exist.
    """
    run_ids = list(dict.fromkeys(run_ids))
    if not run_ids or len(run_ids) > MAX_RUNS:
        raise InvalidParameter(f"Choose between 1 and {MAX_RUNS} runs to compare.")
    runs = runs_by_id(run_ids)
    if not runs:
        raise NotFound("None of the chosen runs exist.")
    ids = [run.run_uuid for run in runs]
    keys = keys_of_runs(ids)
    columns = [f"{kind}.{key}" for kind in ("params", "metrics", "tags") for key in keys[kind]]
    rows = fill_columns(runs, columns)
    differs = {column: _differs(rows, column) for column in columns}
    chart: dict[str, Any] = {
        "names": {row.run.run_uuid: row.run.name or row.run.run_uuid[:8] for row in rows},
        "runs": ids,
        "series": downsampled_histories(ids, keys["metrics"]),
        "values": [
            {"id": row.run.run_uuid, "params": row.params, "metrics": _plain(row.metrics)}
            for row in rows
        ],
        "params": keys["params"],
        "metrics": keys["metrics"],
        "constant": [key for key in keys["params"] if not differs[f"params.{key}"]],
    }
    return render_template(
        "compare/compare.html",
        rows=rows,
        keys=keys,
        differs=differs,
        chart=chart,
    )


def _differs(rows: list[RunRow], column: str) -> bool:
    return len({repr(row.value(column)) for row in rows}) > 1


def _plain(metrics: dict[str, float]) -> dict[str, float | None]:
    return {
        key: value if value == value and abs(value) != float("inf") else None
        for key, value in metrics.items()
    }
