"""Behaviours MLflow 3.17 has and clients rely on: versions, locations, sources, ordering."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from registry import __version__
from registry.config import Config
from registry.server.api.meta import MLFLOW_PROTOCOL_VERSION
from registry.server.app import create_app

API = "/api/2.0/mlflow"
MakeClient = Callable[..., FlaskClient]


@pytest.fixture
def make_client(sqlite_url: str, artifact_root: Path) -> Iterator[MakeClient]:
    apps = []

    def make(**settings: str) -> FlaskClient:
        app = create_app(
            Config(database_url=sqlite_url, artifact_root=str(artifact_root), **settings)
        )
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.extensions["registry"].database.close_all()


# versions


def test_version_reports_the_mlflow_protocol_and_ours_is_separate(
    sqlite_client: FlaskClient,
) -> None:
    mlflow = sqlite_client.get("/version")
    info = sqlite_client.get("/api/3.0/mlflow/server-info")

    assert (mlflow.status_code, mlflow.text) == (200, "3.17.2")
    assert MLFLOW_PROTOCOL_VERSION == "3.17.2"
    assert mlflow.headers["X-Modelyard-Version"] == __version__
    assert info.headers["X-Modelyard-Version"] == __version__
    assert "version" not in info.json  # MLflow's shape: the version is /version's


# experiment artifact locations


def _create(client: FlaskClient, name: str, location: str) -> tuple[int, dict[str, object]]:
    reply = client.post(
        f"{API}/experiments/create", json={"name": name, "artifact_location": location}
    )
    return reply.status_code, reply.json


def _location(client: FlaskClient, experiment_id: object) -> str:
    reply = client.get(f"{API}/experiments/get", query_string={"experiment_id": experiment_id})
    return str(reply.json["experiment"]["artifact_location"])


def test_a_relative_location_is_stored_absolute_against_the_server_directory(
    make_client: MakeClient, artifact_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(artifact_root.parent)
    client = make_client()

    status, body = _create(client, "plain", f"{artifact_root.name}/exp")
    status_uri, body_uri = _create(client, "uri", f"file:{artifact_root.name}/exp2")

    assert (status, status_uri) == (200, 200)
    assert _location(client, body["experiment_id"]) == f"{artifact_root}/exp"
    assert _location(client, body_uri["experiment_id"]) == f"file://{artifact_root}/exp2"


@pytest.mark.parametrize("location", ["elsewhere/exp", "file:elsewhere", "../artifacts/x"])
def test_a_relative_location_outside_the_root_is_still_refused(
    make_client: MakeClient, artifact_root: Path, monkeypatch: pytest.MonkeyPatch, location: str
) -> None:
    monkeypatch.chdir(artifact_root.parent)
    client = make_client()

    status, body = _create(client, "escape", location)

    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    search = client.get(f"{API}/experiments/search", query_string={"max_results": 10})
    assert [e["name"] for e in search.json["experiments"]] == ["Default"]


def test_a_relative_prefix_the_operator_allowed_is_stored_absolute(
    make_client: MakeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    client = make_client(allowed_artifact_locations="shared")

    status, body = _create(client, "shared", "shared/team")

    assert status == 200
    assert _location(client, body["experiment_id"]) == f"{tmp_path}/shared/team"


# model version sources


def _model(client: FlaskClient) -> None:
    assert client.post(f"{API}/registered-models/create", json={"name": "m1"}).status_code == 200


def _version(client: FlaskClient, source: str, run_id: str = "") -> tuple[int, str]:
    body = {"name": "m1", "source": source, **({"run_id": run_id} if run_id else {})}
    reply = client.post(f"{API}/model-versions/create", json=body)
    return reply.status_code, reply.json.get("message", reply.json.get("model_version", {}))


def test_the_regex_setting_lets_other_stores_through_and_refuses_what_it_does_not_match(
    make_client: MakeClient,
) -> None:
    default = make_client()
    _model(default)
    assert _version(default, "s3://models-bucket/m")[0] == 400

    client = make_client(model_version_source_regex=r"^(s3://models-bucket/|runs:/|https?://)")

    assert _version(client, "s3://models-bucket/m")[0] == 200
    assert _version(client, "s3://other-bucket/m") == (
        400,
        "Invalid model version source: 's3://other-bucket/m'.",
    )
    # matched, but still never: a host the server would connect to, '..', a run mismatch
    assert _version(client, "https://models-bucket.example/m")[0] == 400
    assert _version(client, "s3://models-bucket/../secrets")[0] == 400
    assert _version(client, "runs:/aaaa/model", run_id="bbbb")[0] == 400


def test_the_regex_setting_accepts_a_local_path_inside_its_runs_artifact_directory(
    make_client: MakeClient, tmp_path: Path
) -> None:
    external = tmp_path / "external"
    client = make_client(model_version_source_regex=".", allowed_artifact_locations=str(external))
    _model(client)
    experiment = client.post(
        f"{API}/experiments/create", json={"name": "ext", "artifact_location": str(external)}
    ).json["experiment_id"]
    run = client.post(f"{API}/runs/create", json={"experiment_id": experiment}).json["run"]
    run_id, run_dir = run["info"]["run_id"], run["info"]["artifact_uri"]

    assert _version(client, f"{run_dir}/model", run_id=run_id)[0] == 200
    status, message = _version(client, f"{run_dir}/model")
    assert status == 400
    assert "the run_id request parameter has to be specified" in message
    assert _version(client, str(tmp_path / "elsewhere" / "model"), run_id=run_id)[0] == 400


def test_a_bad_regex_stops_the_server_at_start() -> None:
    with pytest.raises(ValueError, match="REGISTRY_MODEL_VERSION_SOURCE_REGEX"):
        Config.from_env({"MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX": "("})


# logged-model ordering


def _models(client: FlaskClient, order_by: list[dict[str, object]]) -> tuple[int, object]:
    reply = client.post(
        f"{API}/logged-models/search", json={"experiment_ids": ["0"], "order_by": order_by}
    )
    return reply.status_code, reply.json


def test_logged_models_default_to_newest_first_then_model_id(sqlite_client: FlaskClient) -> None:
    ids = [
        sqlite_client.post(f"{API}/logged-models", json={"experiment_id": "0", "name": n}).json[
            "model"
        ]["info"]["model_id"]
        for n in ("b", "a", "c")
    ]

    default = _models(sqlite_client, [])[1]
    by_alias = _models(sqlite_client, [{"field_name": "creation_timestamp_ms"}])[1]

    found = [m["info"]["model_id"] for m in default["models"]]  # type: ignore[index]
    infos = [m["info"] for m in default["models"]]  # type: ignore[index]
    expected = sorted(ids, key=lambda i: (-infos[found.index(i)]["creation_timestamp_ms"], i))
    assert found == expected
    oldest_first = [m["info"]["model_id"] for m in by_alias["models"]]  # type: ignore[index]
    assert oldest_first[0] == min(infos, key=lambda i: i["creation_timestamp_ms"])["model_id"]


def test_logged_models_refuse_an_unknown_ordering_as_mlflow_does(
    sqlite_client: FlaskClient,
) -> None:
    status, body = _models(sqlite_client, [{"field_name": "foo"}])

    assert status == 400
    assert body == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Invalid order by field name: foo",
    }
