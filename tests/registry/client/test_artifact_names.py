"""Artifact names with URL-special characters travel intact through the artifact proxy."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import pytest

from registry.client import Client
from tests.mlflow_env import run_official_client
from tests.servers import registry_server

NAMES = ["a#1.txt", "b?x=1.csv", "c%20d.txt", "e f.txt"]


@pytest.mark.parametrize("name", NAMES)
def test_an_artifact_named_with_url_characters_is_stored_and_read_back_by_that_name(
    ml: Client, tmp_path: Path, name: str
) -> None:
    run_id = ml.create_run(ml.create_experiment("names")).info.run_id
    src = tmp_path / "src" / name
    src.parent.mkdir()
    src.write_bytes(f"bytes of {name}".encode())

    ml.log_artifact(run_id, src, artifact_path="dir")
    listed = [info.path for info in ml.list_artifacts(run_id, "dir")]
    got = Path(ml.download_artifacts(run_id, f"dir/{name}", str(tmp_path / "dst")))

    assert listed == [f"dir/{name}"]
    assert got.name == name and got.read_bytes() == src.read_bytes()


OFFICIAL = textwrap.dedent(
    """
    import json, sys
    import mlflow

    listed = mlflow.MlflowClient().list_artifacts(sys.argv[1], "dir")
    print(json.dumps({"listed": sorted(f.path for f in listed)}))
    """
)
"""The official client lists a run's files (it does not quote ``#`` or ``?`` in the paths it
uploads or downloads itself, so the names are written by ours)."""
OFFICIAL_NAMES = [name for name in NAMES if "%" not in name and "#" not in name]
"""The official client refuses to list a name with ``#`` or ``%`` in it ("Invalid path")."""


def _port_in_range() -> int:
    for port in range(31000, 32000):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 31000-31999")


@pytest.mark.e2e
@pytest.mark.compat
def test_the_official_client_lists_such_names_as_our_client_logged_them(tmp_path: Path) -> None:
    script = tmp_path / "official.py"
    script.write_text(OFFICIAL)
    src = tmp_path / "src"
    src.mkdir()
    for name in OFFICIAL_NAMES:
        (src / name).write_text(name)
    with registry_server(tmp_path, workers=1, port=_port_in_range()) as base:
        ours = Client(base, async_logging=False)
        run_id = ours.create_run(ours.create_experiment("names")).info.run_id
        ours.log_artifacts(run_id, src, artifact_path="dir")
        seen = run_official_client(script, base, tmp_path, run_id)

    assert seen["listed"] == sorted(f"dir/{name}" for name in OFFICIAL_NAMES)
