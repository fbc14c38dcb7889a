"""Names, keys and ids compare exactly on every engine: case, accents and trailing spaces count.

MariaDB's default collation made ``FRAUD-MODEL``, ``fraud-modél`` and ``"fraud-model "`` the same
name as ``fraud-model``; migration 4 makes MySQL/MariaDB agree with SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from tests import databases

API = "/api/2.0/mlflow"
NAME = "fraud-model"
VARIANTS = ("FRAUD-MODEL", "fraud-modél", "fraud-model ")
"""Differ from NAME only in case, an accent or a trailing space."""


def _ok(reply: Any) -> dict[str, Any]:
    assert reply.status_code == 200, reply.json
    return reply.json  # type: ignore[no-any-return]


def _model_names(client: FlaskClient, name: str) -> list[str]:
    found = _ok(client.get(f"{API}/registered-models/search", query_string={"filter": name}))
    return [model["name"] for model in found.get("registered_models", [])]


def test_registered_model_names_are_exact(client: FlaskClient) -> None:
    _ok(client.post(f"{API}/registered-models/create", json={"name": NAME}))
    for variant in VARIANTS:
        missing = client.get(f"{API}/registered-models/get", query_string={"name": variant})
        assert missing.status_code == 404, variant
        assert _model_names(client, f"name = '{variant}'") == []
    for variant in VARIANTS:
        _ok(client.post(f"{API}/registered-models/create", json={"name": variant}))
    _ok(client.delete(f"{API}/registered-models/delete", json={"name": "fraud-model "}))
    for name in (NAME, "FRAUD-MODEL", "fraud-modél"):
        got = _ok(client.get(f"{API}/registered-models/get", query_string={"name": name}))
        assert got["registered_model"]["name"] == name
        assert _model_names(client, f"name = '{name}'") == [name]
    gone = client.get(f"{API}/registered-models/get", query_string={"name": "fraud-model "})
    assert gone.status_code == 404


def test_experiment_names_are_exact(client: FlaskClient) -> None:
    experiment_id = _ok(client.post(f"{API}/experiments/create", json={"name": NAME}))[
        "experiment_id"
    ]
    for variant in VARIANTS:
        missing = client.get(
            f"{API}/experiments/get-by-name", query_string={"experiment_name": variant}
        )
        assert missing.status_code == 404, variant
        _ok(client.post(f"{API}/experiments/create", json={"name": variant}))
    by_name = _ok(
        client.get(f"{API}/experiments/get-by-name", query_string={"experiment_name": NAME})
    )
    assert by_name["experiment"]["experiment_id"] == experiment_id
    found = _ok(client.post(f"{API}/experiments/search", json={"filter": f"name = '{NAME}'"}))
    assert [e["experiment_id"] for e in found["experiments"]] == [experiment_id]


def _run(client: FlaskClient) -> str:
    reply = _ok(client.post(f"{API}/runs/create", json={"experiment_id": "0"}))
    return str(reply["run"]["info"]["run_id"])


def test_tag_and_param_keys_are_exact(client: FlaskClient) -> None:
    run_id = _run(client)
    keys = ("team", "TEAM", "téam", "team ")
    for number, key in enumerate(keys):
        tag = {"run_id": run_id, "key": key, "value": str(number)}
        _ok(client.post(f"{API}/runs/set-tag", json=tag))
        _ok(client.post(f"{API}/runs/log-parameter", json=tag))
        experiment_tag = {"experiment_id": "0", "key": key, "value": str(number)}
        _ok(client.post(f"{API}/experiments/set-experiment-tag", json=experiment_tag))
    data = _ok(client.get(f"{API}/runs/get", query_string={"run_id": run_id}))["run"]["data"]
    expected = {key: str(number) for number, key in enumerate(keys)}
    assert {t["key"]: t["value"] for t in data["tags"] if t["key"] in expected} == expected
    assert {p["key"]: p["value"] for p in data["params"]} == expected
    experiment = _ok(client.get(f"{API}/experiments/get", query_string={"experiment_id": "0"}))
    assert {t["key"]: t["value"] for t in experiment["experiment"]["tags"]} == expected
    _ok(client.post(f"{API}/runs/delete-tag", json={"run_id": run_id, "key": "team "}))
    data = _ok(client.get(f"{API}/runs/get", query_string={"run_id": run_id}))["run"]["data"]
    assert {t["key"] for t in data["tags"]} & set(keys) == {"team", "TEAM", "téam"}
    search = {"experiment_ids": ["0"], "filter": "params.TEAM = '1'"}
    assert [
        r["info"]["run_id"] for r in _ok(client.post(f"{API}/runs/search", json=search))["runs"]
    ] == [run_id]
    search["filter"] = "params.TEAM = '0'"
    assert _ok(client.post(f"{API}/runs/search", json=search)).get("runs", []) == []


def test_metric_keys_are_exact(client: FlaskClient) -> None:
    run_id = _run(client)
    for number, key in enumerate(("loss", "LOSS", "lóss", "loss ")):
        metric = {"run_id": run_id, "key": key, "value": number, "timestamp": 1, "step": 0}
        _ok(client.post(f"{API}/runs/log-metric", json=metric))
    data = _ok(client.get(f"{API}/runs/get", query_string={"run_id": run_id}))["run"]["data"]
    assert {m["key"]: m["value"] for m in data["metrics"]} == {
        "loss": 0,
        "LOSS": 1,
        "lóss": 2,
        "loss ": 3,
    }
    history = _ok(
        client.get(
            f"{API}/metrics/get-history", query_string={"run_id": run_id, "metric_key": "LOSS"}
        )
    )
    assert [point["value"] for point in history["metrics"]] == [1]


def test_migration_makes_an_existing_mysql_database_exact(tmp_path: Path) -> None:
    from registry.store import open_database
    from registry.store.migrate import LATEST_VERSION, current_version, upgrade
    from registry.store.migrations import m0001_initial as v1
    from registry.store.registered_models import create_registered_model, get_registered_model

    try:
        context = databases.throwaway_database("mysql")
        url = context.__enter__()
    except Exception as err:
        databases.unavailable("mysql", err)
    try:
        database = open_database(url)
        with database.connection_context():
            upgrade(target=3)
            # Today's create_registered_model writes tables later migrations add: the frozen row.
            v1.RegisteredModel.create(name=NAME, creation_timestamp=0, last_updated_timestamp=0)
            assert get_registered_model("FRAUD-MODEL").name == NAME  # the old, loose collation
            keys = _cascading_foreign_keys(database)
            upgrade()
            assert current_version() == LATEST_VERSION
            assert _cascading_foreign_keys(database) >= keys  # recreated after the conversion
            assert get_registered_model(NAME).name == NAME
            with pytest.raises(Exception, match="not found"):
                get_registered_model("FRAUD-MODEL")
            create_registered_model("fraud-model ")
            assert get_registered_model("fraud-model ").name == "fraud-model "
        database.close_all()  # type: ignore[attr-defined]
    finally:
        context.__exit__(None, None, None)


def test_an_interrupted_migration_keeps_every_foreign_key(tmp_path: Path) -> None:
    """MySQL's DDL commits as it goes: a conversion that dies half-way must not lose the keys."""
    import pymysql

    from registry.store import close_database, open_database, use_database
    from registry.store.migrate import current_version, upgrade

    try:
        context = databases.throwaway_database("mysql")
        url = context.__enter__()
    except Exception as err:
        databases.unavailable("mysql", err)
    try:
        database = open_database(url)
        with use_database(database), database.connection_context():
            upgrade(target=3)
            keys = _cascading_foreign_keys(database)
            parts = urlsplit(url)
            reader = pymysql.connect(
                host=parts.hostname,
                port=parts.port or 3306,
                user=parts.username or "root",
                password=parts.password or "",
                database=parts.path.lstrip("/"),
            )
            reader.begin()
            reader.cursor().execute("SELECT * FROM metrics LIMIT 1")  # holds the table's lock
            database.execute_sql("SET SESSION lock_wait_timeout = 1")
            with pytest.raises(Exception, match=r"[Ll]ock wait timeout"):
                upgrade()
            assert current_version() == 3
            reader.rollback()
            reader.close()
            database.execute_sql("SET SESSION lock_wait_timeout = DEFAULT")
            upgrade(target=4)
            assert current_version() == 4
            assert _cascading_foreign_keys(database) == keys
        close_database(database)
    finally:
        context.__exit__(None, None, None)


def _cascading_foreign_keys(database: Any) -> set[tuple[str, str]]:
    rows = database.execute_sql(
        "SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS"
        " WHERE CONSTRAINT_SCHEMA = DATABASE() AND DELETE_RULE = 'CASCADE'"
    ).fetchall()
    return {(str(table), str(name)) for table, name in rows}
