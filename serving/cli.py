"""``modelyard serve URI``: a prediction server for one model, or several, under gunicorn.

The ``modelyard`` command finds this through the ``modelyard.commands`` entry point group
(pyproject.toml), so the registry's CLI never imports serving.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
import shutil
import sys
import tempfile
from typing import Any

import click

from serving.config import ServingConfig

GRPC_PORT_VARIABLE = "SERVING_GRPC_PORT"


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
@click.option(
    "--model",
    "models",
    multiple=True,
    metavar="NAME=URI",
    help="Also serve URI as NAME (repeatable; or SERVING_MODELS).",
)
@click.option(
    "--models-file",
    default=None,
    help="YAML or JSON file of models to serve: a map of name to URI.",
)
@click.option(
    "--allow-repository-changes/--no-allow-repository-changes",
    default=None,
    help="Accept POST /v2/repository/models/{name}/load and /unload (off by default).",
)
@click.option(
    "--grpc-port",
    type=click.IntRange(min=0, max=65535),
    default=None,
    help="Port of the gRPC inference server (8081; 0 = no gRPC).",
)
@click.option("--env-manager", default=None, hidden=True)
def serve(
    model_uri: str | None, model_uri_option: str | None, models: tuple[str, ...], **flags: Any
) -> None:
    """Serve MODEL_URI: runs:/, models:/name/version|Stage, models:/name@alias, m-<id>, a dir.

    Several models: --model NAME=URI (repeatable) or --models-file, with or without MODEL_URI.
    Settings also come from SERVING_* variables (see the README's serving section).
    """
    flags.pop("env_manager")
    grpc_explicit = flags["grpc_port"] is not None or GRPC_PORT_VARIABLE in os.environ
    try:
        config = ServingConfig.from_env(
            model_uri=model_uri or model_uri_option, models=",".join(models) or None, **flags
        )
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    if not (config.model_uri or config.models or config.models_file):
        raise click.UsageError(
            "Missing MODEL_URI (or SERVING_MODEL_URI), --model NAME=URI or --models-file."
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The watcher polls the registry every few seconds; one log line per poll is noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    work_dir = tempfile.mkdtemp(prefix="modelyard-serve-")
    multiproc_dir = os.path.join(work_dir, "metrics")
    os.mkdir(multiproc_dir)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = multiproc_dir
    # OpenMP (xgboost, sklearn's forests) spins its idle threads by default: under load, a
    # one-row xgboost predict then burns ten times its CPU (read once, when libgomp loads).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # And each worker gets its share of the cores: with more OpenMP threads than that, the
    # workers' predicts wait on threads that the other workers keep off the CPU.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (cores or 1) // config.workers)))
    # Downloaded model versions land here too (workers inherit it), and go when we exit.
    tempfile.tempdir = work_dir
    config = dataclasses.replace(config, prometheus_multiproc_dir=multiproc_dir)
    master = os.getpid()
    try:
        _run(config, os.path.join(work_dir, "models.json"), grpc_explicit)
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


def _run(config: Any, state_file: str, grpc_explicit: bool) -> None:
    # Importing the ML libraries makes a few hundred thousand objects and hardly any garbage:
    # the collector's passes over them were a tenth of the cold start. It runs again once the
    # models are loaded (their objects frozen out of its reach), before the workers fork.
    gc.disable()
    try:
        _import_skops_first(config)
        _use_multiprocess_metrics()
        from serving.gunicorn_app import build_table, run_server
        from serving.models import ModelFailed

        config = _with_grpc_port(config, grpc_explicit)
        try:
            table = build_table(config, state_file)
        except ModelFailed as err:
            _fail(err.uri, err.message)
        except ValueError as err:
            raise click.UsageError(str(err)) from None
    finally:
        gc.enable()
    url = f"http://{config.host}:{config.port}"
    if config.grpc_port:
        url += f" (gRPC on {config.host}:{config.grpc_port})"
    for served in table.served():
        current = served.slot.current
        version = f" version {current.version}" if current else ""
        click.echo(f"Modelyard serving {served.uri}{version} as {served.name} on {url}")
    if config.allow_repository_changes and not config.repository_token:
        click.echo(
            "Warning: --allow-repository-changes without SERVING_REPOSITORY_TOKEN: anyone who"
            " can reach the port may load and unload models.",
            err=True,
        )
    run_server(config, table)


def _import_skops_first(config: ServingConfig) -> None:
    """Import scipy.special and skops before the web stack when a model directory needs skops.

    skops builds its default trusted types once, on import, looking every scipy ufunc up in
    every module loaded before scipy.special (in ``sys.modules`` order): with flask, gunicorn,
    prometheus_client and pandas already loaded, that scan was a fifth of a scikit-learn model
    server's cold start. Imported first, skops computes the same trusted types, sooner; loading
    (``registry.models.sklearn``, skops' own trust check) is unchanged. Only for a model URI that
    is a directory here (a registry URI is resolved later); anything unreadable is left for the
    load to report.
    """
    from registry.errors import RegistryError
    from registry.models.mlmodel import read_mlmodel
    from serving.specs import model_specs

    try:
        specs = model_specs(config)
    except ValueError:
        return  # the load reports it
    for spec in specs:
        uri = spec.uri.removeprefix("file://")
        if "://" in uri or uri.startswith(("models:/", "runs:/")):
            continue
        try:
            mlmodel = read_mlmodel(uri)
        except (OSError, RegistryError):
            continue
        loader = (mlmodel.python_function or {}).get("loader_module")
        sklearn_conf = mlmodel.flavors.get("sklearn") or {}
        if loader == "mlflow.sklearn" and sklearn_conf.get("serialization_format") == "skops":
            try:
                import scipy.special  # noqa: F401  (before skops: see above)
                import skops.io  # noqa: F401
            except ImportError:
                pass  # the load says which extra to install
            return


def _with_grpc_port(config: ServingConfig, explicit: bool) -> ServingConfig:
    """``config``, its gRPC port checked before forking; 0 (no gRPC) if the default is taken.

    A port given with ``--grpc-port`` or ``SERVING_GRPC_PORT`` that cannot be used is a usage
    error. The default one (8081) that cannot be used, because another server holds it or it
    is the HTTP port, only turns gRPC off, with a warning: the HTTP server still starts.
    """
    from serving.gunicorn_app import check_grpc_port

    port = config.grpc_port
    if not port:
        return config
    if port == config.port:
        if explicit:
            raise click.UsageError(
                f"the gRPC port {port} is also the HTTP port (--port): pass --grpc-port with"
                " another port, or --grpc-port 0 for no gRPC."
            )
        reason = "it is the HTTP port"
    else:
        try:
            check_grpc_port(config)
        except OSError as err:
            if explicit:
                raise click.UsageError(
                    f"cannot use gRPC port {port} ({err.strerror or err}): pass --grpc-port"
                    " with a free port, or --grpc-port 0 for no gRPC."
                ) from None
            reason = err.strerror or str(err)
        else:
            return config
    click.echo(
        f"Warning: serving without gRPC: its default port {port} cannot be used ({reason})."
        " Pass --grpc-port with a free port to serve gRPC, or --grpc-port 0 to silence this.",
        err=True,
    )
    return dataclasses.replace(config, grpc_port=0)


def _fail(uri: str, message: str) -> None:
    click.echo(f"Error: cannot serve {uri}: {message}", err=True)
    sys.exit(1)
