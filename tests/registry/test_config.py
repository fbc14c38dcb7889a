"""Both servers' settings come from one reader: typed, checked at startup, every bad one named."""

from __future__ import annotations

import pytest

from registry.config import Config
from serving.config import ServingConfig


def test_values_are_cast_by_the_field_type_and_flags_win() -> None:
    environ = {
        "REGISTRY_PORT": "5050",
        "REGISTRY_AUTH": " yes ",
        "REGISTRY_SERVE_UI": "",
        "REGISTRY_SECRET_KEY": " kept as given ",
        "UNRELATED": "x",
    }
    config = Config.from_env(environ, workers=7, host=None)
    assert (config.port, config.auth, config.serve_ui) == (5050, True, False)
    assert config.secret_key == " kept as given "
    assert (config.workers, config.host) == (7, "127.0.0.1")


def test_every_bad_variable_is_named_at_once() -> None:
    environ = {"REGISTRY_PORT": "eighty", "REGISTRY_AUTH": "maybe", "REGISTRY_WORKERS": "2"}
    with pytest.raises(ValueError, match="REGISTRY_PORT='eighty'") as refused:
        Config.from_env(environ)
    assert "REGISTRY_AUTH='maybe'" in str(refused.value)
    assert "REGISTRY_WORKERS" not in str(refused.value)


def test_serving_reads_through_the_same_reader() -> None:
    with pytest.raises(ValueError, match="SERVING_POLL_INTERVAL='nan'"):
        ServingConfig.from_env({"SERVING_POLL_INTERVAL": "nan"})
    config = ServingConfig.from_env({"SERVING_TRACKING_URI": "", "MLFLOW_TRACKING_URI": "http://x"})
    assert config.tracking_uri == ""  # the prefixed variable, set even if empty, wins
