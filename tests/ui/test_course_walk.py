"""The course's UI path walked as a data scientist walks it, in one browser tab, in order.

The data (tests/ui/course_data.py) is built through the REST API and our client on a real server
with a SQLite file: 7 baseline runs, a 50-trial nested sweep, a model with 3 versions. Each step
takes a full-page screenshot into test-output/screenshots/course_walk/ and asserts what the
reader relies on there; every main page passes axe-core's contrast check, in light and dark mode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from tests.ui.conftest import SCREENSHOTS, Api
from tests.ui.course_data import (
    MODEL,
    OTHER_MODEL,
    STEPS,
    TRIALS,
    Course,
    build_course,
)

pytestmark = pytest.mark.ui

SHOTS = SCREENSHOTS / "course_walk"
# axe-core from the axe-playwright-python wheel, injected by the test (as tests/ui/test_polish.py).
AXE = Axe()
CONTRAST = {"runOnly": {"type": "rule", "values": ["color-contrast"]}}


@pytest.fixture(scope="module")
def course(api: Api, server: str) -> Course:
    return build_course(api, server)


class Walk:
    """The tab, a numbered screenshot per step, and the main pages seen (for the dark pass)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        # A page with plotly can take long to load on a busy two-core machine; asserting waits
        # stay with expect's own timeout (tests/ui/conftest.py).
        page.set_default_navigation_timeout(120_000)
        self.numbers: Iterator[int] = count(1)
        self.main_pages: dict[str, str] = {}
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob("*.png"):  # the folder shows one walk, not a mix of several
            old.unlink()

    def shot(self, name: str) -> None:
        self.page.screenshot(
            path=str(SHOTS / f"{next(self.numbers):02d}-{name}.png"), full_page=True
        )

    def main_page(self, name: str) -> None:
        """The current page is a main page: it passes the contrast check now (light mode)."""
        self.main_pages[name] = self.page.url
        assert_contrast(self.page, name)


def assert_contrast(page: Page, name: str) -> None:
    page.wait_for_load_state("load")
    violations = AXE.run(page, options=CONTRAST).response["violations"]
    found = [
        (node["target"], node["any"][0]["message"] if node["any"] else "")
        for violation in violations
        for node in violation["nodes"]
    ]
    assert not found, (name, found)


def rows(page: Page) -> Locator:
    return page.locator("#runs-table tbody tr")


def test_course_walk(page: Page, course: Course) -> None:
    walk = Walk(page)
    experiments(walk, course)
    runs_table(walk, course)
    compare(walk, course)
    run_page(walk, course)
    chart_grid(walk, course)
    model_lineage(walk, course)
    model_pages(walk)
    not_found(walk)
    dark_mode(walk)
    assert not [d for d in page.dialogs if d[0] == "alert"]  # type: ignore[attr-defined]


def experiments(walk: Walk, course: Course) -> None:
    page = walk.page
    page.goto("/")
    table = page.locator("table.experiments")
    expect(table.locator("tr", has_text="nyc-taxi-baselines").locator("td.num")).to_have_text("7")
    expect(table.locator("tr", has_text="nyc-taxi-hyperopt").locator("td.num")).to_have_text(
        str(TRIALS + 1)
    )
    walk.shot("experiments")
    walk.main_page("experiments")
    page.fill("#experiment-search", "HYPEROPT")
    page.press("#experiment-search", "Enter")
    expect(table.locator("tbody td:first-child > a")).to_have_text(["nyc-taxi-hyperopt"])
    expect(page.locator("#match-count")).to_have_text("1 experiment matches")
    page.click("table.experiments a:text('nyc-taxi-hyperopt')")
    expect(page).to_have_url(re.compile(rf"/experiments/{course.sweep_exp}$"))


