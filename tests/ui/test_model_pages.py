"""Registering a logged model, promoting, aliasing and rolling back, in a real browser."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.ui.conftest import Api, screenshot

pytestmark = pytest.mark.ui

SIGNATURE = {
    "inputs": json.dumps(
        [{"type": "double", "name": "trip_distance"}, {"type": "long", "name": "passengers"}]
    ),
    "outputs": json.dumps([{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]),
}
MLMODEL = (
    "artifact_path: model\nflavors:\n"
    "  python_function:\n    loader_module: registry.models.sklearn\n"
    "  sklearn:\n    pickled_model: model.pkl\n"
    "saved_input_example_info:\n  artifact_path: input_example.json\n  type: dataframe\n"
    f"signature:\n  inputs: '{SIGNATURE['inputs']}'\n  outputs: '{SIGNATURE['outputs']}'\n"
)
EXAMPLE = {"columns": ["trip_distance", "passengers"], "data": [[2.5, 1]]}


@pytest.fixture(scope="module")
def trained(api: Api) -> dict[str, Any]:
    exp = api.experiment("taxi")
    run = api.run(
        exp,
        "lasso-0.01",
        params={"alpha": "0.01"},
        metrics=[("rmse", 5.2, 0)],
        tags={"mlflow.source.git.commit": "feedbeef42"},
    )
    model = api.call("POST", "/logged-models", experiment_id=exp, name="model", source_run_id=run)[
        "model"
    ]
    model_id = model["info"]["model_id"]
    root = f"{exp}/models/{model_id}/artifacts"
    api.upload(f"{root}/MLmodel", MLMODEL.encode())
    api.upload(f"{root}/input_example.json", json.dumps(EXAMPLE).encode())
    api.call("PATCH", f"/logged-models/{model_id}", model_id=model_id, status="LOGGED_MODEL_READY")
    return {"exp": exp, "run": run, "model_id": model_id}


def test_register_from_the_run_page(page: Page, trained: dict[str, Any]) -> None:
    page.goto(f"/runs/{trained['run']}")
    section = page.locator("#logged-models")
    section.locator("input[name=name]").fill("taxi-regressor")
    section.locator("button:text('Register')").click()
    expect(page.locator("h1")).to_contain_text("taxi-regressor · version 1")
    usage = page.locator("#usage")
    expect(usage).to_contain_text('registry.pyfunc.load_model("models:/taxi-regressor/1")')
    expect(usage).to_contain_text("modelyard serve models:/taxi-regressor/1")
    expect(page.locator(".facts")).to_contain_text("feedbeef42")
    expect(page.locator(".facts")).to_contain_text("lasso-0.01")
    expect(page.locator("#signature")).to_contain_text("trip_distance")
    expect(page.locator("#input-example")).to_contain_text("passengers")
    page.click("#description-edit summary")
    page.fill("#description-edit textarea", "Lasso on 2026 trips")
    page.click("#description-edit button")
    expect(page.locator("div.description")).to_have_text("Lasso on 2026 trips")
    screenshot(page, "model-version")


def test_promote_archive_and_roll_back(page: Page, api: Api, trained: dict[str, Any]) -> None:
    api.call("POST", "/registered-models/create", name="fare-model")
    for _ in range(2):
        api.call(
            "POST",
            "/model-versions/create",
            name="fare-model",
            source=f"models:/{trained['model_id']}",
            run_id=trained["run"],
        )
    page.goto("/models/fare-model")
    version = {n: page.locator(f"#versions tr[data-version='{n}']") for n in (1, 2)}
    stage = {n: row.locator("td.stage-cell") for n, row in version.items()}
    version[1].locator("button:text('Promote to Production')").click()
    expect(page.locator(".flash-ok")).to_contain_text("Version 1 moved to Production")
    expect(stage[1]).to_have_text("Production")
    version[2].locator("button:text('Promote to Production')").click()
    expect(stage[2]).to_have_text("Production")
    expect(stage[1]).to_have_text("Archived")
    assert any(kind == "confirm" for kind, _ in page.dialogs)  # type: ignore[attr-defined]
    history = page.locator("#history .timeline li")
    expect(history).to_have_count(3)

    page.select_option("#rollback-form select", "stage:Production")
    page.click("#rollback-form button")
    expect(page.locator(".flash-ok")).to_contain_text("Rolled back Production")
    expect(stage[1]).to_have_text("Production")
    expect(stage[2]).to_have_text("None")
    expect(page.locator("#history .timeline li").first).to_contain_text("rollback")
    screenshot(page, "model-page")

    page.goto("/models/")
    expect(page.locator("table.models tr", has_text="fare-model")).to_contain_text("v1")
    screenshot(page, "models")


def test_a_refused_action_shows_the_reason(page: Page, api: Api, trained: dict[str, Any]) -> None:
    api.call("POST", "/registered-models/create", name="alias-model")
    api.call(
        "POST",
        "/model-versions/create",
        name="alias-model",
        source=f"models:/{trained['model_id']}",
        run_id=trained["run"],
    )
    page.goto("/models/alias-model")
    page.fill("#alias-form input[name=alias]", "latest")
    page.click("#alias-form button")
    expect(page.locator(".flash-error")).to_contain_text(re.compile("reserved", re.I))
    expect(page).to_have_url(re.compile(r"/models/alias-model$"))
    page.fill("#alias-form input[name=alias]", "champion")
    page.click("#alias-form button")
    expect(page.locator("#versions tr[data-version='1']")).to_contain_text("@champion")


def test_register_a_model_logged_as_run_artifacts(page: Page, api: Api) -> None:
    exp = api.experiment("files-only")
    run = api.run(exp, "classic-run", params={"alpha": "0.3"})
    api.upload(f"{exp}/{run}/artifacts/model/MLmodel", MLMODEL.encode())
    api.upload(f"{exp}/{run}/artifacts/model/input_example.json", json.dumps(EXAMPLE).encode())
    page.goto(f"/runs/{run}")
    row = page.locator("#logged-models tr", has_text=f"runs:/{run}/model")
    row.locator("input[name=name]").fill("team/classic")
    row.locator("button:text('Register')").click()
    expect(page.locator("h1")).to_contain_text("team/classic · version 1")
    expect(page.locator(".facts")).to_contain_text(f"runs:/{run}/model")
    expect(page.locator("#signature")).to_contain_text("trip_distance")
    page.click("text=← team/classic")
    expect(page.locator("#versions tr[data-version='1']")).to_contain_text("classic-run")
