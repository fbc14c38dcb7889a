"""Under ``--auth``, a model version cannot turn files its creator may not read into theirs.

Creating a version needs READ on what its source and ``run_id``/``model_id`` name (as MLflow's
auth requires), and ``model-versions/get-artifact`` also needs READ on the experiment that owns
the version's files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.registry.auth.conftest import ADMIN_PASSWORD, basic

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json(silent=True) or {}
    return body


def _experiment_with_run(
    client: FlaskClient, name: str, headers: dict[str, str]
) -> tuple[str, str]:
    experiment_id = _ok(
        client.post(f"{API}/experiments/create", json={"name": name}, headers=headers)
    )["experiment_id"]
    run = _ok(
        client.post(f"{API}/runs/create", json={"experiment_id": experiment_id}, headers=headers)
    )
    run_id = run["run"]["info"]["run_id"]
    upload = {"run_uuid": run_id, "path": "model/secret.txt"}
    _ok(
        client.post(f"{AJAX}/upload-artifact", query_string=upload, data=b"secret", headers=headers)
    )
    return experiment_id, run_id


def _setup(app: Flask, make_user: Callable[..., dict[str, str]]) -> dict[str, Any]:
    """A hidden experiment (run, logged model, registered model) and ana's own model and run."""
    admin = app.test_client()
    admin.environ_base["HTTP_AUTHORIZATION"] = basic("admin", ADMIN_PASSWORD)["Authorization"]
    ana = make_user(app, "ana")
    hidden_experiment, hidden_run = _experiment_with_run(admin, "secret", {})
    logged = _ok(
        admin.post(
            f"{API}/logged-models",
            json={"experiment_id": hidden_experiment, "name": "m", "source_run_id": hidden_run},
        )
    )["model"]["info"]["model_id"]
    _ok(admin.put(f"{PROXY}/{hidden_experiment}/models/{logged}/artifacts/secret.txt", data=b"s"))
    _ok(admin.post(f"{API}/registered-models/create", json={"name": "theirs"}))
    _ok(
        admin.post(
            f"{API}/model-versions/create",
            json={"name": "theirs", "source": f"runs:/{hidden_run}/model", "run_id": hidden_run},
        )
    )
    for kind, key, value in (
        ("experiments", "experiment_id", hidden_experiment),
        ("registered-models", "name", "theirs"),
    ):
        grant = {key: value, "username": "ana", "permission": "NO_PERMISSIONS"}
        _ok(admin.post(f"{API}/{kind}/permissions/create", json=grant))
    client = app.test_client()
    _ok(client.post(f"{API}/registered-models/create", json={"name": "mine"}, headers=ana))
    _own_experiment, own_run = _experiment_with_run(client, "ana's", ana)
    return {
        "admin": admin,
        "client": client,
        "ana": ana,
        "experiment": hidden_experiment,
        "run": hidden_run,
        "logged": logged,
        "own_run": own_run,
    }


def test_a_version_cannot_be_made_of_what_its_creator_cannot_read(
    sqlite_auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    s = _setup(sqlite_auth_app, make_user)
    experiment, run, logged = s["experiment"], s["run"], s["logged"]
    refused = [
        {"source": f"runs:/{run}/model"},
        {"source": f"runs:/{run}/model", "run_id": run},
        {"source": f"mlflow-artifacts:/{experiment}/{run}/artifacts/model"},
        {"source": f"mlflow-artifacts:/{experiment}/%72{run[1:]}/artifacts/model"},
        {"source": f"mlflow-artifacts:/{experiment}/models/{logged}/artifacts"},
        {"source": f"models:/{logged}"},
        {"source": f"runs:/{s['own_run']}/model", "run_id": run},
        {"source": f"runs:/{s['own_run']}/model", "model_id": logged},
        {"source": "models:/theirs/1"},
        {"source": "models:/theirs@champion"},
        {"source": "mlflow-artifacts:/nobody/owns/this"},
    ]
    answers = [
        s["client"].post(
            f"{API}/model-versions/create", json={"name": "mine", **body}, headers=s["ana"]
        )
        for body in refused
    ]
    assert [(a.status_code, a.get_json()["error_code"]) for a in answers] == [
        (403, "PERMISSION_DENIED")
    ] * len(refused)
    versions = s["admin"].get(
        f"{API}/model-versions/search", query_string={"filter": "name = 'mine'"}
    )
    assert _ok(versions).get("model_versions", []) == []


def test_a_version_of_a_readable_run_is_still_created(
    sqlite_auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    s = _setup(sqlite_auth_app, make_user)
    own = s["own_run"]
    created = [
        _ok(
            s["client"].post(
                f"{API}/model-versions/create",
                json={"name": "mine", "source": f"runs:/{own}/model", **extra},
                headers=s["ana"],
            )
        )["model_version"]["version"]
        for extra in ({}, {"run_id": own})
    ]
    assert created == ["1", "2"]
    got = s["client"].get(
        "/model-versions/get-artifact",
        query_string={"name": "mine", "version": "1", "path": "secret.txt"},
        headers=s["ana"],
    )
    assert (got.status_code, got.data) == (200, b"secret")


def test_version_files_need_read_on_their_experiment(
    sqlite_auth_app: Flask, make_user: Callable[..., dict[str, str]]
) -> None:
    s = _setup(sqlite_auth_app, make_user)
    run = s["run"]
    grant = {"name": "mine", "username": "ana", "permission": "MANAGE"}
    _ok(s["admin"].post(f"{API}/registered-models/permissions/create", json=grant))
    # An admin may make such a version (or it predates the check at creation).
    for source in (
        f"runs:/{run}/model",
        f"mlflow-artifacts:/{s['experiment']}/{run}/artifacts/model",
    ):
        _ok(
            s["admin"].post(f"{API}/model-versions/create", json={"name": "mine", "source": source})
        )
    for version in ("1", "2"):
        args = {"name": "mine", "version": version, "path": "secret.txt"}
        refused = s["client"].get(
            "/model-versions/get-artifact", query_string=args, headers=s["ana"]
        )
        assert refused.status_code == 403
        assert b"secret" not in refused.data
        allowed = s["admin"].get("/model-versions/get-artifact", query_string=args)
        assert (allowed.status_code, allowed.data) == (200, b"secret")
