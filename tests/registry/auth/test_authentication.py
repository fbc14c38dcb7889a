"""Who a request is: passwords, Bearer tokens, tokens as Basic passwords, scopes, expiry."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from tests.registry.auth.conftest import ADMIN_PASSWORD, basic, bearer, make_token

API = "/api/2.0/mlflow"


def test_anonymous_requests_get_401_and_change_nothing(sqlite_auth_app: Flask) -> None:
    client = sqlite_auth_app.test_client()
    reply = client.post(f"{API}/experiments/create", json={"name": "anon"})
    assert reply.status_code == 401
    assert reply.get_json()["error_code"] == "UNAUTHENTICATED"
    assert reply.headers["WWW-Authenticate"].startswith("Basic")
    assert client.get(f"{API}/experiments/get-by-name?experiment_name=anon").status_code == 401
    admin = basic("admin", ADMIN_PASSWORD)
    missing = client.get(f"{API}/experiments/get-by-name?experiment_name=anon", headers=admin)
    assert missing.status_code == 404
    assert client.get("/health").status_code == 200


def test_a_wrong_password_or_unknown_user_is_401(sqlite_auth_app: Flask) -> None:
    client = sqlite_auth_app.test_client()
    for header in (basic("admin", "not-the-password"), basic("nobody", ADMIN_PASSWORD)):
        reply = client.get(f"{API}/experiments/search", headers=header)
        assert reply.status_code == 401
        assert reply.get_json()["message"] == "Invalid username or password."
    garbage = client.get(f"{API}/experiments/search", headers={"Authorization": "Basic !!"})
    assert garbage.status_code == 401


def test_a_token_works_as_bearer_and_as_basic_password(sqlite_auth_app: Flask) -> None:
    client = sqlite_auth_app.test_client()
    token = make_token(sqlite_auth_app, "ci-bot", scope="write")
    created = client.post(f"{API}/experiments/create", json={"name": "e"}, headers=bearer(token))
    assert created.status_code == 200
    via_basic = client.get(f"{API}/experiments/search", headers=basic("ci-bot", token))
    assert via_basic.status_code == 200
    assert [e["name"] for e in via_basic.get_json()["experiments"]] == ["e", "Default"]
    someone_else = client.get(f"{API}/experiments/search", headers=basic("admin", token))
    assert someone_else.status_code == 401
    tampered = client.get(f"{API}/experiments/search", headers=bearer(token[:-2] + "xx"))
    assert tampered.status_code == 401


def test_a_read_token_cannot_write(sqlite_auth_app: Flask) -> None:
    client = sqlite_auth_app.test_client()
    token = make_token(sqlite_auth_app, "reader-bot", scope="read")
    assert client.get(f"{API}/experiments/search", headers=bearer(token)).status_code == 200
    refused = client.post(f"{API}/experiments/create", json={"name": "x"}, headers=bearer(token))
    assert refused.status_code == 403
    assert refused.get_json()["error_code"] == "PERMISSION_DENIED"
    admin = basic("admin", ADMIN_PASSWORD)
    assert (
        client.get(f"{API}/experiments/get-by-name?experiment_name=x", headers=admin).status_code
        == 404
    )


def test_an_admins_write_token_cannot_reach_admin_endpoints(sqlite_auth_app: Flask) -> None:
    client = sqlite_auth_app.test_client()
    token = make_token(sqlite_auth_app, "admin", scope="write")
    reply = client.get(f"{API}/users/list", headers=bearer(token))
    assert reply.status_code == 403
    admin_token = make_token(sqlite_auth_app, "admin", scope="admin")
    assert client.get(f"{API}/users/list", headers=bearer(admin_token)).status_code == 200


def test_expired_and_revoked_tokens_are_401(
    sqlite_auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    client = sqlite_auth_app.test_client()
    expired = make_token(sqlite_auth_app, "old-bot", expires_at=1)
    assert client.get(f"{API}/experiments/search", headers=bearer(expired)).status_code == 401
    ana = make_user(sqlite_auth_app, "ana")
    made = client.post("/api/2.0/modelyard/tokens/create", json={"name": "laptop"}, headers=ana)
    assert made.status_code == 200
    secret, token_id = made.get_json()["secret"], made.get_json()["token"]["id"]
    assert client.get(f"{API}/experiments/search", headers=bearer(secret)).status_code == 200
    listed = client.get("/api/2.0/modelyard/tokens/list", headers=ana).get_json()["tokens"]
    assert [t["name"] for t in listed] == ["laptop"]
    assert "secret" not in listed[0]
    revoke = client.post("/api/2.0/modelyard/tokens/revoke", json={"id": token_id}, headers=ana)
    assert revoke.status_code == 200
    assert client.get(f"{API}/experiments/search", headers=bearer(secret)).status_code == 401


def test_a_user_cannot_mint_tokens_for_others_or_admin_scope(
    sqlite_auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    client = sqlite_auth_app.test_client()
    ana = make_user(sqlite_auth_app, "ana")
    other = client.post("/api/2.0/modelyard/tokens/create", json={"username": "admin"}, headers=ana)
    assert other.status_code == 403
    scope = client.post("/api/2.0/modelyard/tokens/create", json={"scope": "admin"}, headers=ana)
    assert scope.status_code == 403
