"""``json_body``: orjson's bytes only where they are ``jsonify``'s bytes."""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import random
import struct
from typing import Any

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient

from registry.server.json_body import RegistryJSONProvider, compact_json, json_response


def _stdlib(answer: Any) -> bytes:
    return json.dumps(answer, separators=(",", ":")).encode()


@dataclasses.dataclass
class _Point:
    x: int


ODD_ANSWERS = [
    {"text": "ünïcode ✓"},
    {"text": "del \x7f"},
    {"nan": math.nan},
    {"inf": [math.inf, -math.inf]},
    {"small": 1e-05},
    {"small": 1.5e-09},
    {"big": 2**64},
    {"none": None},
    {1: "int key"},
    {"when": datetime.datetime(2026, 1, 1)},
    {"point": _Point(1)},
]


@pytest.mark.parametrize("answer", ODD_ANSWERS, ids=repr)
def test_answers_orjson_writes_otherwise_are_left_to_jsonify(answer: Any) -> None:
    assert compact_json(answer) is None


def test_plain_answers_are_the_stdlib_bytes() -> None:
    rng = random.Random(16)
    doubles = [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(20000)]
    doubles += [rng.uniform(-1e6, 1e6) for _ in range(5000)] + [0.0, -0.0, 1e-4, 1e16, 1e-10]
    kept = []
    for double in doubles:
        body = compact_json([double])
        assert body is None or body == _stdlib([double])
        if body is not None:
            kept.append(double)
    assert len(kept) > 0.9 * len(doubles)
    answer = {
        "runs": [
            {"key": 'tab\t "quoted" \\ \x01 </script>', "value": d, "step": rng.getrandbits(63)}
            for d in kept
        ],
        "flags": [True, False],
        "empty": [{}, [], ""],
    }
    assert compact_json(answer) == _stdlib(answer)


def _post(client: FlaskClient, path: str, body: dict[str, Any]) -> Any:
    response = client.post(f"/api/2.0/mlflow/{path}", json=body)
    assert response.status_code == 200, response.json
    return response.json


def test_runs_search_body_is_what_jsonify_sends(sqlite_app: Flask) -> None:
    client = sqlite_app.test_client()
    experiment = _post(client, "experiments/create", {"name": "json-body"})["experiment_id"]
    plain = _post(client, "runs/create", {"experiment_id": experiment})["run"]["info"]["run_id"]
    odd = _post(client, "runs/create", {"experiment_id": experiment})["run"]["info"]["run_id"]
    batch = {"run_id": plain, "params": [{"key": "p", "value": "v"}]}
    _post(
        client, "runs/log-batch", batch | {"metrics": [{"key": "m", "value": 0.25, "timestamp": 1}]}
    )
    dataset = {"name": "d", "digest": "1", "source_type": "local", "source": "/d"}
    _post(client, "runs/log-inputs", {"run_id": plain, "datasets": [{"dataset": dataset}]})
    metrics = [
        {"key": "lr", "value": 1e-05, "timestamp": 1},
        {"key": "n", "value": "NaN", "timestamp": 1},
    ]
    _post(
        client,
        "runs/log-batch",
        {"run_id": odd, "metrics": metrics, "params": [{"key": "größe", "value": "日本"}]},
    )
    for run_ids, fast in (([plain, odd], False), ([plain], True)):
        names = ", ".join(f"'{run_id}'" for run_id in run_ids)
        search = {"experiment_ids": [experiment], "filter": f"attributes.run_id IN ({names})"}
        answer = client.post("/api/2.0/mlflow/runs/search", json=search)
        assert answer.status_code == 200, answer.json
        assert answer.json is not None
        assert len(answer.json["runs"]) == len(run_ids)
        assert (compact_json(answer.json) is not None) is fast
        with sqlite_app.test_request_context():
            expected = jsonify(answer.json)
        assert answer.data == expected.data
        assert answer.mimetype == expected.mimetype == "application/json"


def test_json_response_leaves_debug_and_sorted_apps_to_jsonify(sqlite_app: Flask) -> None:
    answer = {"b": 1, "a": [1.5, "x"]}
    sqlite_app.json.sort_keys = True  # type: ignore[attr-defined]
    with sqlite_app.test_request_context():
        assert json_response(answer).data == b'{"a":[1.5,"x"],"b":1}\n'
    sqlite_app.json.sort_keys = False  # type: ignore[attr-defined]
    sqlite_app.debug = True
    with sqlite_app.test_request_context():
        assert json_response(answer).data == jsonify(answer).data
        assert b"\n  " in json_response(answer).data
    sqlite_app.debug = False
    with sqlite_app.test_request_context():
        assert json_response(answer).data == b'{"b":1,"a":[1.5,"x"]}\n'


ODD_BODIES = [
    b'{"value": NaN, "other": [Infinity, -Infinity]}',
    b'{"big": 18446744073709551616, "small": -9223372036854775809}',
    b'{"edge": 18446744073709551615, "negative_edge": -9223372036854775808}',
    b'{"overflow": 1e400, "underflow": -1e400, "tiny": 1e-400}',
    b'{"key": 1, "key": 2}',
    b'{"lone": "\\ud800"}',
    b"\xef\xbb\xbf{}",
    '{"utf16": "\u00e9"}'.encode("utf-16"),
    b'{"digits": "1234567890123456789012345", "fraction": 0.12345678901234567890123}',
    b'  {"spaces": [1, 2.5, -0.0, -0, true, false, null]}  ',
]


def _same(left: Any, right: Any) -> bool:
    # repr tells int from float, -0.0 from 0.0, and matches NaN with NaN.
    return repr(left) == repr(right)


@pytest.mark.parametrize("body", ODD_BODIES, ids=repr)
def test_request_bodies_parse_as_the_stdlib_parses_them(sqlite_app: Flask, body: bytes) -> None:
    assert _same(sqlite_app.json.loads(body), json.loads(body))
    with sqlite_app.test_request_context(data=body, content_type="application/json"):
        from flask import request

        assert _same(request.get_json(), json.loads(body))


@pytest.mark.parametrize(
    "body", [b"", b"{", b"[1,]", b'{"a": 01}', b"\xff\xfe\x00", b'"\x01"', b"NaNx"], ids=repr
)
def test_malformed_request_bodies_are_refused_as_by_the_stdlib(
    sqlite_app: Flask, body: bytes
) -> None:
    with pytest.raises(ValueError):
        json.loads(body)
    with pytest.raises(ValueError):
        sqlite_app.json.loads(body)


def test_random_numbers_parse_as_the_stdlib_parses_them(sqlite_app: Flask) -> None:
    assert isinstance(sqlite_app.json, RegistryJSONProvider)
    rng = random.Random(3)
    doubles = [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(5000)]
    numbers: list[Any] = [d for d in doubles if math.isfinite(d)]
    numbers += [rng.getrandbits(rng.randint(1, 60)) * rng.choice((1, -1)) for _ in range(2000)]
    metrics = [
        {"key": "m", "value": n, "timestamp": 1700000000000, "step": i}
        for i, n in enumerate(numbers)
    ]
    body = json.dumps({"metrics": metrics}).encode()
    assert _same(sqlite_app.json.loads(body), json.loads(body))
    for bits in range(55, 80):  # around the 64-bit limits, where orjson would give a double
        for number in (2**bits - 1, 2**bits, -(2**bits), -(2**bits) - 1):
            one = json.dumps({"value": number}).encode()
            assert _same(sqlite_app.json.loads(one), json.loads(one))
