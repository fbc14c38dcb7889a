"""A client may only point an experiment's artifacts where the server keeps its own.

Otherwise ``experiments/create`` with ``artifact_location=http://attacker/...`` makes every
client that logs to that experiment (the official one included) upload its files there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from registry.config import Config
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


def _create(client: FlaskClient, name: str, location: str) -> tuple[int, dict[str, object]]:
    reply = client.post(
        f"{API}/experiments/create", json={"name": name, "artifact_location": location}
    )
    return reply.status_code, reply.json


@pytest.mark.parametrize(
    "location",
    [
        "http://attacker.example/upload",
        "https://attacker.example/upload",
        "mlflow-artifacts://attacker.example:5000/upload",
        "s3://someone-elses-bucket/x",
        "file:///etc/cron.d",
        "/tmp/elsewhere",
        "relative/dir",
        "ftp://attacker.example/x",
    ],
)
def test_a_foreign_location_is_refused_and_nothing_is_created(
    make_client: MakeClient, location: str
) -> None:
    client = make_client()
    status, body = _create(client, "victim-experiment", location)
    assert status == 400
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "REGISTRY_ALLOWED_ARTIFACT_LOCATIONS" in str(body["message"])
    missing = client.get(
        f"{API}/experiments/get-by-name", query_string={"experiment_name": "victim-experiment"}
    )
    assert missing.status_code == 404


def test_locations_the_server_controls_are_accepted(
    make_client: MakeClient, artifact_root: Path
) -> None:
    client = make_client()
    for number, location in enumerate(
        ["mlflow-artifacts:/team-a", f"file://{artifact_root}/team-b", f"{artifact_root}/team-c"]
    ):
        status, body = _create(client, f"exp-{number}", location)
        assert status == 200, body
        got = client.get(
            f"{API}/experiments/get", query_string={"experiment_id": body["experiment_id"]}
        )
        assert got.json["experiment"]["artifact_location"] == location
    run = client.post(f"{API}/runs/create", json={"experiment_id": body["experiment_id"]}).json
    assert run["run"]["info"]["artifact_uri"].startswith(f"{artifact_root}/team-c/")


@pytest.mark.parametrize(
    "location",
    [
        "mlflow-artifacts:/../../etc",
        "mlflow-artifacts:/%2e%2e/%2e%2e/etc",
        "mlflow-artifacts:/a\nb",
        "{root}",
        "file://{root}/../outside",
    ],
)
def test_escapes_from_the_root_are_refused(
    make_client: MakeClient, artifact_root: Path, location: str
) -> None:
    client = make_client()
    status, body = _create(client, "escape", location.format(root=artifact_root))
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_the_operator_may_allow_more_prefixes(make_client: MakeClient) -> None:
    client = make_client(
        allowed_artifact_locations="s3://team-bucket/mlflow, https://store.example.com/art/"
    )
    assert _create(client, "a", "s3://team-bucket/mlflow/exp-a")[0] == 200
    assert _create(client, "b", "https://store.example.com/art/b")[0] == 200
    assert _create(client, "c", "s3://team-bucket/mlflow")[0] == 200
    assert _create(client, "d", "s3://team-bucket/mlflow-other/d")[0] == 400
    assert _create(client, "e", "https://store.example.com/other")[0] == 400


def test_the_setting_is_read_from_the_environment() -> None:
    config = Config.from_env({"REGISTRY_ALLOWED_ARTIFACT_LOCATIONS": "s3://b/p"})
    assert config.allowed_artifact_locations == "s3://b/p"
