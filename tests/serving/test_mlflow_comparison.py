"""The same requests to ``modelyard serve`` and to a real ``mlflow models serve``: same answers.

Both servers load the same model directories, saved by the official mlflow 3.17.2. Each case
compares the status and, on success, the predictions. The cases where we differ on purpose are
listed in ``DIFFERENCES`` and documented in docs/serving-protocols.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.mlflow_env import MLFLOW_SERVER, mlflow_python, run_official_client
from tests.servers import Command, processes

pytestmark = [pytest.mark.e2e, pytest.mark.compat, pytest.mark.timeout(600)]

SCRIPT = Path(__file__).parent / "scripts" / "save_compared_models.py"
JSON = "application/json"
CSV = "text/csv"
ROWS = {"columns": ["a", "b", "n"], "data": [[1.0, 2.0, 3], [4.0, 5.0, 6]]}

# (id, model, body, content type); a dict body is sent as JSON.
CASES: list[tuple[str, str, Any, str]] = [
    ("split", "columns", {"dataframe_split": ROWS}, JSON),
    ("records", "columns", {"dataframe_records": [{"a": 1.0, "b": 2.0, "n": 3}]}, JSON),
    ("instances", "columns", {"instances": [{"a": 1.0, "b": 2.0, "n": 3}]}, JSON),
    ("inputs-columns", "columns", {"inputs": {"a": [1.0], "b": [2.0], "n": [3]}}, JSON),
    ("csv", "columns", b"a,b,n\n1.0,2.0,3\n4.5,5,6\n", CSV),
    ("ints-to-doubles", "columns", {"dataframe_split": {**ROWS, "data": [[1, 2, 3]]}}, JSON),
    ("double-to-long", "columns", {"dataframe_split": {**ROWS, "data": [[1.0, 2.0, 19.5]]}}, JSON),
    ("null-in-long", "columns", {"dataframe_split": {**ROWS, "data": [[1.0, 2.0, None]]}}, JSON),
    ("missing-column", "columns", {"dataframe_records": [{"a": 1.0, "b": 2.0}]}, JSON),
    ("string-in-double", "columns", {"dataframe_records": [{"a": "x", "b": 2.0, "n": 3}]}, JSON),
    ("param-int-to-double", "columns", {"dataframe_split": ROWS, "params": {"scale": 2}}, JSON),
    ("param-bad-type", "columns", {"dataframe_split": ROWS, "params": {"scale": "abc"}}, JSON),
    ("param-float-to-long", "columns", {"dataframe_split": ROWS, "params": {"k": 2.5}}, JSON),
    ("param-unknown", "columns", {"dataframe_split": ROWS, "params": {"temperature": 1}}, JSON),
    ("charset", "columns", {"dataframe_split": ROWS}, "application/json; charset=utf-8"),
    ("content-type-param", "columns", {"dataframe_split": ROWS}, "application/json; x=y"),
    ("latin-1", "columns", {"dataframe_split": ROWS}, "application/json; charset=latin-1"),
    ("text-plain", "columns", {"dataframe_split": ROWS}, "text/plain"),
    ("bad-json", "columns", b"{not json", JSON),
    ("two-formats", "columns", {"dataframe_split": ROWS, "inputs": [[1]]}, JSON),
    ("bad-index", "columns", {"dataframe_split": {**ROWS, "index": [0]}}, JSON),
    (
        "extra-column",
        "columns",
        {"dataframe_records": [{"a": 1.0, "b": 2.0, "n": 3, "z": 1}]},
        JSON,
    ),
    ("int-column-names", "tensor", {"dataframe_split": {**ROWS, "columns": [0, 1, 2]}}, JSON),
    ("tensor-inputs", "tensor", {"inputs": [[1.0, 2.0, 3.0]]}, JSON),
    ("tensor-wrong-width", "tensor", {"inputs": [[1.0, 2.0]]}, JSON),
    ("zone-as-string", "category", {"dataframe_records": [{"zone": "132", "x": 1.0}]}, JSON),
    ("zone-as-number", "category", {"dataframe_records": [{"zone": 132, "x": 1.0}]}, JSON),
    ("zone-csv", "category", b"zone,x\n132,1.0\n48,2.0\n", CSV),
    ("zone-null", "category", {"dataframe_records": [{"zone": None, "x": 1.0}]}, JSON),
    ("csv-double-to-long", "columns", b"a,b,n\n1.0,2.0,19.5\n", CSV),
    ("csv-charset", "columns", b"a,b,n\n1.0,2.0,3\n", "text/csv; charset=utf-8"),
    ("short-row", "columns", {"dataframe_split": {**ROWS, "data": [[1.0, 2.0]]}}, JSON),
    (
        "names-not-in-signature",
        "columns",
        {"dataframe_split": {**ROWS, "columns": [0, 1, 2]}},
        JSON,
    ),
    ("records-as-inputs", "columns", {"inputs": [{"a": 1.0, "b": 2.0, "n": 3}]}, JSON),
    ("list-body", "columns", [[1.0, 2.0, 3]], JSON),
]

MODELS = ("columns", "tensor", "category")

DIFFERENCES = {
    # SERVING_EXTRA_COLUMNS: a column the signature does not declare is a 400 here (a typo in a
    # column name would otherwise be ignored silently); MLflow drops it.
    "extra-column": (400, 200),
}


@pytest.fixture(scope="module")
def models_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compared models, saved by the official mlflow."""
    root = tmp_path_factory.mktemp("compared")
    python = mlflow_python(MLFLOW_SERVER)
    subprocess.run([str(python), str(SCRIPT), str(root)], check=True, capture_output=True)
    return root


