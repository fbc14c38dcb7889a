"""``modelyard serve URI``: a prediction server for one model under gunicorn.

The ``modelyard`` command finds this through the ``modelyard.commands`` entry point group
(pyproject.toml), so the registry's CLI never imports serving.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import sys
import tempfile
from typing import Any

import click

from registry.errors import RegistryError
from serving.config import ServingConfig


@click.command("serve")
@click.argument("model_uri", required=False)
@click.option("--model-uri", "-m", "model_uri_option", default=None, hidden=True)
@click.option("--host", "-h", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", "-p", type=int, default=None, help="Port to bind (default 8080).")
@click.option(
    "--workers", "-w", type=click.IntRange(min=1), default=None, help="Worker processes (2)."
)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Threads per worker.")
@click.option(
    "--tracking-uri",
    default=None,
    help="Registry to resolve runs:/ and models:/ URIs (or MLFLOW_TRACKING_URI).",
)
@click.option("--env-manager", default=None, hidden=True)
def serve(model_uri: str | None, model_uri_option: str | None, **flags: Any) -> None:
    """Serve MODEL_URI: runs:/, models:/name/version|Stage, models:/name@alias, m-<id>, a dir.

    Settings also come from SERVING_* variables (see the README's serving section).
    """
    flags.pop("env_manager")
    try:
        config = ServingConfig.from_env(model_uri=model_uri or model_uri_option, **flags)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    if not config.model_uri:
        raise click.UsageError("Missing MODEL_URI (or SERVING_MODEL_URI).")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The watcher polls the registry every few seconds; one log line per poll is noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    work_dir = tempfile.mkdtemp(prefix="modelyard-serve-")
    multiproc_dir = os.path.join(work_dir, "metrics")
    os.mkdir(multiproc_dir)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiproc_dir
    _use_multiprocess_metrics()
    # Downloaded model versions land here too (workers inherit it), and go when we exit.
    tempfile.tempdir = work_dir
    config = dataclasses.replace(config, prometheus_multiproc_dir=multiproc_dir)
    master = os.getpid()
    try:
        _run(config)
    finally:
        # A gunicorn worker leaves through this frame too (SystemExit): only the master, once
        # its workers are gone, may remove what they write to.
        if os.getpid() == master:
            shutil.rmtree(work_dir, ignore_errors=True)


def _use_multiprocess_metrics() -> None:
    # prometheus_client picks its value class when first imported; another command module may
    # have imported it before the variable was set, so pick again before any metric exists.
    from prometheus_client import values

    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def _run(config: Any) -> None:
    from serving.gunicorn_app import preload, run_server
    from serving.loader import ModelSource

    try:
        model = preload(config) if config.preload else None
        if model is None:
            ModelSource(config.model_uri, config.tracking_uri).resolve()
    except RegistryError as err:
        _fail(config.model_uri, err.message)
    except Exception as err:
        _fail(config.model_uri, f"{type(err).__name__}: {err}")
    version = f" version {model.version}" if model else ""
    click.echo(
        f"Modelyard serving {config.model_uri}{version} on http://{config.host}:{config.port}"
    )
    run_server(config, model)


def _fail(uri: str, message: str) -> None:
    click.echo(f"Error: cannot serve {uri}: {message}", err=True)
    sys.exit(1)
