"""The behaviour every artifact store promises, run against the local directory and S3."""

import io
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from registry.artifacts import ArtifactStore, FileInfo
from registry.artifacts.s3 import MIB
from registry.errors import ArtifactNotFound, InvalidParameter
from tests.registry.artifacts.conftest import PART_SIZE


class BrokenStream:
    """A request body whose client goes away after ``good_bytes``."""

    def __init__(self, good_bytes: int) -> None:
        self.left = good_bytes

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            raise OSError("client disconnected")
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        return b"x" * size


def read_all(store: ArtifactStore, path: str) -> bytes:
    with store.open(path) as stream:
        return stream.read()


def test_put_then_open_round_trips_bytes_and_counts_them(store: ArtifactStore) -> None:
    assert store.put("1/run/artifacts/model/MLmodel", io.BytesIO(b"flavors: {}\n")) == 12
    assert read_all(store, "1/run/artifacts/model/MLmodel") == b"flavors: {}\n"


def test_put_replaces_an_existing_file(store: ArtifactStore) -> None:
    store.put("a.txt", io.BytesIO(b"first"))
    store.put("a.txt", io.BytesIO(b"second"))
    assert read_all(store, "a.txt") == b"second"


def test_empty_files_and_unicode_names_are_stored(store: ArtifactStore) -> None:
    store.put("dir/empty.bin", io.BytesIO(b""))
    store.put("dir/résumé 2024.txt", io.BytesIO(b"ok"))
    assert read_all(store, "dir/empty.bin") == b""
    assert store.list("dir") == [
        FileInfo("empty.bin", False, 0),
        FileInfo("résumé 2024.txt", False, 2),
    ]


def test_paths_are_normalised_before_use(store: ArtifactStore) -> None:
    store.put("a//b/./c.txt", io.BytesIO(b"c"))
    assert read_all(store, "a/b/c.txt") == b"c"
    assert store.list("a/b/") == [FileInfo("c.txt", False, 1)]


def test_open_missing_or_directory_is_artifact_not_found(store: ArtifactStore) -> None:
    store.put("dir/file", io.BytesIO(b"x"))
    for path in ("nope", "dir", "dir/file/below"):
        with pytest.raises(ArtifactNotFound, match="No such artifact"):
            store.open(path)


def test_list_gives_direct_children_sorted_with_sizes_for_files_only(
    store: ArtifactStore,
) -> None:
    for path, body in [
        ("1/r/artifacts/b.txt", b"bb"),
        ("1/r/artifacts/a.bin", b"a"),
        ("1/r/artifacts/model/MLmodel", b"m"),
        ("1/r/artifacts/model/deep/x", b"x"),
        ("1/r/artifacts/z/y", b"y"),
    ]:
        store.put(path, io.BytesIO(body))
    assert store.list("1/r/artifacts") == [
        FileInfo("a.bin", False, 1),
        FileInfo("b.txt", False, 2),
        FileInfo("model", True),
        FileInfo("z", True),
    ]
    assert store.list("") == [FileInfo("1", True)]


def test_list_of_a_missing_directory_or_a_file_is_empty(store: ArtifactStore) -> None:
    store.put("dir/file.txt", io.BytesIO(b"x"))
    assert store.list("missing") == []
    assert store.list("dir/file.txt") == []
    assert store.list("di") == []


def test_delete_removes_a_file_but_not_siblings_sharing_its_prefix(store: ArtifactStore) -> None:
    store.put("d/a", io.BytesIO(b"1"))
    store.put("d/ab.txt", io.BytesIO(b"2"))
    store.delete("d/a")
    assert store.list("d") == [FileInfo("ab.txt", False, 1)]


def test_delete_removes_a_whole_tree(store: ArtifactStore) -> None:
    for i in range(5):
        store.put(f"tree/sub{i % 2}/f{i}", io.BytesIO(b"x"))
    store.put("keep/f", io.BytesIO(b"x"))
    store.delete("tree")
    assert store.list("") == [FileInfo("keep", True)]
    with pytest.raises(ArtifactNotFound):
        store.open("tree/sub0/f0")


def test_delete_of_a_missing_path_is_not_an_error(store: ArtifactStore) -> None:
    store.delete("never/was")


def test_the_root_itself_cannot_be_deleted_or_written(store: ArtifactStore) -> None:
    store.put("f", io.BytesIO(b"x"))
    for path in ("", "/", ".", "./"):
        with pytest.raises(InvalidParameter):
            store.delete(path)
        with pytest.raises(InvalidParameter):
            store.put(path, io.BytesIO(b"y"))
    assert read_all(store, "f") == b"x"


@pytest.mark.parametrize("path", ["../escape", "a/../../b", "/etc/passwd", "%2e%2e/x", "a\\b"])
def test_hostile_paths_are_refused_by_every_method_and_store_nothing(
    store: ArtifactStore, path: str
) -> None:
    with pytest.raises(InvalidParameter):
        store.put(path, io.BytesIO(b"evil"))
    with pytest.raises(InvalidParameter):
        store.open(path)
    with pytest.raises(InvalidParameter):
        store.list(path)
    with pytest.raises(InvalidParameter):
        store.delete(path)
    assert store.list("") == []


def test_a_multipart_sized_upload_streams_and_round_trips(store: ArtifactStore) -> None:
    size = 2 * PART_SIZE + 123
    payload = os.urandom(MIB) * (size // MIB) + b"t" * (size % MIB)
    assert store.put("big/blob.bin", io.BytesIO(payload)) == size
    assert store.list("big") == [FileInfo("blob.bin", False, size)]
    with store.open("big/blob.bin") as stream:
        chunks = iter(lambda: stream.read(MIB), b"")
        assert b"".join(chunks) == payload


@pytest.mark.parametrize("good_bytes", [10, 2 * PART_SIZE + 7])
def test_an_upload_whose_source_fails_stores_nothing(store: ArtifactStore, good_bytes: int) -> None:
    store.put("dir/kept.txt", io.BytesIO(b"old"))
    with pytest.raises(OSError, match="client disconnected"):
        store.put("dir/new.bin", BrokenStream(good_bytes))  # type: ignore[arg-type]
    with pytest.raises(OSError, match="client disconnected"):
        store.put("dir/kept.txt", BrokenStream(good_bytes))  # type: ignore[arg-type]
    assert store.list("dir") == [FileInfo("kept.txt", False, 3)]
    assert read_all(store, "dir/kept.txt") == b"old"


def test_concurrent_writers_of_one_path_leave_one_whole_file(store: ArtifactStore) -> None:
    bodies = [bytes([i]) * (3 * MIB) for i in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        written = list(pool.map(lambda b: store.put("race/f.bin", io.BytesIO(b)), bodies))
    assert written == [3 * MIB] * 4
    assert read_all(store, "race/f.bin") in bodies
    assert store.list("race") == [FileInfo("f.bin", False, 3 * MIB)]
