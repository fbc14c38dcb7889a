"""Metric charts, the chart grid and compare's plots, in a real browser.

The pages expose what they drew: each chart is a ``figure.chart-cell`` with ``data-key`` and
``data-runs`` (the run ids drawn), and plotly keeps the drawn traces on the plot element.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.ui.conftest import Api

pytestmark = pytest.mark.ui

RUNS = 12


@pytest.fixture(scope="module")
def sweep(api: Api) -> dict[str, Any]:
    """12 runs: loss every run (a NaN in run 3), acc all but run 0, best_iteration once each."""
    exp = api.experiment("chart-sweep")
    ids = []
    for n in range(RUNS):
        metrics = [("loss", 1 / (s + 1 + n), s) for s in range(5) if (n, s) != (3, 2)]
        if n:
            metrics += [("acc", 0.5 + s / 20 + n / 100, s) for s in range(5)]
        metrics.append(("best_iteration", 40 + n, 0))
        params = {"lr": str(0.1 * (n + 1)), "seed": "0"}
        if n != 1:
            params["optimizer"] = "adam" if n % 2 else "sgd"
        ids.append(
            api.run(
                exp, f"trial-{n:02d}", start=1_700_000_000_000 + n, params=params, metrics=metrics
            )
        )
    # A NaN at step 2 of trial-03 (MLflow's clients send it as a bare NaN token).
    nan = {"key": "loss", "value": math.nan, "step": 2, "timestamp": 1_700_000_002_000}
    body = json.dumps({"run_id": ids[3], "metrics": [nan]})
    response = api.http.post(
        "/runs/log-batch", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    return {"exp": exp, "ids": ids}


def cells(page: Page, grid: str) -> dict[str, list[str]]:
    return page.eval_on_selector_all(
        f"#{grid} figure.chart-cell",
        "els => Object.fromEntries(els.map(e => [e.dataset.key, JSON.parse(e.dataset.runs)]))",
    )


def traces(page: Page, grid: str, key: str) -> list[dict[str, Any]]:
    """What plotly drew: a trace per colour, ``runs`` its run ids (joined by null gaps)."""
    return page.eval_on_selector(
        f"#{grid} figure[data-key='{key}'] .plot",
        "el => el.data.map(t => ({runs: t.meta, y: t.y, color: t.line.color}))",
    )


def colors(page: Page, grid: str, key: str) -> dict[str, str]:
    return {run: t["color"] for t in traces(page, grid, key) for run in t["runs"]}


def shot(page: Page, tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    path = tmp_path_factory.getbasetemp() / "screenshots" / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_run_page_has_one_chart_per_metric(
    page: Page, sweep: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    page.goto(f"/runs/{sweep['ids'][3]}")
    charts = page.locator("#metric-charts figure.chart-cell")
    expect(charts).to_have_count(3)
    assert set(cells(page, "metric-charts")) == {"acc", "best_iteration", "loss"}
    # Each history has its own plot and y axis; a metric logged once is a value, not a dot.
    expect(
        page.locator("#metric-charts figure .plot .main-svg .yaxislayer-above").first
    ).to_be_attached()
    assert page.locator("#metric-charts figure[data-key='loss'] .yaxislayer-above").count() == 1
    assert page.locator("#metric-charts figure[data-key='acc'] .yaxislayer-above").count() == 1
    expect(
        page.locator("#metric-charts figure[data-key='best_iteration'] .metric-value")
    ).to_have_text("43")
    # The NaN at step 2 is a gap in the line, not a point.
    loss = traces(page, "metric-charts", "loss")
    assert loss[0]["y"][2] is None and len(loss[0]["y"]) == 5
    shot(page, tmp_path_factory, "run-page-charts")

    page.fill("#metric-charts-controls input[name=smoothing]", "0.9")
    page.dispatch_event("#metric-charts-controls input[name=smoothing]", "input")
    assert traces(page, "metric-charts", "acc")[0]["y"][-1] < 0.5 + 4 / 20 + 3 / 100
    page.check("#metric-charts-controls input[name=log]")
    assert (
        page.eval_on_selector(
            "#metric-charts figure[data-key='acc'] .plot", "el => el.layout.yaxis.type"
        )
        == "log"
    )
    page.click("#metric-charts-controls .chart-picker summary")
    page.uncheck("#metric-charts-controls input[name=metric][value=acc]")
    assert set(cells(page, "metric-charts")) == {"best_iteration", "loss"}


def test_chart_grid_follows_the_table_filter(
    page: Page, sweep: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    ids = sweep["ids"]
    page.goto(f"/experiments/{sweep['exp']}")
    page.click("#chart-grid-link")
    # Each chart fetches its metric when in view; data-runs is set once it is drawn.
    expect(page.locator("#grid-charts figure.chart-cell[data-runs]")).to_have_count(3)
    drawn = cells(page, "grid-charts")
    assert sorted(drawn["loss"]) == sorted(ids)
    assert ids[0] not in drawn["acc"] and len(drawn["acc"]) == RUNS - 1  # no line where no value
    # One colour per run, the same in every chart, and no two runs alike: a page of up to 24
    # runs tells every run apart (12 random ids hash to 12 different colours of 24 one time
    # in 28).
    loss, acc = colors(page, "grid-charts", "loss"), colors(page, "grid-charts", "acc")
    assert sorted(loss) == sorted(ids) and sorted(acc) == sorted(ids[1:])
    assert all(acc[run] == loss[run] for run in acc)
    assert len(set(loss.values())) == RUNS
    # Past 10 runs the legend is folded; hovering a line names its run.
    expect(page.locator("#grid-charts-legend details.chart-legend")).not_to_have_attribute(
        "open", ""
    )
    expect(page.locator("#grid-charts-legend details.chart-legend summary")).to_have_text(
        f"{RUNS} runs"
    )
    # Past 10 runs the lines are drawn on a canvas: pointing at a line's point names its run
    # (the highest point, trial-00's first loss of 1.0, is far from any other).
    plot = page.locator("#grid-charts figure[data-key='loss'] .plot")
    expect(plot.locator("canvas.lines")).to_have_count(1)
    x, y = plot.evaluate("el => [el.chart.px(0), el.chart.py(1)]")
    box = plot.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + x, box["y"] + y)
    expect(plot.locator(".line-tip")).to_have_text("trial-00  \u2022  0: 1")
    shot(page, tmp_path_factory, "chart-grid")

    page.goto(f"/experiments/{sweep['exp']}?filter=" + "params.optimizer%20%3D%20'adam'")
    page.click("#chart-grid-link")
    expect(page.locator("#grid-summary")).to_contain_text("5 runs")  # trial-01 has no optimizer
    expect(page.locator("#grid-charts figure.chart-cell[data-runs]")).to_have_count(3)
    drawn = cells(page, "grid-charts")
    assert sorted(drawn["loss"]) == sorted(ids[n] for n in range(3, RUNS, 2))
    expect(page.locator("#grid-charts-legend details.chart-legend")).to_have_attribute("open", "")
    expect(page.locator("#grid-charts-legend li")).to_have_count(5)


def test_compare_hides_constants_and_shows_missing_as_missing(
    page: Page, sweep: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    ids = sweep["ids"][:3]
    page.goto("/compare?runs=" + ",".join(ids))
    seed = page.locator("#compare-table tr[data-key='params.seed']")
    expect(seed).to_be_hidden()
    page.check("#show-constant")
    expect(seed).to_be_visible()
    page.uncheck("#show-constant")
    optimizer = page.locator("#compare-table tr[data-key='params.optimizer'] td.missing")
    expect(optimizer).to_have_count(1)
    expect(optimizer).to_have_text("—")
    # The constant param is not offered as an axis until asked for.
    expect(
        page.locator("#relation-controls select[name=x] option[value='params.seed']")
    ).to_be_hidden()

    # Scatter of optimizer against loss: trial-01 has no optimizer and is left out, not put at 0.
    page.select_option("#relation-controls select[name=x]", "params.optimizer")
    page.select_option("#relation-controls select[name=y]", "metrics.loss")
    chart = page.locator("#relation-chart")
    expect(chart).to_have_attribute("data-runs", json.dumps([ids[0], ids[2]]).replace(", ", ","))
    expect(page.locator("#relation-note")).to_contain_text("1 of 3 runs lack optimizer")
    before = chart.evaluate("el => el.data[0].y")
    page.select_option("#relation-controls select[name=y]", "metrics.acc")
    after = chart.evaluate("el => el.data[0].y")
    assert before != after  # the axis choice changed the plot

    page.select_option("#relation-controls select[name=plot]", "parcoords")
    expect(page.locator("#relation-chart .parcoords")).to_have_count(1)
    dims = chart.evaluate("el => el.data[0].dimensions.map(d => [d.label, d.ticktext || null])")
    labels = [label for label, _ in dims]
    assert "seed" not in labels and "optimizer" in labels and "lr" in labels
    assert "(missing)" in dict(dims)["optimizer"]
    shot(page, tmp_path_factory, "compare")


def test_single_value_bars_of_same_named_runs_do_not_overlap(page: Page, api: Api) -> None:
    exp = api.experiment("chart-same-names")
    names = ["a-rather-long-shared-prefix-1", "a-rather-long-shared-prefix-2", "twin", "twin"]
    ids = [
        api.run(exp, name, start=1_700_000_000_000 + n, metrics=[("score", n + 1.0, 0)])
        for n, name in enumerate(names)
    ]
    page.goto(f"/experiments/{exp}/charts")
    expect(page.locator("#grid-charts figure.chart-cell[data-runs]")).to_have_count(1)
    bars = page.eval_on_selector(
        "#grid-charts figure[data-key='score'] .plot",
        "el => ({runs: el.data[0].meta, y: el.data[0].y, x: el.data[0].x,"
        " labels: el.layout.yaxis.ticktext})",
    )
    assert sorted(bars["runs"]) == sorted(ids)
    assert len(set(bars["y"])) == len(ids)  # a bar per run, none drawn over another
    assert sorted(bars["x"]) == [1.0, 2.0, 3.0, 4.0]
    assert sorted(bars["labels"]) == sorted(n[:17] + "…" if len(n) > 18 else n for n in names)