def runs_table(walk: Walk, course: Course) -> None:
    page = walk.page
    parent = page.locator(f"tr[data-run='{course.parent}']")
    toggle = parent.locator("button.toggle")
    children = rows(page).locator("xpath=self::tr[@data-depth='1']")
    # The sweep is one folded row: its 50 trials are under it, hidden.
    expect(parent).to_be_visible()
    expect(parent).to_contain_text(f"({TRIALS})")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(children).to_have_count(TRIALS)
    expect(children.filter(visible=True)).to_have_count(0)
    walk.shot("sweep-folded")
    walk.main_page("runs-table")

    toggle.click()
    expect(children.filter(visible=True)).to_have_count(TRIALS)
    # Every row, the long-named and the nested ones, is one line high.
    heights = rows(page).evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert len(heights) == TRIALS + 1
    line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    assert max(heights) - min(heights) < 2, heights
    assert max(heights) < 2 * line + 16, (heights, line)
    walk.shot("sweep-unfolded")
    page.reload()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(children.filter(visible=True)).to_have_count(TRIALS)

    # A filter that leaves the parent out: each trial names its parent.
    depth = course.trials[5].params["max_depth"]
    matching = [t for t in course.trials if t.params["max_depth"] == depth]
    page.fill("#filter", f"params.max_depth = '{depth}'")
    page.press("#filter", "Enter")
    total = TRIALS + 1
    expect(page.locator("#match-count")).to_have_text(f"{len(matching)} of {total} runs match")
    orphans = page.locator("#runs-table .parent-of")
    expect(orphans).to_have_count(len(matching))
    expect(orphans.first).to_have_text("↳ hyperopt-sweep")
    expect(orphans.first.locator("a")).to_have_attribute("href", f"/runs/{course.parent}")
    walk.shot("orphans-name-their-parent")

    # The filter box suggests keys, then operators; the count follows the filter.
    page.fill("#filter", "")
    page.click("#filter")
    page.keyboard.type("valid")
    options = page.locator("#filter-suggestions [role=option]")
    expect(options).to_have_text(["metrics.validation-rmse"])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#filter")).to_have_value("metrics.validation-rmse ")
    expect(options.filter(has_text="<=")).to_have_count(1)
    walk.shot("filter-autocomplete")
    page.keyboard.type("< 5.5")
    page.keyboard.press("Enter")
    good = [t for t in course.trials if t.rmse[-1] < 5.5]
    assert 0 < len(good) < TRIALS
    expect(page.locator("#match-count")).to_have_text(f"{len(good)} of {total} runs match")

    # The column picker searches and applies without a reload.
    page.goto(f"/experiments/{course.sweep_exp}?cols=metrics.validation-rmse")
    page.evaluate("window.stillThisPage = true")
    page.click("#columns-menu summary")
    page.fill("#column-search", "reg_")
    labels = page.locator("#columns-form label")
    expect(labels.filter(visible=True)).to_have_text(["reg_alpha"])
    page.check("input.column-choice[value='params.reg_alpha']")
    expect(page.locator("#runs-table thead th").filter(has_text="reg_alpha")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"cols=metrics\.validation-rmse%2Cparams\.reg_alpha"))
    assert page.evaluate("window.stillThisPage") is True
    page.keyboard.press("Escape")
    walk.shot("column-picker")


def compare(walk: Walk, course: Course) -> None:
    page = walk.page
    compare_button = page.locator("button[value=compare]")
    delete_button = page.locator("button[value=delete]")
    expect(compare_button).to_be_disabled()
    expect(delete_button).to_be_disabled()
    # Trials 1, 2 and 3: trial-03 logged no reg_alpha; objective is the same in all three.
    chosen = course.trials[1:4]
    lacking = course.trial("trial-03")
    assert "reg_alpha" not in lacking.params
    for trial in chosen:
        page.check(f"input[name=run][value='{trial.run_id}']")
    expect(page.locator("#selection-count")).to_have_text("3 selected")
    expect(compare_button).to_be_enabled()
    expect(delete_button).to_be_enabled()
    compare_button.click()

    expect(page.locator("h1")).to_have_text("Comparing 3 runs")
    table = page.locator("#compare-table")
    objective = table.locator("tr[data-key='params.objective']")
    expect(objective).to_be_hidden()  # constant: folded away
    missing = table.locator("tr[data-key='params.reg_alpha'] td.missing")
    expect(missing).to_have_count(1)
    expect(missing).to_have_text("—")
    page.check("#only-differing")
    expect(table.locator("tbody tr.same").filter(visible=True)).to_have_count(0)
    expect(table.locator("tr[data-key='params.max_depth']")).to_be_visible()
    walk.shot("compare-differences-only")
    page.uncheck("#only-differing")

    # Axes: reg_alpha against validation-rmse; trial-03 lacks reg_alpha and is left out, not at 0.
    page.select_option("#relation-controls select[name=x]", "params.reg_alpha")
    page.select_option("#relation-controls select[name=y]", "metrics.validation-rmse")
    chart = page.locator("#relation-chart")
    drawn = [t.run_id for t in chosen if t is not lacking]
    expect(page.locator("#relation-note")).to_contain_text("1 of 3 runs lack reg_alpha")
    assert sorted(json.loads(chart.get_attribute("data-runs") or "[]")) == sorted(drawn)
    xs = chart.evaluate("el => el.data[0].x")
    assert sorted(xs) == sorted(float(t.params["reg_alpha"]) for t in chosen if t is not lacking)
    expect(
        page.locator("#relation-controls select[name=x] option[value='params.objective']")
    ).to_be_hidden()
    walk.shot("compare-scatter")
    walk.main_page("compare")


