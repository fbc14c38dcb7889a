"""What only a local directory can get wrong: symlinks, temp files, files used as folders."""

import io
import os
from pathlib import Path

import pytest

from registry.artifacts import FileInfo
from registry.artifacts.local import TEMP_PREFIX, LocalArtifactStore
from registry.errors import InvalidParameter
from tests.registry.artifacts.test_contract import BrokenStream


def test_symlinks_out_of_the_root_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"s3cr3t")
    store = LocalArtifactStore(tmp_path / "root")
    (store.root / "link").symlink_to(outside)
    (store.root / "file-link").symlink_to(outside / "secret")
    for path in ("link/secret", "file-link"):
        with pytest.raises(InvalidParameter, match="outside the root"):
            store.open(path)
    with pytest.raises(InvalidParameter):
        store.put("link/new", io.BytesIO(b"x"))
    with pytest.raises(InvalidParameter):
        store.list("link")
    with pytest.raises(InvalidParameter):
        store.delete("link")
    assert store.list("") == []
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]


def test_symlinks_inside_the_root_work(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    store.put("real/f.txt", io.BytesIO(b"hi"))
    (store.root / "alias").symlink_to(store.root / "real")
    with store.open("alias/f.txt") as stream:
        assert stream.read() == b"hi"


def test_a_failed_upload_leaves_no_temp_file(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    with pytest.raises(OSError):
        store.put("d/f.bin", BrokenStream(100))  # type: ignore[arg-type]
    assert os.listdir(store.root / "d") == []


def test_listings_hide_uploads_in_progress_and_their_names_are_reserved(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    store.put("d/done.txt", io.BytesIO(b"x"))
    (store.root / "d" / f"{TEMP_PREFIX}abc").write_bytes(b"partial")
    assert store.list("d") == [FileInfo("done.txt", False, 1)]
    with pytest.raises(InvalidParameter, match="reserved"):
        store.open(f"d/{TEMP_PREFIX}abc")


def test_a_file_cannot_become_a_directory_or_the_reverse(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    store.put("a/file", io.BytesIO(b"x"))
    with pytest.raises(InvalidParameter, match="parent is an existing file"):
        store.put("a/file/below", io.BytesIO(b"y"))
    with pytest.raises(InvalidParameter, match="is a directory"):
        store.put("a", io.BytesIO(b"y"))
    assert store.list("a") == [FileInfo("file", False, 1)]
