from __future__ import annotations

import pytest

from registry.config import Config
from registry.errors import InvalidParameter
from registry.services.sources import artifact_path_of, validate_source
from registry.store.validation import path_under_artifact_root, validate_artifact_location

LOCAL = Config(artifact_root="/srv/artifacts")
S3 = Config(artifact_root="s3://bucket/prefix")


@pytest.mark.parametrize(
    ("source", "config"),
    [
        ("runs:/abc/model", LOCAL),
        ("models:/m-0123/", LOCAL),
        ("models:/name/3", LOCAL),
        ("mlflow-artifacts:/1/models/m-1/artifacts", LOCAL),
        ("/srv/artifacts/1/model", LOCAL),
        ("file:///srv/artifacts/1/model", LOCAL),
        ("file://localhost/srv/artifacts/1/model", LOCAL),
        ("s3://bucket/prefix/1/model", S3),
    ],
)
def test_sources_the_server_controls_pass(source, config):
    validate_source(source, None, config)


@pytest.mark.parametrize(
    ("source", "config"),
    [
        ("/srv/artifacts", LOCAL),
        ("/srv/artifacts-other/x", LOCAL),
        ("/srv/artifacts/../etc", LOCAL),
        ("/srv/artifacts/%2e%2e/etc", LOCAL),
        ("file:///srv/artifacts/%252E%252E/etc", LOCAL),
        ("file:///srv/artifacts/a\\..\\..\\etc", LOCAL),
        ("/srv/artifacts/x%00y", LOCAL),
        ("s3://bucket/prefix-other/x", S3),
        ("s3://bucket/prefix/../other", S3),
        ("/srv/artifacts/1", S3),
        ("hdfs://cluster/model", LOCAL),
        ("runs:/", LOCAL),
        ("runs:/ab'c/model", LOCAL),
    ],
)
def test_sources_outside_the_server_are_rejected(source, config):
    with pytest.raises(InvalidParameter):
        validate_source(source, None, config)


@pytest.mark.parametrize(
    ("uri", "config", "expected"),
    [
        ("mlflow-artifacts:/1/%30abc/artifacts", LOCAL, "1/0abc/artifacts"),
        ("mlflow-artifacts:/", LOCAL, ""),
        ("file:///srv/artifacts/1/run/artifacts/model", LOCAL, "1/run/artifacts/model"),
        ("FILE:///srv/artifacts/1/model", LOCAL, "1/model"),
        ("/srv/artifacts/1/./model/", LOCAL, "1/model"),
        ("s3://bucket/prefix/1/model", S3, "1/model"),
        ("/srv/artifacts", LOCAL, None),
        ("s3://bucket/prefix/", S3, None),
        ("/srv/artifacts-other/1", LOCAL, None),
        ("runs:/abc/model", LOCAL, None),
        ("file://host/srv/artifacts/1", LOCAL, None),
    ],
)
def test_artifact_uris_resolve_to_one_store_path_as_registration_and_gc_read_them(
    uri, config, expected
):
    assert artifact_path_of(uri, config) == expected


def test_artifact_locations_and_sources_share_one_containment_rule():
    for location in ("/srv/artifacts/1", "file:///srv/artifacts/1", "FILE:///srv/artifacts/1"):
        assert path_under_artifact_root(location, LOCAL) == "1"
        validate_source(location, None, LOCAL)
        validate_artifact_location(location, LOCAL)
    for location in ("/srv/artifacts", "/srv/artifactsX/1"):
        assert path_under_artifact_root(location, LOCAL) is None
        with pytest.raises(InvalidParameter):
            validate_source(location, None, LOCAL)
        with pytest.raises(InvalidParameter):
            validate_artifact_location(location, LOCAL)
