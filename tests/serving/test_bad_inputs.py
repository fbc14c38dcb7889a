"""Every bad-input case of the Serving issue, item 6, through the real app and real models."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask.testing import FlaskClient

from tests.serving.conftest import expected

GOOD = {"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1.0, 2.0, 3.0]]}}
JSON = "application/json"


def split(columns: list[str], row: list[object]) -> bytes:
    return json.dumps({"dataframe_split": {"columns": columns, "data": [row]}}).encode()


# (body, content type, status, error_code, words the message must contain)
SIGNATURE_CASES = [
    (split(["a", "b"], [1, 2]), JSON, 400, "INVALID_PARAMETER_VALUE", ["'c'", "missing"]),
    (split(["a", "b", "c", "d"], [1, 2, 3, 4]), JSON, 400, "INVALID_PARAMETER_VALUE", ["'d'"]),
    (split(["a", "b", "c"], ["x", 2, 3]), JSON, 400, "INVALID_PARAMETER_VALUE", ["'a'", "double"]),
    (
        json.dumps({"dataframe_records": [{"a": 1, "b": "y", "c": 3}]}).encode(),
        JSON,
        400,
        "INVALID_PARAMETER_VALUE",
        ["'b'", "double"],
    ),
    (b'{"inputs": [[1, 2]]}', JSON, 400, "INVALID_PARAMETER_VALUE", ["3 values", "a, b, c"]),
    (b"a,b\n1,2\n", "text/csv", 400, "INVALID_PARAMETER_VALUE", ["'c'"]),
]
PLAIN_CASES = [
    (split(["a", "b"], [1, 2]), JSON, 400, "BAD_REQUEST", ["X has 2 features", "expecting 3"]),
    (
        b'{"inputs": [[1, "x", 3]]}',
        JSON,
        400,
        "BAD_REQUEST",
        ["The model could not predict", "ValueError"],
    ),
]
ANY_MODEL_CASES = [
    (b"{not json", JSON, 400, "BAD_REQUEST", ["valid JSON"]),
    (b"", JSON, 400, "BAD_REQUEST", ["valid JSON"]),
    (b"[[1, 2, 3]]", JSON, 400, "BAD_REQUEST", ["Received a list"]),
    (b'{"columns": ["a"], "data": [[1]]}', JSON, 400, "BAD_REQUEST", ["exactly one"]),
    (b'a,b\n"1,2\n', "text/csv", 400, "BAD_REQUEST", ["CSV"]),
    (json.dumps(GOOD).encode(), "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE", ["text/plain"]),
    (json.dumps(GOOD).encode(), "", 415, "UNSUPPORTED_MEDIA_TYPE", ["content types"]),
    (b" " * 5000, JSON, 413, "PAYLOAD_TOO_LARGE", ["4096"]),
]


def check(
    client: FlaskClient, body: bytes, content_type: str, status: int, code: str, words: list[str]
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/invocations", data=body, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    payload = response.get_json()
    assert set(payload) == {"error_code", "message"}
    assert payload["error_code"] == code
    for word in words:
        assert word in payload["message"]
    assert "Traceback" not in payload["message"]
    assert response.headers["X-Model-Version"] == "local"


@pytest.mark.parametrize(("body", "content_type", "status", "code", "words"), SIGNATURE_CASES)
def test_signature_violations_name_the_column(
    signature_client: FlaskClient,
    body: bytes,
    content_type: str,
    status: int,
    code: str,
    words: list[str],
) -> None:
    check(signature_client, body, content_type, status, code, words)


@pytest.mark.parametrize(("body", "content_type", "status", "code", "words"), PLAIN_CASES)
def test_without_signature_the_models_own_message_is_a_400(
    plain_client: FlaskClient,
    body: bytes,
    content_type: str,
    status: int,
    code: str,
    words: list[str],
) -> None:
    check(plain_client, body, content_type, status, code, words)


@pytest.mark.parametrize(("body", "content_type", "status", "code", "words"), ANY_MODEL_CASES)
@pytest.mark.parametrize("which", ["signature_client", "plain_client"])
def test_malformed_requests(
    request: pytest.FixtureRequest,
    which: str,
    body: bytes,
    content_type: str,
    status: int,
    code: str,
    words: list[str],
) -> None:
    check(request.getfixturevalue(which), body, content_type, status, code, words)


def test_bad_requests_do_not_disturb_good_ones(signature_client: FlaskClient) -> None:
    bad = SIGNATURE_CASES + ANY_MODEL_CASES

    def good() -> object:
        return signature_client.post("/invocations", json=GOOD).get_json()

    def one_bad(case: tuple[bytes, str, int, str, list[str]]) -> int:
        body, content_type, *_ = case
        headers = {"Content-Type": content_type} if content_type else {}
        return signature_client.post("/invocations", data=body, headers=headers).status_code

    with ThreadPoolExecutor(4) as pool:
        goods = [pool.submit(good) for _ in range(20)]
        bads = [pool.submit(one_bad, case) for case in bad * 2]
        assert all(400 <= f.result() < 500 for f in bads)
        assert all(f.result() == {"predictions": expected([[1, 2, 3]])} for f in goods)


def test_unknown_route_and_method_get_the_error_body(signature_client: FlaskClient) -> None:
    missing = signature_client.get("/nope")
    assert missing.status_code == 404
    assert missing.get_json()["error_code"] == "ENDPOINT_NOT_FOUND"
    wrong_method = signature_client.get("/invocations")
    assert wrong_method.status_code == 405
    assert set(wrong_method.get_json()) == {"error_code", "message"}
