import dataclasses

import pytest

from serving.config import ServingConfig
from tests.documentation import documented_text


def test_defaults() -> None:
    config = ServingConfig()
    assert (config.host, config.port, config.poll_interval) == ("127.0.0.1", 8080, 2.0)
    assert config.batch_max_latency_ms == 0


def test_environment_is_cast_and_flags_win() -> None:
    environ = {
        "SERVING_PORT": "9000",
        "SERVING_POLL_INTERVAL": "0.5",
        "SERVING_PRELOAD": "false",
        "SERVING_BATCH_MAX_LATENCY_MS": "3",
        "MLFLOW_TRACKING_URI": "http://fallback",
        "SERVING_TRACKING_URI": "http://registry:5000",
        "PROMETHEUS_MULTIPROC_DIR": "/tmp/m",
    }
    config = ServingConfig.from_env(environ, port=9100, workers=None)
    assert config.port == 9100
    assert config.workers == 2
    assert config.poll_interval == 0.5
    assert config.preload is False
    assert config.batch_max_latency_ms == 3.0
    assert config.tracking_uri == "http://registry:5000"
    assert config.prometheus_multiproc_dir == "/tmp/m"
    assert ServingConfig.from_env({"MLFLOW_TRACKING_URI": "http://x"}).tracking_uri == "http://x"


@pytest.mark.parametrize(
    ("name", "value"),
    [("SERVING_PORT", "eighty"), ("SERVING_POLL_INTERVAL", "soon"), ("SERVING_PRELOAD", "maybe")],
)
def test_a_bad_value_fails_at_startup_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        ServingConfig.from_env({name: value})


def test_every_setting_is_documented() -> None:
    text = documented_text()
    for field in dataclasses.fields(ServingConfig):
        name = (
            "PROMETHEUS_MULTIPROC_DIR"
            if field.name == "prometheus_multiproc_dir"
            else f"SERVING_{field.name.upper()}"
        )
        assert f"`{name}`" in text, f"{name} is missing from the README and docs/"
