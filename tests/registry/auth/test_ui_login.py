"""The UI with auth on: login, the user in the top bar, logout, refused buttons, the admin page."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests.registry.auth.conftest import ADMIN_PASSWORD, PASSWORD, basic


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _login(client: FlaskClient, username: str, password: str, next_path: str = "/") -> str:
    page = client.get(f"/login?next={next_path}")
    assert page.status_code == 200
    reply = client.post(
        "/login",
        data={
            "csrf_token": _csrf(page.get_data(as_text=True)),
            "username": username,
            "password": password,
            "next": next_path,
        },
    )
    assert reply.status_code in (303, 401)
    return reply.headers.get("Location", "")


def test_a_page_sends_an_anonymous_browser_to_login_and_back(sqlite_auth_app: Flask) -> None:
    client = sqlite_auth_app.test_client()
    first = client.get("/models/")
    assert first.status_code == 303
    assert first.headers["Location"] == "/login?next=/models/"
    assert _login(client, "admin", ADMIN_PASSWORD, "/models/") == "/models/"
    page = client.get("/models/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<span class="username">admin</span>' in html
    assert 'action="/logout"' in html
    logout = client.post("/logout", data={"csrf_token": _csrf(html)})
    assert logout.status_code == 303
    assert client.get("/models/").status_code == 303


def test_a_wrong_password_shows_the_form_again(sqlite_auth_app: Flask) -> None:
    client = sqlite_auth_app.test_client()
    assert _login(client, "admin", "wrong-password") == ""
    assert client.get("/").status_code == 303


def test_a_readers_button_is_refused_by_the_server(
    sqlite_auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    make_user(sqlite_auth_app, "bob")
    client = sqlite_auth_app.test_client()
    _login(client, "bob", PASSWORD)
    html = client.get("/").get_data(as_text=True)
    reply = client.post("/experiments/0/delete", data={"csrf_token": _csrf(html)})
    assert reply.status_code == 303  # back to the page, with the reason flashed
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Permission denied" in page
    assert client.get("/experiments/0").status_code == 200
    assert client.get("/admin").status_code == 403


def test_the_admin_page_creates_users_and_grants(sqlite_auth_app: Flask) -> None:
    client = sqlite_auth_app.test_client()
    _login(client, "admin", ADMIN_PASSWORD)
    token = _csrf(client.get("/admin").get_data(as_text=True))
    created = client.post(
        "/admin",
        data={
            "csrf_token": token,
            "action": "create_user",
            "username": "carol",
            "password": "carol-password",
        },
    )
    assert created.status_code == 303
    granted = client.post(
        "/admin",
        data={
            "csrf_token": token,
            "action": "grant",
            "username": "carol",
            "resource_type": "experiment",
            "resource_id": "0",
            "permission": "MANAGE",
        },
    )
    assert granted.status_code == 303
    html = client.get("/admin").get_data(as_text=True)
    assert "carol" in html
    assert "0: MANAGE" in html
    api = client.get("/api/2.0/mlflow/users/get?username=carol", auth=("carol", "carol-password"))
    assert api.get_json()["user"]["experiment_permissions"] == [
        {"experiment_id": "0", "user_id": api.get_json()["user"]["id"], "permission": "MANAGE"}
    ]


def test_templates_can_hide_what_the_user_may_not_do(
    sqlite_auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    from flask import render_template_string

    make_user(sqlite_auth_app, "bob")
    template = "{{ may('experiment', 0, 'READ') }} {{ may('experiment', 0, 'MANAGE') }}"
    with sqlite_auth_app.test_request_context(
        "/experiments/0", headers={"Authorization": basic_header("bob")}
    ):
        sqlite_auth_app.preprocess_request()
        assert render_template_string(template) == "True False"
    with sqlite_auth_app.test_request_context(
        "/experiments/0", headers={"Authorization": basic_header("admin", ADMIN_PASSWORD)}
    ):
        sqlite_auth_app.preprocess_request()
        assert render_template_string(template) == "True True"


def basic_header(username: str, password: str = PASSWORD) -> str:
    return basic(username, password)["Authorization"]
