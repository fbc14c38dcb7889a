"""The runs table read as a sweep is read, and the experiment's own page and list, in a browser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.ui.conftest import Api, screenshot

pytestmark = pytest.mark.ui

LONG_NAME = "gradient-boosted-trees-with-a-very-long-descriptive-name-" * 3


@pytest.fixture(scope="module")
def sweep(api: Api) -> dict[str, Any]:
    exp = api.experiment("hyperopt-sweep")
    parent = api.run(exp, "sweep-parent", start=1_700_000_000_000, params={"kind": "parent"})
    children = [
        api.run(
            exp,
            f"trial-{n}",
            start=1_700_000_001_000 + n,
            params={"kind": "child", "max_depth": str(n + 3)},
            metrics=[("validation-rmse", 5.0 - n, 0), ("best_iteration", 10.0 * n, 0)],
            tags={"mlflow.parentRunId": parent},
        )
        for n in range(3)
    ]
    baseline = api.run(
        exp,
        LONG_NAME,
        start=1_700_000_002_000,
        params={"kind": "baseline", "note": "a long parameter value " * 10},
        metrics=[("validation-rmse", 6.5, 0)],
        tags={"team": "pricing"},
    )
    api.call(
        "POST",
        "/runs/log-inputs",
        run_id=baseline,
        datasets=[
            {
                "dataset": {
                    "name": "green-tripdata-2026-01",
                    "digest": "a1b2c3",
                    "source_type": "local",
                    "source": "/data/green.parquet",
                },
                "tags": [{"key": "mlflow.data.context", "value": "training"}],
            }
        ],
    )
    api.call("POST", "/registered-models/create", name="taxi-fare")
    api.call(
        "POST",
        "/model-versions/create",
        name="taxi-fare",
        source=f"runs:/{baseline}/model",
        run_id=baseline,
    )
    return {"exp": exp, "parent": parent, "children": children, "baseline": baseline}


def rows(page: Page) -> Any:
    return page.locator("#runs-table tbody tr")


def test_rows_are_one_line_high(page: Page, sweep: dict[str, Any]) -> None:
    page.goto(f"/experiments/{sweep['exp']}?cols=metrics.validation-rmse,params.note")
    page.locator("button.toggle").click()  # show the children too
    expect(rows(page).filter(has_text="trial-0")).to_be_visible()
    heights = [box["height"] for box in (r.bounding_box() for r in rows(page).all()) if box]
    assert len(heights) == 5
    # A row with a 170-character name and a 230-character param is as high as a short one.
    assert max(heights) - min(heights) < 2, heights
    line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    assert max(heights) < 2 * line + 16, (heights, line)
    name = page.locator("#runs-table td.run-name > a", has_text="gradient-boosted")
    expect(name).to_have_attribute("title", LONG_NAME)
    screenshot(page, "runs-table-one-line")


def test_children_are_folded_and_the_fold_is_kept(page: Page, sweep: dict[str, Any]) -> None:
    page.goto(f"/experiments/{sweep['exp']}")
    children = rows(page).filter(has_text="trial-")
    expect(children).to_have_count(3)
    for n in range(3):
        expect(children.nth(n)).to_be_hidden()
    toggle = page.locator(f"tr[data-run='{sweep['parent']}'] button.toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(children.first).to_be_visible()
    page.reload()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for n in range(3):
        expect(children.nth(n)).to_be_visible()
    toggle.click()
    page.reload()
    expect(children.first).to_be_hidden()


def test_orphaned_children_name_their_parent_and_a_filter_counts_matches(
    page: Page, sweep: dict[str, Any]
) -> None:
    page.goto(f"/experiments/{sweep['exp']}")
    page.fill("#filter", "params.kind = 'child'")
    page.press("#filter", "Enter")
    expect(page.locator("#match-count")).to_have_text("3 of 5 runs match")
    parents = page.locator("#runs-table .parent-of")
    expect(parents).to_have_count(3)
    expect(parents.first).to_have_text("↳ sweep-parent")
    expect(parents.first.locator("a")).to_have_attribute("href", f"/runs/{sweep['parent']}")


def test_column_picker_searches_and_applies_without_a_reload(
    page: Page, sweep: dict[str, Any]
) -> None:
    page.goto(f"/experiments/{sweep['exp']}?cols=metrics.validation-rmse")
    page.evaluate("window.stillThisPage = true")
    page.click("#columns-menu summary")
    page.fill("#column-search", "depth")
    labels = page.locator("#columns-form label")
    expect(labels.filter(visible=True)).to_have_count(1)
    expect(labels.filter(visible=True)).to_have_text("max_depth")
    page.check("input.column-choice[value='params.max_depth']")
    headers = page.locator("#runs-table thead th")
    expect(headers.filter(has_text="max_depth")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"cols=metrics\.validation-rmse%2Cparams\.max_depth"))
    assert page.evaluate("window.stillThisPage") is True
    expect(page.locator("#columns-count")).to_have_text("2")


def test_filter_autocomplete_offers_keys_then_operators(page: Page, sweep: dict[str, Any]) -> None:
    page.goto(f"/experiments/{sweep['exp']}")
    page.click("#filter")
    page.keyboard.type("valid")
    options = page.locator("#filter-suggestions [role=option]")
    expect(options).to_have_text(["metrics.validation-rmse"])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#filter")).to_have_value("metrics.validation-rmse ")
    expect(options.filter(has_text="<=")).to_have_count(1)
    expect(options.filter(has_text="LIKE")).to_have_count(0)
    screenshot(page, "runs-filter-autocomplete")
    page.keyboard.type("< 4.5")
    page.keyboard.press("Enter")
    expect(page.locator("#match-count")).to_have_text("2 of 5 runs match")


def test_models_and_dataset_columns(page: Page, sweep: dict[str, Any]) -> None:
    page.goto(f"/experiments/{sweep['exp']}")
    row = page.locator(f"tr[data-run='{sweep['baseline']}']")
    expect(row.locator("td.datasets")).to_have_text("green-tripdata-2026-01")
    link = row.locator("td.models a")
    expect(link).to_have_text("taxi-fare v1")
    link.click()
    expect(page).to_have_url(re.compile(r"/models/taxi-fare/versions/1$"))


def test_bulk_actions_need_a_selection(page: Page, sweep: dict[str, Any]) -> None:
    page.goto(f"/experiments/{sweep['exp']}")
    compare, delete = page.locator("button[value=compare]"), page.locator("button[value=delete]")
    expect(compare).to_be_disabled()
    expect(delete).to_be_disabled()
    page.check(f"input[name=run][value='{sweep['baseline']}']")
    expect(compare).to_be_enabled()
    expect(delete).to_be_enabled()
    expect(page.locator("#selection-count")).to_have_text("1 selected")


def test_experiment_description_tags_and_search(page: Page, sweep: dict[str, Any]) -> None:
    page.goto(f"/experiments/{sweep['exp']}")
    page.click("#description-edit summary")
    page.fill(
        "#description-edit textarea",
        "Tuned with **hyperopt**.\n\n<script>alert(1)</script> [bad](javascript:alert(1))",
    )
    page.click("#description-edit button")
    description = page.locator("#experiment-description")
    expect(description.locator("strong")).to_have_text("hyperopt")
    expect(description).to_contain_text("<script>alert(1)</script>")
    expect(description.locator("script, a[href^='javascript']")).to_have_count(0)
    page.click("#experiment-tags > summary")  # folded while there are no tags
    page.fill("#experiment-tag-key", "owner")
    page.fill("#add-experiment-tag input[name=value]", "fares-team")
    page.click("#add-experiment-tag button")
    tags = page.locator("#experiment-tags")
    expect(tags).to_contain_text("fares-team")
    tags.locator("tr", has_text="owner").locator("button:text('Remove')").click()
    expect(tags).not_to_contain_text("fares-team")

    page.goto("/")
    page.fill("#experiment-search", "HYPEROPT")
    page.press("#experiment-search", "Enter")
    names = page.locator("table.experiments tbody td:first-child > a")
    expect(names).to_have_text(["hyperopt-sweep"])
    expect(page.locator("table.experiments")).to_contain_text("Tuned with **hyperopt**")
