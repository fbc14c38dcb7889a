"""Experiments, the runs table, a run's page and compare, driven in a real browser."""

from __future__ import annotations

import json
import re
from importlib import metadata
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.ui.conftest import Api, screenshot, tiny_png

pytestmark = pytest.mark.ui

EVIL = "<b>bold</b><script>alert('owned')</script>"


@pytest.fixture(scope="module")
def demo(api: Api) -> dict[str, Any]:
    exp = api.experiment("ui-demo")
    alpha = api.run(
        exp,
        "alpha-run",
        start=1_700_000_300_000,
        params={"alpha": "0.1", "model": "ridge"},
        metrics=[("rmse", 1.0 / (s + 1), s) for s in range(6)]
        + [("r2", 0.5 + s / 20, s) for s in range(6)],
        tags={"team": "vision", "mlflow.source.git.commit": "abc123def"},
    )
    beta = api.run(
        exp,
        "beta-run",
        start=1_700_000_200_000,
        params={"alpha": "0.5", "model": "lasso"},
        metrics=[("rmse", 2.5 - s / 10, s) for s in range(4)] + [("r2", 0.3, 0)],
    )
    child = api.run(
        exp,
        "child-run",
        start=1_700_000_100_000,
        params={"alpha": "0.1"},
        metrics=[("rmse", 3.0, 0)],
        tags={"mlflow.parentRunId": alpha},
    )
    evil = api.run(
        exp,
        EVIL,
        start=1_700_000_000_000,
        params={"model": EVIL},
        metrics=[("loss", 1.0, 0), ("loss", 0.5, 1)],
        tags={"note": EVIL},
    )
    root = f"{exp}/{alpha}/artifacts"
    api.upload(f"{root}/notes.txt", b"trained on 2026 data\nsecond line")
    api.upload(f"{root}/eval/summary.json", json.dumps({"rmse": 0.16, "rows": 120}).encode())
    api.upload(f"{root}/eval/predictions.csv", b"id,y,yhat\n1,3.0,2.9\n2,4.0,4.2\n")
    api.upload(f"{root}/plots/residuals.png", tiny_png())
    return {"exp": exp, "alpha": alpha, "beta": beta, "child": child, "evil": evil}


def test_create_experiment_from_the_list(page: Page, demo: dict[str, Any]) -> None:
    page.goto("/")
    row = page.locator("table.experiments tr", has_text="ui-demo")
    expect(row.locator("td.num")).to_have_text("4")
    page.fill("#new-experiment", "fresh-experiment")
    page.click("text=Create")
    expect(page.locator("h1")).to_have_text("fresh-experiment")
    expect(page.locator(".sidebar li.current")).to_contain_text("fresh-experiment")
    page.goto("/")
    screenshot(page, "experiments")


def test_runs_table_filters_sorts_and_nests(page: Page, demo: dict[str, Any]) -> None:
    page.goto(f"/experiments/{demo['exp']}")
    names = page.locator("#runs-table tbody td.run-name > a")
    expect(names).to_have_count(4)
    expect(page.locator("#run-total")).to_have_text("4 runs")
    # The child run sits directly under its parent, indented.
    expect(page.locator("#runs-table tbody tr").nth(1)).to_have_attribute("data-depth", "1")
    expect(page.locator("#runs-table tbody tr").nth(1)).to_contain_text("child-run")
    screenshot(page, "runs-table")

    page.fill("#filter", "metrics.rmse < 2 and params.model = 'ridge'")
    page.press("#filter", "Enter")
    expect(names).to_have_text(["alpha-run"])

    page.fill("#filter", "")
    page.press("#filter", "Enter")
    page.click("#runs-table th a:text('rmse')")
    expect(page).to_have_url(re.compile(r"sort=metrics\.rmse"))
    first = page.locator("#runs-table tbody tr").first
    # child-run has the highest rmse but stays nested under its parent.
    expect(first).to_contain_text("beta-run")
    page.click("#runs-table th a:text('rmse')")
    expect(page.locator("#runs-table tbody tr").first).to_contain_text("alpha-run")


