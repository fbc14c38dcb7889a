"""The deployment files stay honest: linted, schema-valid, and using only documented settings.

No Docker engine runs here, so the image is not built; instead the same wheel the Dockerfile
installs is built and checked.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from registry.config import Config
from tests.databases import IN_CI
from tests.documentation import documented_text

ROOT = Path(__file__).resolve().parents[2]
K8S = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
SETTING = re.compile(r"\b(REGISTRY_[A-Z0-9_]+|SERVING_[A-Z0-9_]+)\b")


def _tool(name: str) -> str:
    # The tools live beside the interpreter, which need not be on PATH (an unactivated venv).
    beside = Path(sys.executable).parent / name
    path = str(beside) if beside.exists() else shutil.which(name)
    if path is None:
        message = f"{name} is not installed (pip install -e '.[test]')"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def _documented_settings() -> set[str]:
    return set(SETTING.findall(documented_text()))


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [_tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_manifests_validate_strictly() -> None:
    result = subprocess.run(
        [_tool("kubernetes-validate"), "--strict", *map(str, K8S)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") >= 11


def test_manifests_and_compose_use_only_documented_settings() -> None:
    documented = _documented_settings()
    texts = [p.read_text() for p in (*K8S, ROOT / "deploy" / "compose.yaml")]
    used = {name for text in texts for name in SETTING.findall(text)}
    assert used, "the manifests configure nothing"
    assert used <= documented, f"undocumented settings in deploy/: {sorted(used - documented)}"


def test_every_config_field_is_documented_in_readme() -> None:
    documented = _documented_settings()
    fields = {"REGISTRY_" + f.name.upper() for f in dataclasses.fields(Config)}
    assert fields <= documented, (
        f"Config fields missing from the README and docs/: {sorted(fields - documented)}"
    )


def test_compose_has_two_registry_replicas_postgres_minio_serving_and_monitoring() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert {
        "registry-1",
        "registry-2",
        "registry",
        "postgres",
        "minio",
        "serving",
        "prometheus",
        "grafana",
        "migrate",
    } <= set(services)
    assert services["registry-1"]["command"][0] == "server"
    assert services["serving"]["command"][0] == "serve"
    assert services["migrate"]["command"] == ["db", "upgrade"]
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    targets = {
        t
        for job in prometheus["scrape_configs"]
        for c in job["static_configs"]
        for t in c["targets"]
    }
    assert {"registry-1:5000", "registry-2:5000", "serving:8080"} <= targets


def test_the_wheel_the_image_installs_builds_and_carries_its_assets(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    wheel = next(tmp_path.glob("modelyard-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "registry/server/app.py" in names
    assert "serving/__init__.py" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    templates = [n for n in names if n.startswith("registry/server/ui/templates/")]
    ui_sources = list((ROOT / "registry" / "server" / "ui" / "templates").rglob("*.html"))
    assert len(templates) == len(ui_sources)


def _exposed_metric_names() -> set[str]:
    """Every sample name our Prometheus collectors can expose (counter _total, histogram parts)."""
    from prometheus_client import REGISTRY

    import registry.server.prometheus  # noqa: F401
    import serving.metrics  # noqa: F401  (registers the serving collectors)

    names: set[str] = set()
    for family in REGISTRY.collect():
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names |= {family.name + suffix for suffix in ("_bucket", "_count", "_sum")}
        else:
            names.add(family.name)
    return names


def test_grafana_dashboard_queries_only_metrics_we_export() -> None:
    import json

    dashboard = json.loads((ROOT / "deploy" / "grafana" / "serving-dashboard.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bmodelyard_[a-z_]+", target["expr"])
    }
    assert queried, "the dashboard queries nothing"
    assert queried <= _exposed_metric_names(), sorted(queried - _exposed_metric_names())
