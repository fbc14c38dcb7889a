"""Several models in one serving app: routing by name, readiness, the model repository
extension, per-model metrics and the table the gRPC server reads (in-process, real models)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sklearn.linear_model import LinearRegression

import registry as mlflow
import registry.sklearn
from registry.client.tracking_uri import reset_tracking_uri
from registry.errors import ModelNotReady, NotFound
from registry.models import sklearn as sklearn_flavor
from serving.app import create_app
from serving.config import ServingConfig
from serving.loader import ModelSource
from serving.models import ModelTable, model_specs
from tests.serving.conftest import COLUMNS, TARGET, TRAIN, expected

ROWS = [[1.0, 2.0, 3.0], [4.0, 0.5, 1.0]]
TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def tenfold_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second model whose predictions are ten times the first's."""
    path = tmp_path_factory.mktemp("tenfold") / "model"
    model = LinearRegression().fit(TRAIN, TARGET * 10)
    sklearn_flavor.save_model(model, path, input_example=TRAIN.head(2))
    return path


def two_model_app(model_dirs: dict[str, Path], tenfold: Path, **settings: object) -> Flask:
    config = ServingConfig(  # type: ignore[arg-type]
        models=f"one={model_dirs['signature']},ten={tenfold}", **settings
    )
    table = ModelTable.from_config(config, load=True)
    app = create_app(config, table=table, start=False)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(model_dirs: dict[str, Path], tenfold_dir: Path) -> FlaskClient:
    return two_model_app(model_dirs, tenfold_dir).test_client()


def predictions(response: object) -> list[float]:
    body = response.get_json()  # type: ignore[attr-defined]
    assert response.status_code == 200, body  # type: ignore[attr-defined]
    return list(body["predictions"])


def test_each_protocol_finds_the_model_by_name(client: FlaskClient) -> None:
    body = {"dataframe_split": {"columns": COLUMNS, "data": ROWS}}
    one = expected(ROWS)
    ten = [10 * v for v in one]
    assert predictions(client.post("/invocations/one", json=body)) == pytest.approx(one)
    assert predictions(client.post("/invocations/ten", json=body)) == pytest.approx(ten)
    by_header = client.post("/invocations", json=body, headers={"X-Model-Name": "ten"})
    assert predictions(by_header) == pytest.approx(ten)
    assert by_header.headers["X-Model-Version"] == "local"
    v1 = client.post("/v1/models/ten:predict", json={"instances": ROWS})
    assert predictions(v1) == pytest.approx(ten)
    tensor = {
        "name": "x",
        "shape": [2, 3],
        "datatype": "FP64",
        "data": [v for r in ROWS for v in r],
    }
    v2 = client.post("/v2/models/one/versions/local/infer", json={"inputs": [tensor]})
    assert v2.status_code == 200
    assert v2.get_json()["model_name"] == "one"
    assert v2.get_json()["outputs"][0]["data"] == pytest.approx(one)
    assert client.get("/v1/models").get_json() == {"models": ["one", "ten"]}
    assert client.get("/v1/models/ten").get_json() == {"name": "ten", "ready": True}
    assert client.get("/v2/models/ten").get_json()["name"] == "ten"


def test_unnamed_and_unknown_models_are_clear_errors(client: FlaskClient) -> None:
    body = {"inputs": ROWS}
    unnamed = client.post("/invocations", json=body)
    assert unnamed.status_code == 400
    assert unnamed.get_json()["error_code"] == "BAD_REQUEST"
    assert "X-Model-Name" in unnamed.get_json()["message"]
    for method, path, headers in [
        ("POST", "/invocations/nope", {}),
        ("POST", "/invocations", {"X-Model-Name": "nope"}),
        ("POST", "/v1/models/nope:predict", {}),
        ("GET", "/v1/models/nope", {}),
        ("POST", "/v2/models/nope/infer", {}),
        ("GET", "/v2/models/nope/ready", {}),
        ("GET", "/v2/models/one/versions/7/ready", {}),
    ]:
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code == 404, path
        reply = response.get_json()
        assert reply["error_code"] == "RESOURCE_DOES_NOT_EXIST", path
        # The answer names what was asked for, and lists nothing else that is served.
        if "nope" in path or headers:
            assert "'ten'" not in reply["message"]
    assert client.post("/v1/models/nope:predict", json=body).get_json()["error"]