def test_bad_filter_marks_the_offending_token(page: Page, demo: dict[str, Any]) -> None:
    page.goto(f"/experiments/{demo['exp']}")
    page.fill("#filter", "metrics.rmse < 2 and params.alpha > 0.1")
    page.press("#filter", "Enter")
    error = page.locator("#filter-error")
    expect(error).to_be_visible()
    expect(page.locator("#filter")).to_have_attribute("aria-invalid", "true")
    expect(error.locator("mark.bad-token")).to_have_text(">")
    screenshot(page, "runs-filter-error")


def test_chosen_columns_are_remembered(page: Page, demo: dict[str, Any]) -> None:
    page.goto(f"/experiments/{demo['exp']}")
    page.click("#columns-menu summary")
    page.uncheck("input.column-choice[value='metrics.r2']")
    page.check("input.column-choice[value='tags.team']")
    headers = page.locator("#runs-table thead th")
    expect(headers.filter(has_text="team")).to_have_count(1)
    expect(headers.filter(has_text="r2")).to_have_count(0)
    page.goto(f"/experiments/{demo['exp']}")
    expect(page).to_have_url(re.compile(r"cols="))
    expect(headers.filter(has_text="team")).to_have_count(1)
    expect(headers.filter(has_text="r2")).to_have_count(0)