def run_page(walk: Walk, course: Course) -> None:
    page = walk.page
    trial = course.trial("trial-04")  # early-stopped: validation-rmse and best_iteration
    assert trial.best_iteration is not None
    page.goto(f"/runs/{trial.run_id}")
    expect(page.locator("h1")).to_contain_text("trial-04")
    metric_keys = page.locator("table.metrics tr td:first-child")
    keys = sorted(set(metric_keys.all_text_contents()))
    assert keys == ["best_iteration", "validation-rmse"], keys
    charts = page.locator("#metric-charts figure.chart-cell")
    expect(charts).to_have_count(len(keys))
    expect(
        page.locator("#metric-charts figure[data-key='validation-rmse'] .scatterlayer .trace")
    ).to_have_count(1)
    expect(
        page.locator("#metric-charts figure[data-key='best_iteration'] .metric-value")
    ).to_have_text(str(trial.best_iteration))
    plot = page.locator("#metric-charts figure[data-key='validation-rmse'] .plot")
    assert plot.evaluate("el => el.data[0].y") == trial.rmse
    walk.shot("run-page-charts")
    walk.main_page("run")

    controls = "#metric-charts-controls"
    page.select_option(f"{controls} select[name=x]", "time")
    expect(page.locator("#metric-charts figure[data-key='validation-rmse'] .xtitle")).to_have_text(
        "time"
    )
    page.select_option(f"{controls} select[name=x]", "step")
    expect(page.locator("#metric-charts figure[data-key='validation-rmse'] .xtitle")).to_have_text(
        "step"
    )
    page.check(f"{controls} input[name=log]")
    assert plot.evaluate("el => el.layout.yaxis.type") == "log"
    page.click(f"{controls} .chart-picker summary")
    page.uncheck(f"{controls} input[name=metric][value=best_iteration]")
    expect(charts).to_have_count(1)
    expect(charts).to_have_attribute("data-key", "validation-rmse")


def chart_grid(walk: Walk, course: Course) -> None:
    page = walk.page
    page.goto(f"/experiments/{course.sweep_exp}")
    page.click("#chart-grid-link")
    expect(page.locator("#grid-summary")).to_contain_text(f"{TRIALS + 1} runs")
    # The sweep's parent logged no metric: counted, but not a legend entry with no line.
    expect(page.locator("#grid-summary")).to_contain_text("1 of them without metrics")
    expect(page.locator("#grid-charts-legend summary")).to_have_text(f"{TRIALS} runs")
    cells = page.locator("#grid-charts figure.chart-cell")
    expect(cells).to_have_count(2)  # validation-rmse and best_iteration: one chart per metric
    expect(page.locator("#grid-charts figure.chart-cell[data-runs]")).to_have_count(2)
    drawn: dict[str, list[str]] = page.eval_on_selector_all(
        "#grid-charts figure.chart-cell",
        "els => Object.fromEntries(els.map(e => [e.dataset.key, JSON.parse(e.dataset.runs)]))",
    )
    by_id = {t.run_id: t for t in course.trials}
    # The parent logged nothing and the full-length trials no best_iteration: no mark for them.
    assert sorted(drawn["validation-rmse"]) == sorted(by_id)
    assert sorted(drawn["best_iteration"]) == sorted(
        t.run_id for t in course.trials if t.best_iteration is not None
    )
    # Each run's line has exactly its logged steps: an early-stopped trial's line ends at its
    # last round (no point at a round it never ran), and no value is invented.
    traces: list[dict[str, Any]] = page.eval_on_selector(
        "#grid-charts figure[data-key='validation-rmse'] .plot",
        "el => el.data.map(t => ({runs: t.meta, x: t.x, y: t.y}))",
    )
    for trace in traces:
        expected_x: list[int | None] = []
        expected_y: list[float | None] = []
        for run_id in trace["runs"]:
            if expected_x:
                expected_x.append(None)
                expected_y.append(None)
            rmse = by_id[run_id].rmse
            expected_x.extend(range(len(rmse)))
            expected_y.extend(rmse)
        assert trace["x"] == expected_x
        assert trace["y"] == pytest.approx(expected_y)
    assert sum(len(t["runs"]) for t in traces) == TRIALS
    assert max(len(t.rmse) for t in course.trials) == STEPS
    walk.shot("chart-grid")
    walk.main_page("chart-grid")


