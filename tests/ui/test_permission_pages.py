"""In Chromium against a real ``modelyard server --auth``: each user sees and may press only what
their grants allow, and the server refuses a forged form."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.servers import registry_server
from tests.ui.conftest import screenshot

ADMIN = ("admin", "ui-admin-password")
PASSWORD = "ui-user-password"
API = "/api/2.0/mlflow"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server where users see nothing unless granted; overrides the conftest's."""
    env = {
        "REGISTRY_AUTH": "true",
        "REGISTRY_DEFAULT_PERMISSION": "NO_PERMISSIONS",
        "MODELYARD_ADMIN_PASSWORD": ADMIN[1],
    }
    directory = tmp_path_factory.mktemp("ui-auth")
    with registry_server(directory, workers=1, extra_env=env) as base:
        _populate(base)
        yield base


def _populate(base: str) -> None:
    """Experiments and models for ``reader`` (READ on the open ones) and ``editor`` (EDIT)."""
    with httpx.Client(base_url=f"{base}{API}", auth=ADMIN, timeout=30) as http:

        def call(path: str, **body: object) -> dict[str, object]:
            reply = http.post(path, json=body)
            assert reply.status_code == 200, reply.text
            data: dict[str, object] = reply.json()
            return data

        for user in ("reader", "editor"):
            call("/users/create", username=user, password=PASSWORD)
        for name in ("churn-open", "fraud-secret"):
            experiment_id = str(call("/experiments/create", name=name)["experiment_id"])
            call("/runs/create", experiment_id=experiment_id, run_name=f"{name}-run")
            call("/registered-models/create", name=f"{name}-model")
            call(
                "/model-versions/create",
                name=f"{name}-model",
                source="runs:/r/model",
            )
            if name == "churn-open":
                for user, level in (("reader", "READ"), ("editor", "EDIT")):
                    call(
                        "/experiments/permissions/create",
                        experiment_id=experiment_id,
                        username=user,
                        permission=level,
                    )
                    call(
                        "/registered-models/permissions/create",
                        name=f"{name}-model",
                        username=user,
                        permission=level,
                    )


def _log_in(page: Page, username: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r".*/login.*"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".topbar .username")).to_have_text(username)


def test_a_reader_sees_only_granted_objects_and_no_write_buttons(page: Page) -> None:
    _log_in(page, "reader")
    table = page.locator("table.experiments")
    expect(table).to_contain_text("churn-open")
    expect(table).not_to_contain_text("fraud-secret")
    expect(table.get_by_role("button", name="Delete")).to_have_count(0)
    screenshot(page, "permissions-reader-experiments")
    page.get_by_role("link", name="churn-open").click()
    expect(page.locator("h1")).to_have_text("churn-open")
    expect(page.locator(".sidebar")).not_to_contain_text("fraud-secret")
    expect(page.get_by_role("button", name="Delete experiment")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete selected")).to_have_count(0)
    # Comparing is a read: a reader's Compare opens the compare page (no MANAGE needed).
    page.locator("#runs-table input[name=run]").first.check()
    page.get_by_role("button", name="Compare selected").click()
    expect(page).to_have_url(re.compile(r".*/compare\?runs=.*"))
    expect(page.locator("main")).to_contain_text("churn-open-run")
    page.get_by_role("link", name="Models").click()
    expect(page.locator("main")).to_contain_text("churn-open-model")
    expect(page.locator("main")).not_to_contain_text("fraud-secret-model")
    page.get_by_role("link", name="churn-open-model").click()
    expect(page.locator("#versions")).to_contain_text("Version 1")
    expect(page.get_by_role("button", name="Promote to Production")).to_have_count(0)
    expect(page.locator("#rollback-form")).to_have_count(0)
    screenshot(page, "permissions-reader-model")


def test_a_forged_form_from_a_reader_is_refused(page: Page) -> None:
    _log_in(page, "reader")
    page.goto("/models/churn-open-model")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    # The page has no such button: post what it would have sent, with the session's cookie.
    reply = page.request.post(
        "/models/churn-open-model/versions/1/stage",
        form={"csrf_token": token or "", "stage": "Production", "archive_existing": "on"},
    )
    assert reply.ok  # the redirect back to the page, followed
    assert "Permission denied" in reply.text()
    secret = page.request.get("/models/fraud-secret-model", max_redirects=0)
    assert secret.status == 403
    page.reload()
    expect(page.locator("#versions .stage-cell")).not_to_contain_text("Production")


def test_an_editor_sees_and_uses_the_buttons(page: Page) -> None:
    _log_in(page, "editor")
    page.goto("/models/churn-open-model")
    expect(page.locator("main")).not_to_contain_text("fraud-secret")
    row = page.locator("#versions tr[data-version='1']")
    row.get_by_role("button", name="Promote to Staging").click()
    expect(page.locator(".flash")).to_contain_text("moved to Staging")
    expect(row.locator(".stage-cell")).to_contain_text("Staging")
    screenshot(page, "permissions-editor-model")
    page.goto("/")
    page.get_by_role("link", name="churn-open").click()
    expect(page.locator("summary", has_text="Rename")).to_have_count(1)
    expect(page.get_by_role("button", name="Delete experiment")).to_have_count(0)
