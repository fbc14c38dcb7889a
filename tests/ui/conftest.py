"""Browser tests: one real ``modelyard server`` per module, one headless Chromium per session."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect, sync_playwright

from tests.servers import registry_server

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# How long ``expect`` waits for the page to get there. On a loaded two-core machine plotly takes
# 6-7 s to draw a chart, past the default 5 s; a longer wait changes no assertion.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with registry_server(tmp_path_factory.mktemp("ui-server"), workers=1) as base:
        yield base


class Api:
    """Just enough of the REST API to set up what the pages show."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=f"{base}/api/2.0/mlflow", timeout=30)

    def call(self, method: str, path: str, **body: Any) -> dict[str, Any]:
        response = self.http.request(method, path, json=body)
        assert response.status_code == 200, response.text
        return response.json() if response.content else {}

    def experiment(self, name: str) -> str:
        return str(self.call("POST", "/experiments/create", name=name)["experiment_id"])

    def run(self, experiment_id: str, name: str, **data: Any) -> str:
        run = self.call(
            "POST",
            "/runs/create",
            experiment_id=experiment_id,
            run_name=name,
            start_time=data.pop("start", 1_700_000_000_000),
        )["run"]
        run_id = str(run["info"]["run_id"])
        self.log(run_id, **data)
        return run_id

    def log(
        self,
        run_id: str,
        params: dict[str, str] | None = None,
        metrics: list[tuple[str, float, int]] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.call(
            "POST",
            "/runs/log-batch",
            run_id=run_id,
            params=[{"key": k, "value": v} for k, v in (params or {}).items()],
            metrics=[
                {"key": k, "value": v, "step": s, "timestamp": 1_700_000_000_000 + 1000 * s}
                for k, v, s in metrics or []
            ],
            tags=[{"key": k, "value": v} for k, v in (tags or {}).items()],
        )

    def upload(self, path: str, content: bytes) -> None:
        url = f"{self.base}/api/2.0/mlflow-artifacts/artifacts/{path}"
        response = httpx.put(url, content=content, timeout=30)
        assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def api(server: str) -> Iterator[Api]:
    client = Api(server)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def context(browser: Browser, server: str) -> Iterator[BrowserContext]:
    """One browser context per module, so that plotly.js is fetched and parsed once."""
    ctx = browser.new_context(base_url=server, viewport={"width": 1280, "height": 800})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    tab = context.new_page()
    tab.dialogs = []  # type: ignore[attr-defined]
    tab.requested = []  # type: ignore[attr-defined]
    tab.on("request", lambda request: tab.requested.append(request.url))  # type: ignore[attr-defined]

    def on_dialog(dialog: Dialog) -> None:
        tab.dialogs.append((dialog.type, dialog.message))  # type: ignore[attr-defined]
        dialog.accept()

    tab.on("dialog", on_dialog)
    console: list[str] = []
    tab.on("console", lambda message: console.append(message.text))
    tab.on("pageerror", lambda error: console.append(f"page error: {error}"))
    yield tab
    if tab.url.startswith("http"):
        tab.evaluate("window.localStorage.clear()")
    tab.close()
    context.clear_cookies()
    # Every page ran under the UI's Content-Security-Policy without a refusal or a JS error.
    assert not [m for m in console if "Content Security Policy" in m or "page error" in m]


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def tiny_png(width: int = 24, height: int = 16) -> bytes:
    """A valid RGB PNG: a blue-to-green gradient."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((20, 10 * x % 256, 255 - 8 * y)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
