from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.artifacts import ArtifactStore
from registry.artifacts.local import LocalArtifactStore
from registry.artifacts.s3 import MIB, S3ArtifactStore
from tests.registry.artifacts.moto_s3 import moto_s3, new_bucket

PART_SIZE = 5 * MIB  # S3's smallest multipart part, so multipart tests stay small


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture
def s3_store(s3_endpoint: str) -> S3ArtifactStore:
    bucket = new_bucket(s3_endpoint)
    # A tiny page size makes every listing and delete exercise pagination.
    return S3ArtifactStore(
        f"s3://{bucket}/some/prefix", endpoint_url=s3_endpoint, part_size=PART_SIZE, page_size=2
    )


@pytest.fixture
def local_store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "root")


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> ArtifactStore:
    fixture = "local_store" if request.param == "local" else "s3_store"
    result: ArtifactStore = request.getfixturevalue(fixture)
    return result