@pytest.fixture(scope="module")
def servers(models_root: Path) -> Iterator[dict[str, tuple[str, str]]]:
    """For each model, the base URLs of our server and of MLflow's, serving the same directory.

    The six servers start together: each MLflow one spends seconds importing mlflow.
    """
    root = models_root
    python = mlflow_python(MLFLOW_SERVER)
    # MLflow starts ``uvicorn`` from PATH: its venv's bin directory must come first.
    path = f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {"PYTHONWARNINGS": "ignore", "PATH": path}
    commands, urls = [], []
    for model in MODELS:
        ours_port, theirs_port = free_port(), free_port()
        ours = [sys.executable, "-m", "registry.cli", "serve", str(root / model)]
        ours += ["--port", str(ours_port), "--workers", "1"]
        theirs = [str(python), "-m", "mlflow", "models", "serve", "-m", str(root / model)]
        theirs += ["--env-manager", "local", "-p", str(theirs_port), "-w", "1"]
        for side, args, port in (("ours", ours, ours_port), ("mlflow", theirs, theirs_port)):
            urls.append(f"http://127.0.0.1:{port}")
            commands.append(Command(args, f"{urls[-1]}/ping", root / f"{side}-{model}.log", env))
    with processes(commands, timeout=180):
        yield {model: (urls[2 * i], urls[2 * i + 1]) for i, model in enumerate(MODELS)}


def _post(url: str, body: Any, content_type: str) -> httpx.Response:
    data = body if isinstance(body, bytes) else httpx.Request("POST", url, json=body).content
    headers = {"Content-Type": content_type}
    return httpx.post(f"{url}/invocations", content=data, headers=headers, timeout=60)


@pytest.mark.parametrize(
    ("case", "model", "body", "content_type"), CASES, ids=[c[0] for c in CASES]
)
def test_the_same_request_gets_the_same_answer(
    servers: dict[str, tuple[str, str]], case: str, model: str, body: Any, content_type: str
) -> None:
    ours_url, theirs_url = servers[model]
    ours = _post(ours_url, body, content_type)
    theirs = _post(theirs_url, body, content_type)
    if case in DIFFERENCES:
        assert (ours.status_code, theirs.status_code) == DIFFERENCES[case]
        return
    assert ours.status_code == theirs.status_code, (ours.text, theirs.text)
    if ours.status_code == 200:
        predictions = ours.json()["predictions"]
        assert predictions == pytest.approx(theirs.json()["predictions"]), (ours.text, theirs.text)
    else:
        assert set(ours.json()) >= {"error_code", "message"}


def test_mlflows_scoring_server_client_gets_mlflows_answers(
    servers: dict[str, tuple[str, str]],
) -> None:
    python = str(mlflow_python(MLFLOW_SERVER))
    ports = [url.rsplit(":", 1)[1] for url in servers["tensor"]]
    run = subprocess.run(
        [python, str(SCRIPT.parent / "scoring_client.py"), *ports],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    answers = json.loads(run.stdout.strip().splitlines()[-1])
    ours, theirs = answers
    assert ours["dataframe"] == pytest.approx(theirs["dataframe"])
    assert ours["ndarray"] == pytest.approx(theirs["ndarray"])
    assert ours["version"] == theirs["version"]


def test_mlflows_local_predict_and_deployments_client_agree_with_us(
    servers: dict[str, tuple[str, str]], models_root: Path, tmp_path: Path
) -> None:
    """MLflow's local pyfunc predict answers each body as we do; its deployments client fails
    against a scoring server (it speaks to MLflow's AI gateway), on ours as on MLflow's."""
    script = SCRIPT.parent / "deployments_client.py"
    urls = servers["columns"]
    got = run_official_client(
        script, "", tmp_path, str(models_root), *urls, requirement=MLFLOW_SERVER
    )
    deployments = got.pop("deployments")
    assert deployments["ours"] == deployments["theirs"] == {"error": "HTTPError", "status": 404}
    assert len(got) == 6
    for case, answer in got.items():
        assert answer["local_predict"] == pytest.approx(answer["pyfunc"]), case
        ours = _post(servers[answer["model"]][0], answer["body"], JSON)
        assert ours.status_code == 200, (case, ours.text)
        assert ours.json()["predictions"] == pytest.approx(answer["local_predict"]), case