def test_run_page_draws_charts_and_previews_artifacts(
    page: Page, server: str, demo: dict[str, Any]
) -> None:
    page.goto(f"/runs/{demo['alpha']}")
    expect(page.locator("h1")).to_contain_text("alpha-run")
    expect(page.locator(".facts")).to_contain_text("abc123def")
    expect(page.locator("table.params")).to_contain_text("ridge")
    # One chart per metric (tests/ui/test_charts.py covers the charts in depth).
    expect(page.locator("#metric-charts figure.chart-cell .scatterlayer .trace")).to_have_count(2)
    # Headless Chromium does not deliver plotly's mouse hover; ask plotly for the step-1 hover.
    r2 = "#metric-charts figure[data-key='r2'] .plot"
    page.evaluate(f'Plotly.Fx.hover(document.querySelector("{r2}"), {{xval: 1}})')
    expect(page.locator(f"{r2} .hoverlayer")).to_contain_text("0.55")  # r2 at step 1
    page.select_option("#metric-charts-controls select[name=x]", "time")
    expect(page.locator("#metric-charts figure.chart-cell .scatterlayer .trace")).to_have_count(2)
    page.click("#artifacts a:text('notes.txt')")
    expect(page.locator(".artifact-preview pre")).to_contain_text("trained on 2026 data")
    page.click("#artifacts a:text('summary.json')")
    expect(page.locator(".artifact-preview pre")).to_contain_text('"rows": 120')
    page.click("#artifacts a:text('predictions.csv')")
    expect(page.locator(".csv-preview th")).to_have_text(["id", "y", "yhat"])
    page.click("#artifacts a:text('residuals.png')")
    image = page.locator(".artifact-preview img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 24
    screenshot(page, "run-page")
    # Everything, plotly included, came from our server: the pages work without a network.
    assert all(url.startswith(server) for url in page.requested)  # type: ignore[attr-defined]


def test_tags_are_editable(page: Page, demo: dict[str, Any]) -> None:
    page.goto(f"/runs/{demo['beta']}")
    page.fill("#tag-key", "reviewed")
    page.fill("#add-tag input[name=value]", "yes")
    page.click("#add-tag button")
    row = page.locator("table.tags tr", has_text="reviewed")
    expect(row).to_contain_text("yes")
    row.locator("button:text('Remove')").click()
    expect(page.locator("table.tags tr", has_text="reviewed")).to_have_count(0)
    page.click("#rename-run summary")
    page.fill("#rename-run input[name=value]", "beta-run-renamed")
    page.click("#rename-run button")
    expect(page.locator("h1")).to_contain_text("beta-run-renamed")
    page.click("#rename-run summary")
    page.fill("#rename-run input[name=value]", "beta-run")
    page.click("#rename-run button")
    expect(page.locator("h1")).to_contain_text("beta-run")


def test_user_input_shows_as_text(page: Page, demo: dict[str, Any]) -> None:
    page.goto(f"/experiments/{demo['exp']}?cols=params.model,tags.note")
    expect(page.get_by_text(EVIL).first).to_be_visible()
    page.goto(f"/runs/{demo['evil']}")
    expect(page.locator("h1")).to_contain_text(EVIL)
    expect(page.locator("table.tags")).to_contain_text(EVIL)
    page.goto(f"/compare?runs={demo['evil']},{demo['alpha']}")
    expect(page.locator("#compare-charts-legend .legend-name").first).to_contain_text(EVIL)
    page.select_option("#relation-controls select[name=x]", "params.model")
    expect(page.locator("#relation-chart .xtick").first).to_contain_text(EVIL[:15])  # truncated
    assert not [d for d in page.dialogs if d[0] == "alert"]  # type: ignore[attr-defined]


def test_compare_two_runs(page: Page, demo: dict[str, Any]) -> None:
    page.goto(f"/experiments/{demo['exp']}")
    page.check(f"input[name=run][value='{demo['alpha']}']")
    page.check(f"input[name=run][value='{demo['beta']}']")
    page.click("button[value=compare]")
    expect(page.locator("h1")).to_have_text("Comparing 2 runs")
    alpha_row = page.locator("#compare-table tr:has(td:text-is('alpha'))")
    expect(alpha_row.locator("td.differs")).to_have_count(2)
    expect(page.locator("#compare-charts figure.chart-cell .scatterlayer .trace")).to_have_count(4)
    expect(page.locator("#relation-chart .scatterlayer .trace")).to_have_count(1)
    page.select_option("#relation-controls select[name=plot]", "parcoords")
    expect(page.locator("#relation-chart .parcoords")).to_have_count(1)
    screenshot(page, "compare")


def _hashed_slot(run_id: str) -> int:
    """Which of the UI's 24 colours a run id hashes to (FNV-1a, as charts.js computes it)."""
    h = 2166136261
    for char in run_id:
        h = ((h ^ ord(char)) * 16777619) & 0xFFFFFFFF
    return h % 24


COLOURS_OF = (
    "ids => { ModelyardCharts.assignColors(ids); return ids.map(ModelyardCharts.colorOf); }"
)


def test_only_runs_that_hash_to_a_taken_colour_move(page: Page, demo: dict[str, Any]) -> None:
    page.goto(f"/compare?runs={demo['alpha']},{demo['beta']}")
    # In id order: a and b hash to one colour, c to the next one.
    ids = [f"{i:032x}" for i in range(2000)]
    a = ids[0]
    b = next(i for i in ids[1:] if _hashed_slot(i) == _hashed_slot(a))
    c = next(i for i in ids if i > b and _hashed_slot(i) == (_hashed_slot(a) + 1) % 24)
    alone = [page.evaluate(COLOURS_OF, [run])[0] for run in (a, b, c)]
    assert alone[0] == alone[1] != alone[2]  # each alone on a page: its hashed colour
    together = page.evaluate(COLOURS_OF, [a, b, c])
    assert together[0] == alone[0] and together[2] == alone[2]  # a and c keep theirs
    assert len(set(together)) == 3  # b takes a colour no run of the page has
    assert page.evaluate(COLOURS_OF, [c, b, a]) == together[::-1]  # any order, same colours


def test_compared_runs_of_one_hashed_colour_are_drawn_apart(page: Page, api: Api) -> None:
    exp = api.experiment("colour-collisions")
    seen: dict[int, str] = {}
    run = api.run(exp, "run-0", metrics=[("loss", 1.0, 0), ("loss", 0.5, 1)])
    while _hashed_slot(run) not in seen:  # at most 25 runs: 24 colours
        seen[_hashed_slot(run)] = run
        run = api.run(exp, f"run-{len(seen)}", metrics=[("loss", 1.0, 0), ("loss", 0.5, 1)])
    page.goto(f"/compare?runs={seen[_hashed_slot(run)]},{run}")
    swatches = page.locator("#compare-table .swatch[data-run]")
    expect(swatches).to_have_count(2)
    colours = swatches.evaluate_all("els => els.map(el => el.style.background)")
    assert colours[0] != colours[1]
    loss = page.locator("#compare-charts figure.chart-cell[data-key='loss'] .scatterlayer .trace")
    expect(loss).to_have_count(2)  # one trace per colour: two runs of one colour would be one


def test_rename_delete_and_restore_an_experiment(page: Page, api: Api) -> None:
    exp = api.experiment("short-lived")
    page.goto(f"/experiments/{exp}")
    page.click(".page-head summary:text('Rename')")
    page.fill(".page-head input[name=name]", "renamed-experiment")
    page.click(".page-head button:text('Save')")
    expect(page.locator("h1")).to_have_text("renamed-experiment")
    page.click("button:text('Delete experiment')")
    expect(page.locator("table.experiments")).not_to_contain_text("renamed-experiment")
    page.click("text=Deleted experiments")
    page.locator("table.experiments tr", has_text="renamed-experiment").locator(
        "button:text('Restore')"
    ).click()
    expect(page.locator("h1")).to_have_text("renamed-experiment")


def test_delete_and_restore_runs_from_the_table(page: Page, api: Api) -> None:
    exp = api.experiment("run-lifecycle")
    doomed = api.run(exp, "doomed-run")
    api.run(exp, "kept-run")
    page.goto(f"/experiments/{exp}")
    page.check(f"input[name=run][value='{doomed}']")
    page.click("button[value=delete]")
    names = page.locator("#runs-table tbody td.run-name > a")
    expect(names).to_have_text(["kept-run"])
    page.click("text=Show deleted runs")
    expect(names).to_have_text(["doomed-run"])
    page.check(f"input[name=run][value='{doomed}']")
    page.click("button[value=restore]")
    expect(names).to_have_count(0)
    page.click("text=Show active runs")
    expect(names).to_have_count(2)


def test_forms_without_the_csrf_token_are_refused(server: str, demo: dict[str, Any]) -> None:
    response = httpx.post(f"{server}/experiments/create", data={"name": "forged"})
    assert response.status_code == 400
    assert "forged" not in httpx.get(f"{server}/").text


def test_plotly_is_served_from_the_package_with_long_caching(server: str) -> None:
    page_html = httpx.get(f"{server}/").text
    assert "cdn" not in page_html
    response = httpx.get(f"{server}/ui-assets/plotly-{metadata.version('plotly')}.min.js")
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["cache-control"]
    assert response.headers["content-type"].startswith("text/javascript")
    assert "plotly" in response.text[:2000].lower()


def test_artifact_paths_cannot_leave_the_run(server: str, demo: dict[str, Any]) -> None:
    run = f"{server}/runs/{demo['alpha']}"
    assert httpx.get(f"{run}/artifact", params={"path": "notes.txt"}).status_code == 200
    for path in ("../../../server.db", "/etc/passwd", f"../../{demo['beta']}/artifacts/x"):
        assert httpx.get(f"{run}/artifact", params={"path": path}).status_code == 400
        assert httpx.get(run, params={"artifact": path}).status_code == 400
    download = httpx.get(f"{run}/artifact", params={"path": "eval/summary.json"})
    assert download.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in download.headers["content-security-policy"]


def test_compare_many_runs_renders_without_a_long_url(server: str, api: Api) -> None:
    exp = api.experiment("wide-sweep")
    run_ids = [api.run(exp, f"sweep-{n}", params={"n": str(n)}) for n in range(101)]
    with httpx.Client(base_url=server) as browser_like:
        table = browser_like.get(f"/experiments/{exp}").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', table)
        assert token is not None
        few = browser_like.post(
            f"/experiments/{exp}/runs",
            data={"csrf_token": token.group(1), "action": "compare", "run": run_ids[:2]},
        )
        assert few.status_code == 303
        assert few.headers["location"].endswith(f"/compare?runs={run_ids[0]},{run_ids[1]}")
        many = browser_like.post(
            f"/experiments/{exp}/runs",
            data={"csrf_token": token.group(1), "action": "compare", "run": run_ids},
        )
    assert many.status_code == 200
    assert "Comparing 101 runs" in many.text


def test_unknown_run_shows_an_error_page(page: Page) -> None:
    response = page.goto("/runs/0123456789abcdef0123456789abcdef")
    assert response is not None
    assert response.status == 404
    expect(page.locator(".error-page h1")).to_have_text("Page not found")
    expect(page.locator(".error-message")).to_contain_text("0123456789abcdef0123456789abcdef")
