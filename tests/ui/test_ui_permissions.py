"""The UI with auth on, on every engine: lists show only what the user may read, and buttons
appear only for users whose level the server would accept (which refuses them anyway)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.auth.passwords import hash_password
from registry.config import Config
from registry.server.app import create_app
from registry.store import auth as auth_store
from registry.store import use_database
from tests.registry.auth.conftest import ADMIN_PASSWORD, PASSWORD, basic

API = "/api/2.0/mlflow"


@dataclass
class World:
    """Two experiments with a run each, and two models whose version 1 comes from those runs."""

    app: Flask
    admin: FlaskClient
    open_experiment: str
    secret_experiment: str
    open_run: str
    secret_run: str


def _call(client: FlaskClient, path: str, **body: object) -> dict[str, object]:
    reply = client.post(f"{API}/{path}", json=body)
    assert reply.status_code == 200, reply.get_json()
    data: dict[str, object] = reply.get_json()
    return data


def _build(app: Flask) -> World:
    with use_database(app.extensions["registry"].database):
        auth_store.create_user("admin", hash_password(ADMIN_PASSWORD), is_admin=True)
        for name in ("bob", "eve"):
            auth_store.create_user(name, hash_password(PASSWORD))
    admin = app.test_client()
    admin.environ_base["HTTP_AUTHORIZATION"] = basic("admin", ADMIN_PASSWORD)["Authorization"]
    ids, runs = {}, {}
    for kind in ("open", "secret"):
        ids[kind] = str(_call(admin, "experiments/create", name=f"{kind}-exp")["experiment_id"])
        run = _call(admin, "runs/create", experiment_id=ids[kind], run_name=f"{kind}-run")["run"]
        runs[kind] = str(run["info"]["run_id"])  # type: ignore[index]
        _call(admin, "runs/log-parameter", run_id=runs[kind], key=f"{kind}_param", value="1")
        _call(admin, "registered-models/create", name=f"{kind}-model")
        upload = admin.put(
            f"/api/2.0/mlflow-artifacts/artifacts/{ids[kind]}/{runs[kind]}/artifacts/model/MLmodel",
            data=f"flavors: {{{kind}_flavor: {{}}}}\n".encode(),
        )
        assert upload.status_code == 200, upload.get_json()
    # The open model's only version was trained in the secret experiment.
    for model, run_id in (("open-model", runs["secret"]), ("secret-model", runs["secret"])):
        _call(
            admin,
            "model-versions/create",
            name=model,
            source=f"runs:/{run_id}/model",
            run_id=run_id,
        )
    return World(app, admin, ids["open"], ids["secret"], runs["open"], runs["secret"])


def _grant(world: World, username: str, level: str, kind: str = "experiment") -> None:
    if kind == "experiment":
        path, body = "experiments/permissions/create", {"experiment_id": world.open_experiment}
    else:
        path, body = "registered-models/permissions/create", {"name": "open-model"}
    _call(world.admin, path, username=username, permission=level, **body)


@pytest.fixture
def world(db_url: str, artifact_root: Path) -> Iterator[World]:
    """Auth on, nothing readable unless granted; bob reads the open experiment and model."""
    config = Config(
        database_url=db_url,
        artifact_root=str(artifact_root),
        auth=True,
        default_permission="NO_PERMISSIONS",
    )
    app = create_app(config)
    app.config["TESTING"] = True
    built = _build(app)
    _grant(built, "bob", "READ")
    _grant(built, "bob", "READ", kind="model")
    yield built
    close_all = getattr(app.extensions["registry"].database, "close_all", None)
    if close_all is not None:
        close_all()


def _as(world: World, username: str) -> FlaskClient:
    client = world.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = basic(username, PASSWORD)["Authorization"]
    return client


def _html(client: FlaskClient, path: str) -> str:
    reply = client.get(path)
    assert reply.status_code == 200, path
    return reply.get_data(as_text=True)


def _login(world: World, username: str) -> tuple[FlaskClient, str]:
    """A browser-like client with a session cookie, and its CSRF token."""
    client = world.app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    reply = client.post(
        "/login",
        data={"csrf_token": token.group(1), "username": username, "password": PASSWORD},
    )
    assert reply.status_code == 303
    # Logging in starts a new session, with a new token.
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', _html(client, "/"))
    assert fresh
    return client, fresh.group(1)


def test_lists_show_a_reader_only_what_was_granted(world: World) -> None:
    bob = _as(world, "bob")
    experiments = _html(bob, "/")
    assert "open-exp" in experiments
    assert "secret-exp" not in experiments
    sidebar = _html(bob, f"/experiments/{world.open_experiment}")
    assert "open-exp" in sidebar
    assert "secret-exp" not in sidebar
    models = _html(bob, "/models/")
    assert "open-model" in models
    assert "secret-model" not in models
    run_page = _html(bob, f"/runs/{world.open_run}")
    assert '<option value="open-model">' in run_page
    assert "secret-model" not in run_page
    admin_models = _html(world.admin, "/models/")
    assert "secret-model" in admin_models


def test_a_model_page_hides_a_source_run_the_reader_may_not_read(world: World) -> None:
    bob = _as(world, "bob")
    model = _html(bob, "/models/open-model")
    assert f"/runs/{world.secret_run}" not in model
    version = _html(bob, "/models/open-model/versions/1")
    assert "secret_param" not in version
    assert "secret-run" not in version
    assert "in an experiment you may not read" in version
    assert "secret_flavor" not in version  # the MLmodel lies in the secret experiment too
    admin_version = _html(world.admin, "/models/open-model/versions/1")
    assert "secret_param" in admin_version
    assert "secret_flavor" in admin_version


def test_a_default_readable_user_does_not_see_what_was_denied(
    sqlite_url: str, artifact_root: Path
) -> None:
    app = create_app(Config(database_url=sqlite_url, artifact_root=str(artifact_root), auth=True))
    app.config["TESTING"] = True
    world = _build(app)
    secret = {"experiment_id": world.secret_experiment, "name": "secret-model"}
    _call(
        world.admin,
        "experiments/permissions/create",
        username="eve",
        permission="NO_PERMISSIONS",
        experiment_id=secret["experiment_id"],
    )
    _call(
        world.admin,
        "registered-models/permissions/create",
        username="eve",
        permission="NO_PERMISSIONS",
        name=secret["name"],
    )
    eve = _as(world, "eve")
    experiments = _html(eve, "/")
    assert "open-exp" in experiments
    assert "secret-exp" not in experiments
    models = _html(eve, "/models/")
    assert "open-model" in models
    assert "secret-model" not in models


def test_a_forged_compare_of_many_runs_shows_only_readable_ones(world: World) -> None:
    _grant(world, "bob", "MANAGE")
    bob, token = _login(world, "bob")
    # Past 100 runs the table posts the comparison instead of redirecting to GET /compare.
    fillers = [f"{i:032x}" for i in range(100)]
    reply = bob.post(
        f"/experiments/{world.open_experiment}/runs",
        data={
            "csrf_token": token,
            "action": "compare",
            "run": [world.open_run, world.secret_run, *fillers],
        },
    )
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert "open_param" in page
    assert "secret_param" not in page
    assert "secret-run" not in page


def test_buttons_follow_the_users_level(world: World) -> None:
    reader = _as(world, "bob")
    table = _html(reader, f"/experiments/{world.open_experiment}")
    assert "Compare selected" in table
    for button in ("Delete experiment", "Delete selected", "<summary>Rename</summary>"):
        assert button not in table
    run_page = _html(reader, f"/runs/{world.open_run}")
    for button in ("Delete run", 'id="add-tag"', 'id="rename-run"'):
        assert button not in run_page
    model = _html(reader, "/models/open-model")
    for button in (
        "Promote to",
        "Archive</button>",
        "alias-form",
        "rollback-form",
        "description-edit",
    ):
        assert button not in model
    _grant(world, "bob", "EDIT")
    _grant(world, "bob", "EDIT", kind="model")
    editor = _as(world, "bob")
    table = _html(editor, f"/experiments/{world.open_experiment}")
    assert "<summary>Rename</summary>" in table
    assert "Delete experiment" not in table
    run_page = _html(editor, f"/runs/{world.open_run}")
    assert 'id="add-tag"' in run_page
    assert "Delete run" not in run_page
    model = _html(editor, "/models/open-model")
    for button in ("Promote to Production", "alias-form", "rollback-form", "description-edit"):
        assert button in model
    _grant(world, "bob", "MANAGE")
    manager = _html(_as(world, "bob"), f"/experiments/{world.open_experiment}")
    assert "Delete experiment" in manager
    assert "Delete selected" in manager


def test_the_server_refuses_a_forged_form_of_a_reader(world: World) -> None:
    bob, token = _login(world, "bob")
    reply = bob.post(
        "/models/open-model/versions/1/stage",
        data={"csrf_token": token, "stage": "Production"},
    )
    assert reply.status_code == 303
    assert "Permission denied" in _html(bob, reply.headers["Location"])
    model = world.admin.get(f"{API}/registered-models/get?name=open-model").get_json()
    assert "Production" not in str(model)
    rename = bob.post(
        f"/experiments/{world.open_experiment}/rename",
        data={"csrf_token": token, "name": "renamed"},
    )
    assert rename.status_code == 303
    assert "renamed" not in _html(world.admin, "/")


def test_deleting_selected_runs_acts_only_inside_the_managed_experiment(world: World) -> None:
    _grant(world, "bob", "MANAGE")
    bob, token = _login(world, "bob")
    reply = bob.post(
        f"/experiments/{world.open_experiment}/runs",
        data={"csrf_token": token, "action": "delete", "run": [world.open_run, world.secret_run]},
    )
    assert reply.status_code == 303
    for run_id in (world.open_run, world.secret_run):
        run = world.admin.get(f"{API}/runs/get?run_id={run_id}").get_json()["run"]
        assert run["info"]["lifecycle_stage"] == "active"


def test_what_a_user_creates_in_the_ui_is_theirs_to_manage(world: World) -> None:
    bob, token = _login(world, "bob")
    created = bob.post("/experiments/create", data={"csrf_token": token, "name": " bobs-exp "})
    assert created.status_code == 303
    assert "bobs-exp" in _html(bob, created.headers["Location"])  # readable: bob manages it

    form = {"csrf_token": token, "name": "bobs-model", "artifact_path": "model"}
    registered = bob.post(f"/runs/{world.open_run}/register", data=form)
    assert registered.status_code == 303
    assert "Permission denied" not in _html(bob, registered.headers["Location"])
    deleted = bob.delete(f"{API}/registered-models/delete", json={"name": "bobs-model"})
    assert deleted.status_code == 200, deleted.get_json()  # MANAGE on the model bob created


def test_registering_into_an_existing_model_grants_nothing_more(world: World) -> None:
    grant = {"name": "open-model", "username": "bob", "permission": "EDIT"}
    updated = world.admin.patch(f"{API}/registered-models/permissions/update", json=grant)
    assert updated.status_code == 200, updated.get_json()
    bob, token = _login(world, "bob")
    form = {"csrf_token": token, "name": "open-model", "artifact_path": "model"}
    registered = bob.post(f"/runs/{world.open_run}/register", data=form)
    assert registered.status_code == 303
    assert "Permission denied" not in _html(bob, registered.headers["Location"])
    deleted = bob.delete(f"{API}/registered-models/delete", json={"name": "open-model"})
    assert deleted.status_code == 403  # EDIT stays EDIT
