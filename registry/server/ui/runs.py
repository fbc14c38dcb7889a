"""The runs table of an experiment: columns, sort, filter, paging, nesting; delete and restore."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from registry.errors import InvalidParameter
from registry.server.ui.compare import render_comparison
from registry.server.ui.experiments import experiment_tags
from registry.server.ui.pages import back, make_blueprint
from registry.server.ui.table_state import PAGE_SIZES, TableState
from registry.store import experiments as experiment_store
from registry.store import run_tables
from registry.store import runs as run_store
from registry.store.experiment_lists import experiment_names

bp = make_blueprint("runs", __name__)
LINKABLE_COMPARE = 100


@bp.get("/experiments/<int:experiment_id>")
def table(experiment_id: int) -> str:
    """One page of an experiment's runs, with the columns, filter and sort in the URL."""
    experiment = experiment_store.get_experiment(experiment_id)
    keys = run_tables.column_keys(experiment_id)
    state = TableState.from_args(request.args).with_defaults(keys)
    rows: list[run_tables.RunRow] = []
    filter_error: InvalidParameter | None = None
    has_next = False
    shown = 0
    matches: int | None = None
    parents: dict[str, str] = {}
    try:
        runs = run_tables.table_page(
            experiment_id,
            state.filter,
            state.order_by(),
            deleted=state.deleted,
            page=state.page,
            per_page=state.per_page,
        )
        has_next = len(runs) > state.per_page
        shown = min(len(runs), state.per_page)
        filled = run_tables.fill_columns(runs[: state.per_page], state.columns)
        filled = _with_parents_from_other_pages(experiment_id, state, filled)
        run_tables.attach_outputs(filled)
        rows = run_tables.nest(filled)
        orphans = {row.parent_id for row in rows if row.parent_id}
        parents = run_tables.run_names(sorted(orphans)) if orphans else {}
        if state.filter:
            matches = run_tables.match_count(experiment_id, state.filter, state.deleted)
    except InvalidParameter as err:
        filter_error = err
    return render_template(
        "runs/table.html",
        experiment=experiment,
        experiments=experiment_names(),
        keys=keys,
        state=state,
        rows=rows,
        has_next=has_next,
        shown=shown,
        total=run_tables.run_count(experiment_id, state.deleted),
        matches=matches,
        parents=parents,
        filter_error=filter_error,
        experiment_tags=experiment_tags(experiment),
        page_sizes=PAGE_SIZES,
    )


def _with_parents_from_other_pages(
    experiment_id: int, state: TableState, rows: list[run_tables.RunRow]
) -> list[run_tables.RunRow]:
    """``rows`` plus the parents of their children that matched but fell on another page.

    A sweep's parent starts before its trials, so newest first it sorts after them: past one
    page of trials it would land on the next page and leave the trials unfolded, each naming
    its parent. The parent is pulled in before its first child (it also stays on its own page);
    a parent the filter leaves out, or of another view, stays out.
    """
    on_page = {row.run.run_uuid for row in rows}
    missing = sorted({row.parent_id for row in rows if row.parent_id} - on_page)
    if not missing:
        return rows
    found = run_tables.runs_among(experiment_id, missing, state.filter, state.deleted)
    parents = {row.run.run_uuid: row for row in run_tables.fill_columns(found, state.columns)}
    placed: list[run_tables.RunRow] = []
    for row in rows:
        parent = parents.pop(row.parent_id or "", None)
        if parent is not None:
            placed.append(parent)
        placed.append(row)
    return placed


@bp.post("/experiments/<int:experiment_id>/runs")
def act_on_selected(experiment_id: int) -> Response | str:
    """Compare, delete or restore the runs ticked in the table."""
    run_ids = request.form.getlist("run")
    action = request.form.get("action", "")
    if not run_ids:
        raise InvalidParameter("Select at least one run first.")
    if action == "compare":
        if len(run_ids) > LINKABLE_COMPARE:
            # Past this many ids the URL would pass gunicorn's request-line limit (4094 bytes).
            return render_comparison(run_ids)
        query = urlencode({"runs": ",".join(run_ids)}, safe=",")
        return redirect(f"{url_for('compare.compare')}?{query}", code=303)
    if action not in ("delete", "restore"):
        raise InvalidParameter(f"Unknown action {action!r}.")
    # The route's permission is on this experiment: a run of another one is not acted on.
    outside = run_tables.runs_outside(experiment_id, run_ids)
    if outside:
        raise InvalidParameter(f"Run {outside[0]} is not in experiment {experiment_id}.")
    for run_id in run_ids:
        if action == "delete":
            run_store.delete_run(run_id)
        else:
            run_store.restore_run(run_id)
    return back(url_for("runs.table", experiment_id=experiment_id))
