"""In Chromium against a real ``modelyard server --auth``: an editor requests a Production move
through the model page's button, a manager approves it from the Requests tab, and the version
moves."""

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
    """A server where Production of ``fraud`` needs one approval; overrides the conftest's."""
    env = {"REGISTRY_AUTH": "true", "MODELYARD_ADMIN_PASSWORD": ADMIN[1]}
    with registry_server(tmp_path_factory.mktemp("ui-approvals"), workers=1, extra_env=env) as base:
        with httpx.Client(base_url=base, auth=ADMIN, timeout=30) as http:

            def call(path: str, **body: object) -> None:
                reply = http.post(path, json=body)
                assert reply.status_code == 200, reply.text

            for user in ("editor", "manager"):
                call(f"{API}/users/create", username=user, password=PASSWORD)
            call(f"{API}/registered-models/create", name="fraud")
            call(f"{API}/model-versions/create", name="fraud", source="runs:/r/model")
            for user, level in (("editor", "EDIT"), ("manager", "MANAGE")):
                call(
                    f"{API}/registered-models/permissions/create",
                    name="fraud",
                    username=user,
                    permission=level,
                )
            call(
                "/api/2.0/modelyard/registered-models/protections",
                name="fraud",
                stages=["Production"],
                approvals_required=1,
            )
        yield base


def _log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".topbar .username")).to_have_text(username)


def test_a_manager_approves_a_requested_production_move_with_the_buttons(page: Page) -> None:
    _log_in(page, "editor")
    page.goto("/models/fraud")
    row = page.locator("#versions tr[data-version='1']")
    expect(row.get_by_role("button", name="Promote to Production")).to_have_count(0)
    row.get_by_role("button", name="Request Production").click()
    expect(page.locator(".flash")).to_contain_text("awaits approval")
    page.locator("#requests-tab").click()
    request_row = page.locator("#open-requests tr[data-request]")
    expect(request_row).to_have_count(1)
    expect(request_row.locator(".request-status")).to_contain_text("open")
    # The requester's own approval never counts: no Approve button for them.
    expect(request_row.get_by_role("button", name="Approve")).to_have_count(0)
    page.context.clear_cookies()

    _log_in(page, "manager")
    page.goto("/models/fraud")
    page.locator("#requests-tab").click()
    expect(page).to_have_url(re.compile(r".*tab=requests"))
    request_row = page.locator("#open-requests tr[data-request]")
    expect(request_row.locator(".request-approvals")).to_contain_text("0 of 1")
    screenshot(page, "approvals-requests-tab")
    request_row.get_by_role("button", name="Approve").click()
    expect(page.locator(".flash")).to_contain_text("the move was made")
    expect(page.locator("#open-requests")).to_contain_text("No open requests")
    closed = page.locator("#closed-requests tr[data-request]")
    expect(closed.locator(".request-status")).to_contain_text("approved")
    expect(closed.locator(".request-approvals")).to_contain_text("manager")
    page.locator("#versions-tab").click()
    expect(page.locator("#versions tr[data-version='1'] .stage-cell")).to_contain_text("Production")
    expect(page.locator("#history")).to_contain_text("approved by manager")
