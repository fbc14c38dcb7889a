"""The chart grid of an experiment: one small chart per metric, one line per run.

The runs are the runs table's (same ``filter``, ``sort``, ``dir`` and ``view`` parameters), up to
``MAX_RUNS``. The page carries only the runs (ids, names) and the metric keys; each chart fetches
its own metric from ``charts/data`` when it scrolls into view, downsampled to about as many
points per line as the chart is wide, so a sweep of 500 runs with 1,000 steps never reaches the
browser whole; each run's downsampled line is kept until the run logs more of that metric
(``store.metric_previews``).
"""

from __future__ import annotations

import orjson
from flask import Response, jsonify, render_template, request, url_for

from registry.errors import InvalidParameter, RegistryError
from registry.server.ui.assets import plotly_version
from registry.server.ui.pages import make_blueprint
from registry.server.ui.table_state import TableState
from registry.store import experiments as experiment_store
from registry.store.metric_downsample import MAX_POINTS, metric_keys_and_runs
from registry.store.metric_previews import preview_histories
from registry.store.rows import Run
from registry.store.run_search import page_of_runs

bp = make_blueprint("chart_grid", __name__)
MAX_RUNS = 500
MIN_POINTS = 10
DEFAULT_POINTS = 160


def _runs(experiment_id: int, state: TableState) -> list[Run]:
    """The table's runs for ``state``, one more than ``MAX_RUNS`` to tell that some were cut."""
    view = "DELETED_ONLY" if state.deleted else "ACTIVE_ONLY"
    # The table's own path: a metric sort reads the latest-metric index and stops early.
    return page_of_runs(
        [experiment_id], state.filter, state.order_by(), view, offset=0, limit=MAX_RUNS + 1
    )


@bp.get("/experiments/<int:experiment_id>/charts")
def grid(experiment_id: int) -> str:
    """Charts of the runs the table shows for the same filter and order (first 500)."""
    experiment = experiment_store.get_experiment(experiment_id)
    state = TableState.from_args(request.args).with_defaults({})
    filter_error: InvalidParameter | None = None
    runs = []
    try:
        runs = _runs(experiment_id, state)
    except InvalidParameter as err:
        filter_error = err
    cut = len(runs) > MAX_RUNS
    runs = runs[:MAX_RUNS]
    run_ids = [run.run_uuid for run in runs]
    keys, charted = metric_keys_and_runs(run_ids)
    # The legend lists the runs that can have a line: a sweep's parent that logged nothing is
    # counted in the summary, not in the legend.
    chart = {
        "keys": keys,
        "names": {
            run.run_uuid: run.name or run.run_uuid[:8] for run in runs if run.run_uuid in charted
        },
        "runs": [run_id for run_id in run_ids if run_id in charted],
        "source": url_for("chart_grid.data", experiment_id=experiment_id) + state.query(page=1),
        "plotly": url_for("assets.plotly_js", version=plotly_version()),
    }
    return render_template(
        "chart_grid/grid.html",
        experiment=experiment,
        state=state,
        runs=runs,
        cut=cut,
        max_runs=MAX_RUNS,
        without_metrics=len(run_ids) - len(charted),
        chart=chart,
        histories=keys,
        filter_error=filter_error,
    )


@bp.get("/experiments/<int:experiment_id>/charts/data")
def data(experiment_id: int) -> tuple[Response, int]:
    """One metric of the grid's runs as JSON: ``{"key", "series": {run_id: {step, value}}}``.

    Query: the table's ``filter``/``sort``/``dir``/``view``, ``key`` (required), ``points`` (per
    line, 10-1000, default 160) and ``time=1`` to add each point's timestamp (ms).
    """
    try:
        experiment_store.get_experiment(experiment_id)
        key = request.args.get("key", "")
        if not key:
            raise InvalidParameter("Missing value for required parameter 'key'.")
        points = _points(request.args.get("points"))
        state = TableState.from_args(request.args).with_defaults({})
        run_ids = [run.run_uuid for run in _runs(experiment_id, state)[:MAX_RUNS]]
        with_time = request.args.get("time") in ("1", "true")
        series = preview_histories(run_ids, key, points, with_time)
    except RegistryError as err:
        return jsonify(err.to_dict()), err.http_status
    # orjson: the stored previews go out as they are (fragments), with no decode and re-encode.
    body = orjson.dumps({"key": key, "series": series})
    return Response(body, mimetype="application/json"), 200


def _points(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_POINTS
    try:
        points = int(raw)
    except ValueError:
        points = -1
    if not MIN_POINTS <= points <= MAX_POINTS:
        raise InvalidParameter(f"'points' must be an integer from {MIN_POINTS} to {MAX_POINTS}.")
    return points
