"""Run by the OFFICIAL mlflow client (in its own venv) against a Modelyard server.

MLflow's own CLI (``mlflow experiments ...``, ``mlflow runs ...``), the server
version the client reads to gate span logging, and a traced program (tracing is not supported:
the program must go on). Prints one JSON document of what it saw.
"""

import json
import os
import warnings

import mlflow
from click.testing import CliRunner
from mlflow.cli import cli as mlflow_cli
from mlflow.exceptions import MlflowException
from mlflow.store.tracking.rest_store import RestStore
from mlflow.tracking import MlflowClient
from mlflow.utils.rest_utils import MlflowHostCreds

warnings.simplefilter("ignore")
out: dict = {"mlflow_version": mlflow.__version__}
client = MlflowClient()
uri = os.environ["MLFLOW_TRACKING_URI"]


def cli(*args: str) -> str:
    """``mlflow <args>`` as a user types it (click's runner, as MLflow's own CLI tests run it)."""
    result = CliRunner().invoke(mlflow_cli, list(args), catch_exceptions=True)
    if result.exit_code != 0:
        return f"FAILED {result.exit_code}: {result.output[-1500:]} {result.exception!r}"
    return result.output


# MLflow's CLI against the server
out["create"] = cli("experiments", "create", "-n", "cli-bad-name")
exp_id = client.get_experiment_by_name("cli-bad-name").experiment_id
out["rename"] = cli("experiments", "rename", "-x", exp_id, "--new-name", "cli-good-name")
out["renamed_to"] = client.get_experiment(exp_id).name
out["delete"] = cli("experiments", "delete", "-x", exp_id)
out["stage_after_delete"] = client.get_experiment(exp_id).lifecycle_stage
out["restore"] = cli("experiments", "restore", "-x", exp_id)
out["stage_after_restore"] = client.get_experiment(exp_id).lifecycle_stage
out["search"] = cli("experiments", "search", "-v", "all")
run = client.create_run(exp_id)
run_id = run.info.run_id
client.log_param(run_id, "alpha", "0.5")
out["runs_list"] = cli("runs", "list", "--experiment-id", exp_id)
out["runs_describe"] = json.loads(cli("runs", "describe", "--run-id", run_id))["data"]["params"]
out["runs_delete"] = cli("runs", "delete", "--run-id", run_id)
out["run_stage_after_delete"] = client.get_run(run_id).info.lifecycle_stage
out["runs_restore"] = cli("runs", "restore", "--run-id", run_id)
out["run_stage_after_restore"] = client.get_run(run_id).info.lifecycle_stage
out["run_id"] = run_id

# The version MLflow's client gates span logging on (RestStore.log_spans needs >= 3.4)
out["server_version"] = str(RestStore._get_server_version(MlflowHostCreds(uri)))


# Tracing is not supported: a traced program must still run to the end
@mlflow.trace
def add(a: int, b: int) -> int:
    """A traced function."""
    return a + b


mlflow.set_experiment("traced")
with mlflow.start_span(name="outer") as span:
    span.set_inputs({"x": 1})
    out["traced_result"] = add(2, 3)
mlflow.flush_trace_async_logging()
try:
    mlflow.search_traces(locations=[mlflow.get_experiment_by_name("traced").experiment_id])
    out["search_traces"] = "answered"
except MlflowException as err:
    out["search_traces"] = err.error_code
out["after_tracing"] = "still running"

print(json.dumps(out))
