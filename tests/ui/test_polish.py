"""Polish every page shares: AA contrast in light and dark mode (axe-core), the 404 page, phones."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.ui.conftest import Api, screenshot

pytestmark = pytest.mark.ui

# axe-core from the axe-playwright-python wheel: injected into the page by the test, never served.
AXE = Axe()
CONTRAST = {"runOnly": {"type": "rule", "values": ["color-contrast"]}}


@pytest.fixture(scope="module")
def pages(api: Api) -> dict[str, str]:
    exp = api.experiment("contrast-check")
    runs = [
        api.run(
            exp,
            f"run-{n}",
            start=1_700_000_000_000 + n,
            params={"alpha": str(n / 10), "model": "ridge"},
            metrics=[("rmse", 3.0 - n, 0), ("rmse", 2.0 - n, 1)],
            tags={"team": "fares"},
        )
        for n in range(3)
    ]
    api.call("POST", "/runs/update", run_id=runs[1], status="FAILED")
    api.call("POST", "/runs/update", run_id=runs[2], status="RUNNING")
    api.call("POST", "/registered-models/create", name="fare-model")
    for run in runs:
        api.call(
            "POST",
            "/model-versions/create",
            name="fare-model",
            source=f"runs:/{run}/model",
            run_id=run,
        )
    for version, stage in (("1", "Archived"), ("2", "Staging"), ("3", "Production")):
        api.call(
            "POST",
            "/model-versions/transition-stage",
            name="fare-model",
            version=version,
            stage=stage,
            archive_existing_versions=False,
        )
    api.call("POST", "/registered-models/alias", name="fare-model", alias="champion", version="3")
    return {
        "experiments": "/",
        "runs-table": f"/experiments/{exp}?filter=params.model+%3D+%27ridge%27",
        "run": f"/runs/{runs[0]}",
        "compare": f"/compare?runs={runs[0]},{runs[1]}",
        "models": "/models/",
        "model": "/models/fare-model",
        "version": "/models/fare-model/versions/3",
        "not-found": "/no/such/page",
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_main_pages_meet_aa_contrast(page: Page, pages: dict[str, str], scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    failures: dict[str, Any] = {}
    for name, url in pages.items():
        page.goto(url)
        page.wait_for_load_state("load")
        violations = AXE.run(page, options=CONTRAST).response["violations"]
        if violations:
            failures[name] = [
                (node["target"], node["any"][0]["message"] if node["any"] else "")
                for violation in violations
                for node in violation["nodes"]
            ]
        if name in ("runs-table", "model"):
            screenshot(page, f"contrast-{name}-{scheme}")
    assert not failures, failures


def test_dark_mode_follows_the_system_setting(page: Page, pages: dict[str, str]) -> None:
    background = "getComputedStyle(document.body).backgroundColor"
    page.emulate_media(color_scheme="light")
    page.goto(pages["experiments"])
    light = page.evaluate(background)
    page.emulate_media(color_scheme="dark")
    dark = page.evaluate(background)
    assert light == "rgb(246, 247, 249)"
    assert dark != light
    assert sum(int(c) for c in dark[4:-1].split(",")) < 3 * 64, dark


def test_unknown_page_has_a_human_title(page: Page) -> None:
    response = page.goto("/no/such/page")
    assert response is not None
    assert response.status == 404
    expect(page).to_have_title("Page not found · Modelyard")
    expect(page.locator("h1")).to_have_text("Page not found")


def test_on_a_phone_tables_scroll_inside_their_card(page: Page, pages: dict[str, str]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(
        pages["runs-table"].split("?")[0] + "?cols=metrics.rmse,params.alpha,params.model,tags.team"
    )
    scroller = page.locator("#table-region .table-scroll")
    expect(scroller).to_be_visible()
    widths = scroller.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] > widths[1], widths  # the table is wider than the phone ...
    page_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert page_width[0] <= page_width[1], page_width  # ... and only its card scrolls
    screenshot(page, "runs-table-phone")
