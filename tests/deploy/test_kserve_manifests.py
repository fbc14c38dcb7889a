"""deploy/kserve/ stays pluggable into KServe.

Every manifest is valid for its kind, strictly: core kinds against the Kubernetes schemas
(kubernetes-validate), KServe's against the schemas of KServe's own CRDs
(``tests/deploy/kserve_crds/``). And what a user relies on holds: KServe picks our runtime for
each InferenceService; the command line it builds (KServe fills ``{{.Name}}``, Kubernetes
expands ``$(VAR)``) is one the real ``modelyard serve`` parses; the ports it declares are the
ones the server binds; the probes ask routes the server has; the token file is mounted where the
client reads it; and the autoscaler scales the right Deployment on a metric we export.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import kubernetes_validate
import pytest
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from serving.config import ServingConfig
from tests.documentation import cli_commands, documented_text, environment_names

ROOT = Path(__file__).resolve().parents[2]
KSERVE = ROOT / "deploy" / "kserve"
CRDS = Path(__file__).resolve().parent / "kserve_crds"
KSERVE_SCHEMAS = {
    ("serving.kserve.io/v1alpha1", "ClusterServingRuntime"): "clusterservingruntimes.v1alpha1.yaml",
    ("serving.kserve.io/v1beta1", "InferenceService"): "inferenceservices.v1beta1.yaml",
}
OUR_PREFIXES = ("MLFLOW_", "MODELYARD_", "SERVING_", "REGISTRY_")
TEMPLATE = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")
ENV_REFERENCE = re.compile(r"\$\((\w+)\)")

Manifest = dict[str, Any]


def _manifests() -> list[tuple[str, Manifest]]:
    found = []
    for path in sorted(KSERVE.glob("*.yaml")):
        for index, document in enumerate(yaml.safe_load_all(path.read_text())):
            if document is not None:
                found.append((f"{path.name}#{index}", document))
    return found


MANIFESTS = _manifests()


def _of_kind(kind: str) -> list[Manifest]:
    return [document for _, document in MANIFESTS if document["kind"] == kind]


def _one(kind: str) -> Manifest:
    (document,) = _of_kind(kind)
    return document


def _closed(schema: Any) -> Any:
    """``schema`` with every object that lists its properties refusing any other property.

    A structural CRD schema leaves unknown fields to the API server, which prunes them or, with
    strict field validation (kubectl's default), refuses them; JSON Schema needs it said.
    """
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _closed(value) for key, value in schema.items()}
    open_ended = "additionalProperties" in closed or closed.get(
        "x-kubernetes-preserve-unknown-fields"
    )
    if "properties" in closed and not open_ended:
        closed["additionalProperties"] = False
    return closed


def _kserve_errors(document: Manifest) -> list[str]:
    name = KSERVE_SCHEMAS[(document["apiVersion"], document["kind"])]
    schema = _closed(yaml.safe_load((CRDS / name).read_text()))
    validator = OAS30Validator(schema, format_checker=oas30_format_checker)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


@pytest.mark.parametrize(("where", "document"), MANIFESTS, ids=[w for w, _ in MANIFESTS])
def test_every_manifest_is_valid_for_its_kind_strictly(where: str, document: Manifest) -> None:
    if (document["apiVersion"], document["kind"]) in KSERVE_SCHEMAS:
        assert _kserve_errors(document) == []
    else:
        kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)


def test_the_manifests_hold_a_runtime_two_inference_services_and_an_autoscaler() -> None:
    kinds = sorted(document["kind"] for _, document in MANIFESTS)
    assert kinds.count("ClusterServingRuntime") == 1
    assert kinds.count("InferenceService") == 2
    assert {"HorizontalPodAutoscaler", "ConfigMap", "Secret", "ServiceAccount"} <= set(kinds)


def test_a_misspelt_or_mistyped_kserve_field_is_refused() -> None:
    runtime = copy.deepcopy(_one("ClusterServingRuntime"))
    runtime["spec"]["supportedModelFormat"] = runtime["spec"].pop("supportedModelFormats")
    runtime["spec"]["containers"][0]["ports"][0]["containerPort"] = "8080"
    service = copy.deepcopy(_of_kind("InferenceService")[0])
    service["spec"]["predictor"]["scaleMetric"] = "latency"
    del service["spec"]["predictor"]["model"]["modelFormat"]["name"]

    runtime_errors = "\n".join(_kserve_errors(runtime))
    service_errors = "\n".join(_kserve_errors(service))

    assert "'supportedModelFormat' was unexpected" in runtime_errors
    assert "containers/0/ports/0/containerPort: '8080' is not of type 'integer'" in runtime_errors
    assert "predictor/scaleMetric: 'latency' is not one of" in service_errors
    assert "modelFormat: 'name' is a required property" in service_errors


def _runtime_for(service: Manifest) -> Manifest:
    """The runtime KServe picks for ``service``: named, or chosen by model format and protocol."""
    runtime = _one("ClusterServingRuntime")
    model = service["spec"]["predictor"]["model"]
    wanted = model["modelFormat"]
    protocol = model.get("protocolVersion", "v1")
    assert protocol in runtime["spec"]["protocolVersions"], protocol
    if "runtime" in model:
        assert model["runtime"] == runtime["metadata"]["name"]
    supported = [
        entry
        for entry in runtime["spec"]["supportedModelFormats"]
        if entry["name"] == wanted["name"]
        and wanted.get("version", entry.get("version")) == entry.get("version")
        and (entry.get("autoSelect") or "runtime" in model)
    ]
    assert supported, f"{runtime['metadata']['name']} does not serve {wanted}"
    return runtime


def _expand(text: str, metadata: Manifest, env: dict[str, str]) -> str:
    """``text`` as the pod gets it: KServe's template from the InferenceService's metadata
    first, then the kubelet's ``$(VAR)`` from the container's environment."""

    def field(match: re.Match[str]) -> str:
        value = metadata.get(match.group(1).lower())
        assert isinstance(value, str), f"{match.group(0)} is not a metadata field"
        return value

    def variable(match: re.Match[str]) -> str:
        assert match.group(1) in env, f"{match.group(0)} is not in the container's environment"
        return env[match.group(1)]

    filled = TEMPLATE.sub(field, text)
    assert "{{" not in filled, f"a template KServe would not fill: {text}"
    return ENV_REFERENCE.sub(variable, filled)


def _pod_container(service: Manifest) -> tuple[list[str], dict[str, str]]:
    """The serving container's args and environment in ``service``'s pod.

    KServe merges the InferenceService's model container over the runtime's: environment
    variables by name (the InferenceService wins), args appended.
    """
    (container,) = _runtime_for(service)["spec"]["containers"]
    model = service["spec"]["predictor"]["model"]
    env = {item["name"]: item["value"] for item in container.get("env", [])}
    env |= {item["name"]: item["value"] for item in model.get("env", [])}
    args = [*container["args"], *model.get("args", [])]
    return [_expand(arg, service["metadata"], env) for arg in args], env


def _services() -> Iterator[Any]:
    for service in _of_kind("InferenceService"):
        yield pytest.param(service, id=service["metadata"]["name"])


def _serve_command() -> click.Command:
    return dict(cli_commands())["modelyard serve"]


@pytest.mark.parametrize("service", list(_services()))
def test_the_pod_runs_a_command_line_modelyard_serve_parses(service: Manifest) -> None:
    args, _ = _pod_container(service)
    serve = _serve_command()
    assert args[0] == "serve", "the image's entrypoint runs `modelyard ARGS`"
    accepted = {option for param in serve.params for option in param.opts}
    used = {arg.split("=", 1)[0] for arg in args[1:] if arg.startswith("-")}
    assert used <= accepted, f"`modelyard serve` has no {sorted(used - accepted)}"

    context = serve.make_context("serve", args[1:])

    (container,) = _runtime_for(service)["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert context.params["port"] == ports["http1"]
    assert context.params["grpc_port"] == ports["h2c"]
    assert context.params["host"] == "0.0.0.0"


@pytest.mark.parametrize("service", list(_services()))
def test_the_model_comes_from_the_registry_or_from_kserves_storage(service: Manifest) -> None:
    from serving.specs import ModelSpec, model_specs

    args, env = _pod_container(service)
    params = _serve_command().make_context("serve", args[1:]).params
    assert params["model_uri"] is None and params["models_file"] is None
    specs = model_specs(ServingConfig(models=",".join(params["models"])))
    name = service["metadata"]["name"]
    model = service["spec"]["predictor"]["model"]
    if "storageUri" in model:
        # KServe's storage initializer fills /mnt/models from storageUri before we start.
        assert model["storageUri"].startswith(("s3://", "pvc://"))
        assert specs == [ModelSpec(name, "/mnt/models")]
    else:
        assert specs == [ModelSpec(name, f"models:/{name}@champion")]
        assert env["MLFLOW_TRACKING_URI"].startswith("http")


def test_the_registry_token_file_is_the_mounted_secrets_token() -> None:
    (service,) = [
        s
        for s in _of_kind("InferenceService")
        if "storageUri" not in s["spec"]["predictor"]["model"]
    ]
    _, env = _pod_container(service)
    token_file = Path(env["MODELYARD_TRACKING_TOKEN_FILE"])
    predictor = service["spec"]["predictor"]
    (mount,) = [
        m for m in predictor["model"]["volumeMounts"] if token_file.parent == Path(m["mountPath"])
    ]
    (volume,) = [v for v in predictor["volumes"] if v["name"] == mount["name"]]
    (source,) = volume["projected"]["sources"]
    secrets = {s["metadata"]["name"]: s for s in _of_kind("Secret")}
    secret = secrets[source["secret"]["name"]]
    assert secret["metadata"]["namespace"] == service["metadata"]["namespace"]
    (item,) = source["secret"]["items"]
    assert item["path"] == token_file.name
    assert item["key"] in secret["stringData"]


def test_environment_variables_are_ones_we_read_or_expand_in_args() -> None:
    read = environment_names()
    text = documented_text()
    runtime = _one("ClusterServingRuntime")
    expanded = set(ENV_REFERENCE.findall(" ".join(runtime["spec"]["containers"][0]["args"])))
    containers = [runtime["spec"]["containers"][0]] + [
        service["spec"]["predictor"]["model"] for service in _of_kind("InferenceService")
    ]
    names = {item["name"] for container in containers for item in container.get("env", [])}
    ours = {name for name in names if name.startswith(OUR_PREFIXES)}
    assert ours <= read, f"set but read by no code: {sorted(ours - read)}"
    assert names - ours <= expanded, f"set but used by nothing: {sorted(names - ours - expanded)}"
    undocumented = sorted(name for name in names if f"`{name}`" not in text)
    assert not undocumented, f"variables missing from the docs: {undocumented}"


def test_the_probes_ask_routes_the_server_answers() -> None:
    from serving.app import create_app

    (container,) = _one("ClusterServingRuntime")["spec"]["containers"]
    ports = {port["containerPort"] for port in container["ports"] if port["name"] == "http1"}
    app = create_app(ServingConfig(model_uri="/mnt/models"), start=False)
    client = app.test_client()
    status = {}
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] in ports
        status[probe] = client.get(container[probe]["httpGet"]["path"]).status_code
    # Alive while the model loads (no restart loop on a big model), ready only once it is loaded.
    assert status == {"livenessProbe": 200, "readinessProbe": 503}


def test_the_autoscaler_scales_the_predictor_kserve_leaves_to_it() -> None:
    hpa = _one("HorizontalPodAutoscaler")
    external = [
        service
        for service in _of_kind("InferenceService")
        if service["metadata"]["annotations"].get("serving.kserve.io/autoscalerClass") == "external"
    ]
    (service,) = external
    predictor = service["spec"]["predictor"]
    assert service["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    assert hpa["metadata"]["namespace"] == service["metadata"]["namespace"]
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": f"{service['metadata']['name']}-predictor",
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (
        predictor["minReplicas"],
        predictor["maxReplicas"],
    )


def test_the_autoscalers_metric_is_one_we_export_and_the_adapter_publishes() -> None:
    from prometheus_client import REGISTRY

    import serving.metrics  # noqa: F401  (registers the serving collectors)

    (metric,) = _one("HorizontalPodAutoscaler")["spec"]["metrics"]
    assert metric["type"] == "Pods"
    name = metric["pods"]["metric"]["name"]
    gauges = {family.name for family in REGISTRY.collect() if family.type == "gauge"}
    assert name in gauges
    adapter = yaml.safe_load(_one("ConfigMap")["data"]["config.yaml"])
    (rule,) = [r for r in adapter["rules"] if r["name"]["as"] == name]
    assert rule["seriesQuery"].startswith(f"{name}{{")
    assert rule["resources"]["overrides"]["pod"] == {"resource": "pod"}
    runtime_annotations = _one("ClusterServingRuntime")["spec"]["annotations"]
    assert runtime_annotations["prometheus.io/scrape"] == "true"
    assert runtime_annotations["prometheus.io/path"] == "/metrics"
