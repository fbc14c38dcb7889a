"""What only S3 can get wrong: abandoned multipart uploads, error translation, prefixes."""

import io

import boto3
import pytest

from registry.artifacts.s3 import S3ArtifactStore, parse_s3_uri
from registry.errors import ArtifactNotFound, RegistryError
from tests.registry.artifacts.conftest import PART_SIZE
from tests.registry.artifacts.test_contract import BrokenStream


def test_a_failed_multipart_upload_is_aborted(s3_store: S3ArtifactStore, s3_endpoint: str) -> None:
    with pytest.raises(OSError):
        s3_store.put("big.bin", BrokenStream(2 * PART_SIZE + 1))  # type: ignore[arg-type]
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    assert client.list_multipart_uploads(Bucket=s3_store.bucket).get("Uploads", []) == []
    assert client.list_objects_v2(Bucket=s3_store.bucket).get("KeyCount") == 0


def test_objects_live_under_the_configured_prefix(
    s3_store: S3ArtifactStore, s3_endpoint: str
) -> None:
    s3_store.put("1/run/artifacts/f.txt", io.BytesIO(b"x"))
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=s3_store.bucket)["Contents"]]
    assert keys == ["some/prefix/1/run/artifacts/f.txt"]


def test_a_missing_bucket_is_a_server_error_not_a_missing_artifact(s3_endpoint: str) -> None:
    store = S3ArtifactStore(
        "s3://no-such-bucket-here", endpoint_url=s3_endpoint, part_size=PART_SIZE
    )
    for action in (
        lambda: store.open("f"),
        lambda: store.put("f", io.BytesIO(b"x")),
        lambda: store.put("big", io.BytesIO(b"x" * (PART_SIZE + 1))),
        lambda: store.list("d"),
        lambda: store.delete("d"),
    ):
        with pytest.raises(RegistryError, match="NoSuchBucket") as caught:
            action()
        assert not isinstance(caught.value, ArtifactNotFound)
        assert caught.value.http_status == 500


@pytest.mark.parametrize(
    ("uri", "expected"),
    [("s3://b", ("b", "")), ("s3://b/", ("b", "")), ("s3://b/p/q/", ("b", "p/q"))],
)
def test_s3_uris_split_into_bucket_and_prefix(uri: str, expected: tuple[str, str]) -> None:
    assert parse_s3_uri(uri) == expected


@pytest.mark.parametrize("uri", ["s3://", "s3:///p", "file:///tmp", "bucket/p"])
def test_bad_s3_uris_are_refused(uri: str) -> None:
    with pytest.raises(ValueError, match=r"s3://|bucket"):
        parse_s3_uri(uri)