def test_one_model_needs_no_name_but_a_wrong_one_is_refused(
    model_dirs: dict[str, Path],
) -> None:
    config = ServingConfig(model_uri=str(model_dirs["signature"]), model_name="taxi")
    loaded = ModelSource(config.model_uri, "").load()
    client = create_app(config, loaded, start=False).test_client()
    body = {"inputs": ROWS}
    assert predictions(client.post("/invocations", json=body)) == pytest.approx(expected(ROWS))
    assert client.post("/invocations/taxi", json=body).status_code == 200
    assert client.post("/invocations", json=body, headers={"X-Model-Name": "x"}).status_code == 404
    assert client.get("/v1/models").get_json() == {"models": ["taxi"]}
    health = client.get("/health").get_json()
    assert (health["model_version"], health["models"][0]["name"]) == ("local", "taxi")


def test_ready_once_every_model_is_loaded(model_dirs: dict[str, Path], tenfold_dir: Path) -> None:
    config = ServingConfig(model_uri=str(model_dirs["signature"]), models=f"ten={tenfold_dir}")
    loaded = ModelSource(config.model_uri, "").load()
    app = create_app(config, loaded, start=False)  # "ten" is not loaded yet
    client = app.test_client()
    for path in ("/ping", "/health", "/v2/health/ready", "/v2/models/ten/ready", "/v1/models/ten"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.get_json()["error_code"] == "MODEL_NOT_READY"
    assert client.get("/v2/models/model/ready").status_code == 200
    table: ModelTable = app.extensions["serving"].table
    assert not table.ready()
    served = table.get("ten")
    assert served is not None
    served.watcher.check()  # what its watcher thread does first
    assert table.ready()
    assert client.get("/v2/health/ready").status_code == 200
    health = client.get("/health").get_json()
    assert [m["name"] for m in health["models"]] == ["model", "ten"]
    assert {m["state"] for m in health["models"]} == {"READY"}


def test_the_table_is_what_the_grpc_server_reads(client: FlaskClient) -> None:
    table: ModelTable = client.application.extensions["serving"].table
    assert table.names() == ["one", "ten"]
    assert table.ready()
    assert table.model("one").version == "local"
    assert table.model("ten", "local").version == "local"
    with pytest.raises(NotFound):
        table.model("nope")
    with pytest.raises(NotFound):
        table.model("one", "3")
    table.unload("one")
    with pytest.raises(ModelNotReady):
        table.model("one")
    assert table.ready()  # an unloaded model is not waited for


def test_repository_changes_are_off_by_default(client: FlaskClient) -> None:
    index = client.post("/v2/repository/index")
    assert index.status_code == 200
    assert index.get_json() == [
        {"name": "one", "version": "local", "state": "READY", "reason": ""},
        {"name": "ten", "version": "local", "state": "READY", "reason": ""},
    ]
    for path in ("/v2/repository/models/one/unload", "/v2/repository/models/one/load"):
        response = client.post(path)
        assert response.status_code == 403
        assert response.get_json()["error_code"] == "PERMISSION_DENIED"
        assert "--allow-repository-changes" in response.get_json()["message"]
    assert "model_repository" in client.get("/v2").get_json()["extensions"]


def test_unload_and_load_with_a_token(model_dirs: dict[str, Path], tenfold_dir: Path) -> None:
    app = two_model_app(
        model_dirs, tenfold_dir, allow_repository_changes=True, repository_token=TOKEN
    )
    client = app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = client.post("/v2/repository/models/one/unload", headers=headers)
        assert response.status_code == 401
        assert response.get_json()["error_code"] == "UNAUTHENTICATED"
    assert client.post("/v2/repository/models/one/unload", headers=auth).status_code == 200
    index = client.post("/v2/repository/index").get_json()
    assert index[0] == {"name": "one", "version": "", "state": "UNAVAILABLE", "reason": "unloaded"}
    ready_only = client.post("/v2/repository/index", json={"ready": True}).get_json()
    assert [row["name"] for row in ready_only] == ["ten"]
    gone = client.post("/invocations/one", json={"inputs": ROWS})
    assert (gone.status_code, gone.get_json()["error_code"]) == (503, "MODEL_NOT_READY")
    assert client.get("/health").status_code == 200  # the unloaded model is not waited for

    loaded = client.post("/v2/repository/models/one/load", headers=auth)
    assert loaded.get_json() == {"name": "one", "version": "local", "state": "READY"}
    back = client.post("/invocations/one", json={"inputs": ROWS})
    assert predictions(back) == pytest.approx(expected(ROWS))

    unknown = client.post("/v2/repository/models/nope/load", headers=auth)
    assert unknown.status_code == 404
    local = {"parameters": {"uri": str(tenfold_dir)}}
    refused = client.post("/v2/repository/models/new/load", json=local, headers=auth)
    assert refused.status_code == 400
    assert "models:/ or runs:/" in refused.get_json()["message"]
    bad_name = {"parameters": {"uri": "models:/x/1"}}
    response = client.post("/v2/repository/models/a%20b/load", json=bad_name, headers=auth)
    assert response.status_code == 400


def test_a_token_read_from_a_file_with_its_newline_still_matches(
    model_dirs: dict[str, Path], tenfold_dir: Path
) -> None:
    app = two_model_app(
        model_dirs, tenfold_dir, allow_repository_changes=True, repository_token=TOKEN + "\n"
    )
    client = app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/v2/repository/models/one/unload", headers=auth).status_code == 200
    wrong = {"Authorization": "Bearer wrong"}
    assert client.post("/v2/repository/models/one/load", headers=wrong).status_code == 401


@pytest.fixture
def registered(sqlite_url: str) -> Iterator[str]:
    mlflow.set_tracking_uri(sqlite_url)
    frame = pd.DataFrame(ROWS, columns=COLUMNS)
    with mlflow.start_run():
        registry.sklearn.log_model(
            LinearRegression().fit(TRAIN, TARGET),
            name="model",
            input_example=frame,
            registered_model_name="lin",
        )
    yield sqlite_url
    reset_tracking_uri()


def test_load_adds_a_registered_model_and_a_bad_uri_changes_nothing(
    model_dirs: dict[str, Path], registered: str, tmp_path: Path
) -> None:
    config = ServingConfig(
        model_uri=str(model_dirs["signature"]),
        tracking_uri=registered,
        allow_repository_changes=True,
    )
    state_file = str(tmp_path / "models.json")
    loaded = ModelSource(config.model_uri, "").load()
    table = ModelTable.from_config(config, loaded, state_file=state_file)
    other_worker = ModelTable.from_config(config, loaded, state_file=state_file)
    client = create_app(config, table=table, start=False).test_client()

    missing = {"parameters": {"uri": "models:/nope/1"}}
    failed = client.post("/v2/repository/models/extra/load", json=missing)
    assert failed.status_code == 400
    assert "did not load" in failed.get_json()["message"]
    assert table.names() == ["model"]

    added = client.post(
        "/v2/repository/models/extra/load", json={"parameters": {"uri": "models:/lin/1"}}
    )
    assert added.get_json() == {"name": "extra", "version": "1", "state": "READY"}
    # Several models now: /invocations needs a name.
    assert client.post("/invocations", json={"inputs": ROWS}).status_code == 400
    response = client.post("/invocations/extra", json={"inputs": ROWS})
    assert predictions(response) == pytest.approx(expected(ROWS))
    assert response.headers["X-Model-Version"] == "1"

    # Another worker applies the shared state when it reads it (the wake-up or its poll).
    assert other_worker.names() == ["model"]
    other_worker.sync()
    assert other_worker.names() == ["model", "extra"]
    extra = other_worker.get("extra")
    assert extra is not None and extra.uri == "models:/lin/1"
    extra.watcher.check()  # its watcher thread loads it in the background
    assert other_worker.model("extra").version == "1"
    assert client.post("/v2/repository/models/model/unload").status_code == 200
    other_worker.sync()
    with pytest.raises(ModelNotReady):
        other_worker.model("model")
    # The other worker's own change starts from the newest state.
    other_worker.load("model")
    assert other_worker.model("model").version == "local"
    table.sync()
    back = table.get("model")
    assert back is not None and back.wanted
    back.watcher.check()  # loads in the background too, as in every other worker
    assert table.model("model").version == "local"


def test_per_model_metrics_and_the_in_flight_gauge(client: FlaskClient) -> None:
    def sample(text: str, name: str) -> float:
        match = re.search(rf"^{re.escape(name)} ([\d.e+-]+)$", text, re.M)
        return float(match.group(1)) if match else 0.0

    rows_one = 'modelyard_serving_rows_predicted_total{model="one"}'
    rows_ten = 'modelyard_serving_rows_predicted_total{model="ten"}'
    unknown = (
        'modelyard_serving_prediction_errors_total{error_code="RESOURCE_DOES_NOT_EXIST",model=""}'
    )
    before = client.get("/metrics").get_data(as_text=True)
    client.post("/invocations/one", json={"inputs": ROWS})
    client.post("/v1/models/ten:predict", json={"instances": ROWS[:1]})
    client.post("/invocations/whoever", json={"inputs": ROWS})
    after = client.get("/metrics").get_data(as_text=True)
    assert sample(after, rows_one) - sample(before, rows_one) == 2
    assert sample(after, rows_ten) - sample(before, rows_ten) == 1
    assert sample(after, unknown) - sample(before, unknown) == 1
    assert 'model="whoever"' not in after
    assert sample(after, "modelyard_serving_in_flight_requests") == 0.0
    assert "# TYPE modelyard_serving_in_flight_requests gauge" in after
    version = re.search(
        r'^modelyard_serving_model_version_info\{.*model="ten".*\} 1\.0$', after, re.M
    )
    assert version is not None


def test_models_come_from_flags_and_a_file(tmp_path: Path) -> None:
    yaml_file = tmp_path / "models.yaml"
    yaml_file.write_text("a: models:/a@champion\nb: runs:/123/model\n")
    config = ServingConfig(
        model_uri="models:/lin/Production",
        models="c=models:/c/1, d=models:/d/2",
        models_file=str(yaml_file),
    )
    specs = [(s.name, s.uri) for s in model_specs(config)]
    assert specs == [
        ("", "models:/lin/Production"),
        ("c", "models:/c/1"),
        ("d", "models:/d/2"),
        ("a", "models:/a@champion"),
        ("b", "runs:/123/model"),
    ]
    json_file = tmp_path / "models.json"
    json_file.write_text('[{"name": "x", "uri": "models:/x/1"}]')
    assert [s.name for s in model_specs(ServingConfig(models_file=str(json_file)))] == ["x"]
    for bad in (
        ServingConfig(models="c"),
        ServingConfig(models="c=models:/c/1 c=models:/c/2"),
        ServingConfig(models="no/slash=models:/c/1"),
        ServingConfig(models_file=str(tmp_path / "missing.yaml")),
    ):
        with pytest.raises(ValueError):
            model_specs(bad)
    json_file.write_text('["models:/x/1"]')
    with pytest.raises(ValueError, match="map of name to URI"):
        model_specs(ServingConfig(models_file=str(json_file)))
    # The URI argument is named after its registered model, as with one model.
    table = ModelTable.from_config(
        ServingConfig(model_uri="models:/lin@champion", models="x=models:/x/1")
    )
    assert table.names() == ["lin", "x"]


def test_the_grpc_port_setting() -> None:
    assert ServingConfig().grpc_port == 8081
    assert ServingConfig.from_env({"SERVING_GRPC_PORT": "0"}).grpc_port == 0
    with pytest.raises(ValueError, match="SERVING_GRPC_PORT"):
        ServingConfig(grpc_port=70000)
