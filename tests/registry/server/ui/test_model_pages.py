"""Model, version and run pages: markdown descriptions, editable model and version tags, model
search, the logged model's files shown as text, and links between runs and versions."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from registry.auth.passwords import hash_password
from registry.config import Config
from registry.server.app import create_app
from registry.store import auth as auth_store
from registry.store import use_database
from tests.registry.auth.conftest import ADMIN_PASSWORD, PASSWORD, basic

API = "/api/2.0/mlflow"
SCRIPTED = "**bold** <script>alert(1)</script> [x](javascript:alert(1))"


def _call(client: FlaskClient, path: str, **body: object) -> dict[str, object]:
    reply = client.post(f"{API}/{path}", json=body)
    assert reply.status_code == 200, reply.get_json()
    data: dict[str, object] = reply.get_json()
    return data


def _patch(client: FlaskClient, path: str, **body: object) -> None:
    reply = client.patch(f"{API}/{path}", json=body)
    assert reply.status_code == 200, reply.get_json()


def _html(client: FlaskClient, path: str) -> str:
    reply = client.get(path)
    assert reply.status_code == 200, path
    return reply.get_data(as_text=True)


def _token(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', _html(client, path))
    assert found
    return found.group(1)


def _model_with_run(client: FlaskClient, name: str = "churn") -> str:
    """A run that logged an MLmodel and requirements.txt, registered as version 1 of ``name``."""
    experiment = str(_call(client, "experiments/create", name="exp")["experiment_id"])
    run = _call(client, "runs/create", experiment_id=experiment, run_name="trainer")["run"]
    run_id = str(run["info"]["run_id"])  # type: ignore[index]
    base = f"/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run_id}/artifacts/model"
    files = {
        "MLmodel": b"flavors:\n  python_function: {loader_module: x}\n",
        "requirements.txt": b"scikit-learn==1.5.0\n<b>not markup</b>\n",
    }
    for file_name, body in files.items():
        assert client.put(f"{base}/{file_name}", data=body).status_code == 200
    _call(client, "registered-models/create", name=name)
    source = f"runs:/{run_id}/model"
    _call(client, "model-versions/create", name=name, source=source, run_id=run_id)
    return run_id


def _elements(html: str) -> list[str]:
    return re.findall(r"<[a-z][^>]*>", html.lower())


def test_descriptions_render_as_markdown_without_script(client: FlaskClient) -> None:
    run_id = _model_with_run(client)
    _patch(client, "registered-models/update", name="churn", description=SCRIPTED)
    _patch(client, "model-versions/update", name="churn", version="1", description=SCRIPTED)
    _call(client, "runs/set-tag", run_id=run_id, key="mlflow.note.content", value=SCRIPTED)
    for path in ("/models/churn", "/models/churn/versions/1", f"/runs/{run_id}"):
        html = _html(client, path)
        assert "<strong>bold</strong>" in html, path
        assert "<script>alert(1)" not in html, path
        assert not [e for e in _elements(html) if 'href="javascript' in e], path


def test_a_run_description_is_edited_on_the_run_page(sqlite_client: FlaskClient) -> None:
    run_id = _model_with_run(sqlite_client)
    token = _token(sqlite_client, f"/runs/{run_id}")
    form = {"csrf_token": token, "key": "mlflow.note.content", "value": "Uses _features v2_"}
    assert sqlite_client.post(f"/runs/{run_id}/tags", data=form).status_code == 303
    assert "<em>features v2</em>" in _html(sqlite_client, f"/runs/{run_id}")


def test_model_and_version_tags_are_set_changed_and_removed(client: FlaskClient) -> None:
    _model_with_run(client)
    token = _token(client, "/models/churn")
    for base, get in (
        ("/models/churn", "registered-models/get?name=churn"),
        ("/models/churn/versions/1", "model-versions/get?name=churn&version=1"),
    ):
        form = {"csrf_token": token, "key": "team", "value": "risk"}
        assert client.post(f"{base}/tags", data=form).status_code == 303
        assert "'key': 'team', 'value': 'risk'" in str(client.get(f"{API}/{get}").get_json())
        page = _html(client, base)
        assert "risk" in page and 'id="add-' in page
        form["value"] = "fraud"
        client.post(f"{base}/tags", data=form)
        assert "'value': 'fraud'" in str(client.get(f"{API}/{get}").get_json())
        client.post(f"{base}/tags/delete", data={"csrf_token": token, "key": "team"})
        assert "team" not in str(client.get(f"{API}/{get}").get_json())


def test_a_tag_form_without_the_csrf_token_is_refused(sqlite_client: FlaskClient) -> None:
    _model_with_run(sqlite_client)
    _token(sqlite_client, "/models/churn")  # the session has a token; the form omits it
    for base in ("/models/churn", "/models/churn/versions/1"):
        reply = sqlite_client.post(f"{base}/tags", data={"key": "team", "value": "x"})
        assert reply.status_code == 400
    assert "team" not in str(sqlite_client.get(f"{API}/registered-models/get?name=churn").json)
    version = sqlite_client.get(f"{API}/model-versions/get?name=churn&version=1").json
    assert "team" not in str(version)


def test_a_tag_without_a_key_is_refused(sqlite_client: FlaskClient) -> None:
    _model_with_run(sqlite_client)
    token = _token(sqlite_client, "/models/churn")
    reply = sqlite_client.post("/models/churn/tags", data={"csrf_token": token, "key": " "})
    assert reply.status_code == 303
    assert "tags" not in str(sqlite_client.get(f"{API}/registered-models/get?name=churn").json)


def test_model_search_filters_by_name_in_any_case(client: FlaskClient) -> None:
    for name in ("Churn-Model", "fraud_model", "fraudXmodel", "it's-quoted"):
        _call(client, "registered-models/create", name=name)
    listed = _html(client, "/models/?q=CHURN")
    assert "Churn-Model" in listed and "fraud_model" not in listed
    # "_" and "%" are plain characters here, not wildcards.
    underscored = _html(client, "/models/?q=d_m")
    assert "fraud_model" in underscored and "fraudXmodel" not in underscored
    assert "Churn-Model" not in _html(client, "/models/?q=%25")
    assert "it&#39;s-quoted" in _html(client, "/models/?q=%27s-")
    assert "No model name contains" in _html(client, "/models/?q=nothing-like-this")
    everything = _html(client, "/models/")
    assert "Churn-Model" in everything and "fraudXmodel" in everything


def test_model_files_show_as_text_on_the_version_and_run_pages(client: FlaskClient) -> None:
    run_id = _model_with_run(client)
    version = _html(client, "/models/churn/versions/1")
    assert 'id="model-files"' in version
    assert "python_function: {loader_module: x}" in version
    assert "scikit-learn==1.5.0" in version and "&lt;b&gt;not markup&lt;/b&gt;" in version
    for file_name in ("MLmodel", "requirements.txt"):
        page = _html(client, f"/runs/{run_id}?artifact=model/{file_name}")
        assert "No preview for this kind of file" not in page, file_name
    assert "scikit-learn==1.5.0" in _html(client, f"/runs/{run_id}?artifact=model/requirements.txt")


def test_a_run_links_to_its_versions_and_a_version_to_its_run(client: FlaskClient) -> None:
    run_id = _model_with_run(client)
    assert 'href="/models/churn/versions/1"' in _html(client, f"/runs/{run_id}")
    assert f'href="/runs/{run_id}"' in _html(client, "/models/churn/versions/1")


def test_tag_forms_need_edit_on_the_model(sqlite_url: str, artifact_root: Path) -> None:
    app = create_app(Config(database_url=sqlite_url, artifact_root=str(artifact_root), auth=True))
    app.config["TESTING"] = True
    with use_database(app.extensions["registry"].database):
        auth_store.create_user("admin", hash_password(ADMIN_PASSWORD), is_admin=True)
        auth_store.create_user("bob", hash_password(PASSWORD))
    admin = app.test_client()
    admin.environ_base["HTTP_AUTHORIZATION"] = basic("admin", ADMIN_PASSWORD)["Authorization"]
    _model_with_run(admin)
    grant = {"name": "churn", "username": "bob", "permission": "READ"}
    _call(admin, "registered-models/permissions/create", **grant)
    bob = app.test_client()
    token = _token(bob, "/login")
    login = {"csrf_token": token, "username": "bob", "password": PASSWORD}
    assert bob.post("/login", data=login).status_code == 303
    token = _token(bob, "/models/churn")
    assert 'id="add-model-tag"' not in _html(bob, "/models/churn")
    for base in ("/models/churn", "/models/churn/versions/1"):
        reply = bob.post(f"{base}/tags", data={"csrf_token": token, "key": "team", "value": "x"})
        assert reply.status_code == 303
        assert "Permission denied" in _html(bob, reply.headers["Location"])
    assert "team" not in str(admin.get(f"{API}/registered-models/get?name=churn").json)
    assert "team" not in str(admin.get(f"{API}/model-versions/get?name=churn&version=1").json)
    _patch(admin, "registered-models/permissions/update", **{**grant, "permission": "EDIT"})
    form = {"csrf_token": token, "key": "team", "value": "x"}
    assert bob.post("/models/churn/versions/1/tags", data=form).status_code == 303
    assert "team" in str(admin.get(f"{API}/model-versions/get?name=churn&version=1").json)
