"""Every route has a rule: the URL map is walked, and a route without one is refused."""

from __future__ import annotations

from flask import Flask, Response

from registry.auth.rules import RULES, rule_for
from registry.server.hardening import MACHINE_PATHS
from tests.registry.auth.conftest import ADMIN_PASSWORD, basic


def test_every_route_of_the_app_has_a_declared_rule(sqlite_auth_app: Flask) -> None:
    endpoints = {rule.endpoint for rule in sqlite_auth_app.url_map.iter_rules()}
    # The walk covers every kind of route the issue names.
    for expected in (
        "api_runs.create",
        "artifacts.upload",
        "runs.table",
        "openapi.document",
        "prometheus_metrics",
        "meta.health",
        "auth_api.create_user",
        "auth_ui.login",
    ):
        assert expected in endpoints
    missing = sorted(e for e in endpoints if rule_for(e) is None)
    assert missing == [], f"routes without a permission rule: {missing}"
    stale = sorted(set(RULES) - endpoints)
    assert stale == [], f"rules for routes that no longer exist: {stale}"


def test_a_route_without_a_rule_is_refused_even_to_an_admin(sqlite_auth_app: Flask) -> None:
    def secret() -> Response:
        return Response("leaked")

    sqlite_auth_app.add_url_rule("/unruled", "unruled", secret)
    reply = sqlite_auth_app.test_client().get("/unruled", headers=basic("admin", ADMIN_PASSWORD))
    assert reply.status_code == 403
    assert reply.get_json()["error_code"] == "PERMISSION_DENIED"


def test_anonymous_requests_are_refused_on_every_non_public_route(sqlite_auth_app: Flask) -> None:
    client = sqlite_auth_app.test_client()
    for rule in sqlite_auth_app.url_map.iter_rules():
        declared = rule_for(rule.endpoint)
        if declared is None or declared.access == "public":
            continue
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<{name}>", "x")
            url = url.replace(f"<int:{name}>", "1").replace(f"<path:{name}>", "x")
            url = url.replace(f"<anypath:{name}>", "x")
            url = url.replace(f"<any(create, complete, abort):{name}>", "create")
        url = url.replace("plotly-<version>", "plotly-1")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            kwargs = {"json": {}} if method != "GET" else {}
            reply = client.open(url, method=method, **kwargs)
            if url.startswith(("/api/", "/ajax-api/")) or url in MACHINE_PATHS:
                assert reply.status_code == 401, (method, url, reply.status_code)
            else:  # a UI page or button: to the login form, before any view runs
                assert reply.status_code == 303, (method, url, reply.status_code)
                assert reply.headers["Location"].startswith("/login"), (method, url)
