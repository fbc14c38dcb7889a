"""A full artifact disk: the upload is a 507 INSUFFICIENT_STORAGE and leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from flask.testing import FlaskClient

from registry.artifacts.local import LocalArtifactStore
from registry.artifacts.s3 import S3ArtifactStore
from registry.errors import InsufficientStorage

DISK_BYTES = 1024 * 1024
UPLOAD = "/api/2.0/mlflow-artifacts/artifacts/0/run/artifacts/"


@pytest.fixture
def artifact_root(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs as the artifact root (overrides the plain directory of tests/conftest)."""
    root = tmp_path / "small-disk"
    root.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must be able to mount a tmpfs: {mounted.stderr}")
        pytest.skip(f"mounting a tmpfs needs root (mount said: {mounted.stderr.strip()})")
    try:
        yield root
    finally:
        subprocess.run(["umount", str(root)], check=True)


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_upload_bigger_than_the_free_space_is_507_and_leaves_no_file(
    sqlite_client: FlaskClient, artifact_root: Path
) -> None:
    answer = sqlite_client.put(UPLOAD + "big.bin", data=b"x" * (2 * DISK_BYTES))

    assert answer.status_code == 507
    assert answer.get_json()["error_code"] == "INSUFFICIENT_STORAGE"
    assert "full" in answer.get_json()["message"]
    assert _files(artifact_root) == []


def test_uploads_work_again_once_the_failed_one_is_gone(
    sqlite_client: FlaskClient, artifact_root: Path
) -> None:
    for _ in range(3):  # each failure must free its space, or the small upload fails too
        assert (
            sqlite_client.put(UPLOAD + "big.bin", data=b"x" * (2 * DISK_BYTES)).status_code == 507
        )

    assert sqlite_client.put(UPLOAD + "small.txt", data=b"fits").status_code == 200
    assert sqlite_client.get(UPLOAD + "small.txt").data == b"fits"
    assert [p.name for p in _files(artifact_root)] == ["small.txt"]


def test_local_store_raises_insufficient_storage(artifact_root: Path) -> None:
    store = LocalArtifactStore(artifact_root)
    with open("/dev/zero", "rb") as endless, pytest.raises(InsufficientStorage):
        store.put("a/b/zeros", endless)
    assert _files(artifact_root) == []


def test_s3_store_full_answer_is_insufficient_storage(s3_store: S3ArtifactStore) -> None:
    # moto cannot fill up; MinIO answers a full drive like this, so the boto3 error is real.
    class _Full:
        def read(self, size: int = -1) -> bytes:
            raise ClientError(
                {
                    "Error": {"Code": "XMinioStorageFull", "Message": "drive full"},
                    "ResponseMetadata": {"HTTPStatusCode": 507},
                },
                "PutObject",
            )

    with pytest.raises(InsufficientStorage):
        s3_store.put("model/weights.bin", _Full())
    assert s3_store.list("model") == []