def model_lineage(walk: Walk, course: Course) -> None:
    page = walk.page
    page.goto(f"/runs/{course.sklearn_run}")
    expect(page.locator("#logged-models")).to_contain_text(course.model_id)
    link = page.locator("#registered-versions a", has_text=f"{MODEL} · version 3")
    expect(link).to_have_count(1)
    walk.shot("run-registered-version")
    link.click()
    expect(page.locator("h1")).to_contain_text(f"{MODEL} · version 3")
    expect(page.locator("h1 .badge.alias")).to_have_text("@champion")
    # The description is markdown; the <script> in it is text, never run.
    note = page.locator("#version-description")
    expect(note.locator("strong")).to_have_text("Lasso")
    expect(note).to_contain_text("<script>window.courseOwned = 1</script>")
    expect(note.locator("script")).to_have_count(0)
    assert page.evaluate("typeof window.courseOwned") == "undefined"
    expect(page.locator("#version-tags")).to_contain_text("validated")
    # The logged model's files can be read on the page.
    files = page.locator("#model-files details")
    expect(files).to_have_count(4)
    contents = {
        "MLmodel": "sklearn",
        "requirements.txt": "scikit-learn",
        "conda.yaml": "dependencies",
        "python_env.yaml": "python",
    }
    for name, text in contents.items():
        block = page.locator(f"#model-files details[data-file='{name}']")
        if block.get_attribute("open") is None:
            block.locator("summary").click()
        expect(block.locator("pre")).to_be_visible()
        expect(block.locator("pre")).to_contain_text(text)
    walk.shot("version-page")
    walk.main_page("version")
    page.locator(".facts a", has_text="lasso-alpha-0.001").click()
    expect(page).to_have_url(re.compile(rf"/runs/{course.sklearn_run}$"))


def model_pages(walk: Walk) -> None:
    page = walk.page
    page.goto("/models/")
    models = page.locator("table.models tbody tr")
    expect(models).to_have_count(2)
    row = models.filter(has_text=MODEL)
    expect(row.locator("td.num")).to_have_text("3")
    expect(row).to_contain_text("@champion → v3")
    walk.shot("models")
    walk.main_page("models")
    page.fill("#model-search", "taxi")
    page.press("#model-search", "Enter")
    expect(models.locator("td:first-child > a")).to_have_text([MODEL])
    page.click(f"table.models a:text-is('{MODEL}')")

    expect(page.locator("h1")).to_have_text(MODEL)
    expect(page.locator("#model-description strong")).to_have_text("yellow-cab")
    for version, stage in (("1", "Archived"), ("2", "Staging"), ("3", "Production")):
        expect(page.locator(f"#versions tr[data-version='{version}'] td.stage-cell")).to_have_text(
            stage
        )
    expect(page.locator("#versions tr[data-version='2']")).to_contain_text("@challenger")
    walk.main_page("model")
    tags = page.locator("#model-tags")
    team = tags.locator("tr", has_text="team")
    team.locator("summary:text('Edit')").click()
    team.locator("input[name=value]").fill("fares-and-tips")
    team.locator("button:text('Save')").click()
    expect(tags.locator("tr", has_text="team")).to_contain_text("fares-and-tips")
    page.fill("#add-model-tag-key", "owner")
    page.fill("#add-model-tag input[name=value]", "ml-platform")
    page.click("#add-model-tag button")
    expect(tags.locator("tr", has_text="owner")).to_contain_text("ml-platform")
    walk.shot("model-page-tags")
    assert OTHER_MODEL not in page.locator("#versions").inner_text()


def not_found(walk: Walk) -> None:
    page = walk.page
    response = page.goto("/experiments/no-such-thing/anywhere")
    assert response is not None
    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page).to_have_title("Page not found · Modelyard")
    expect(page.locator("h1")).to_have_text("Page not found")
    walk.shot("not-found")
    walk.main_page("not-found")


def dark_mode(walk: Walk) -> None:
    page = walk.page
    page.emulate_media(color_scheme="dark")
    for name, url in walk.main_pages.items():
        page.goto(url)
        assert_contrast(page, f"{name} (dark)")
        walk.shot(f"dark-{name}")
    page.emulate_media(color_scheme="light")
