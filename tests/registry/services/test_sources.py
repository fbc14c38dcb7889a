from __future__ import annotations

import pytest

from registry.config import Config
from registry.errors import InvalidParameter
from registry.services.sources import validate_source

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
