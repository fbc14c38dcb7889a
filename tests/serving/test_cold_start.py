"""``modelyard serve`` imports skops before its web stack for a skops model directory.

That order only makes skops' import cheaper: the types skops trusts by default, and so what a
model file may load, must come out exactly as they do in a process that imported skops last.
Each case runs in a fresh interpreter, since the order of first imports is what is tested.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TRUSTED_TYPES = """
import json
from skops.io import _trusted_types as t
names = [
    t.PRIMITIVE_TYPE_NAMES, t.CONTAINER_TYPE_NAMES, t.SKLEARN_ESTIMATOR_TYPE_NAMES,
    t.SKLEARN_INTERNAL_TYPE_NAMES, t.SCIPY_UFUNC_TYPE_NAMES, t.NUMPY_UFUNC_TYPE_NAMES,
    t.NUMPY_RANDOM_BIT_GENERATOR_TYPE_NAMES, t.NUMPY_DTYPE_TYPE_NAMES,
]
print(json.dumps({"names": names, "web_stack_first": "flask" in sys.modules}))
"""

WEB_STACK_FIRST = """
import sys
import serving.gunicorn_app, serving.app
import skops.io
"""

SERVE_ORDER = """
import sys
from serving.cli import _import_skops_first
from serving.config import ServingConfig
uri = sys.argv[1]
named = uri.startswith("m=")  # a --model NAME=URI pair rather than the URI argument
_import_skops_first(ServingConfig(models=uri) if named else ServingConfig(model_uri=uri))
assert "skops.io" in sys.modules, "skops was not imported first"
"""


def _python(script: str, *args: str) -> str:
    """What ``script`` prints, run in a fresh interpreter from the repository root."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout


def _trusted(prelude: str, uri: str) -> dict[str, object]:
    out = _python(prelude + TRUSTED_TYPES, uri)
    result: dict[str, object] = json.loads(out.splitlines()[-1])
    return result


@pytest.mark.parametrize("uri", ["{dir}", "file://{dir}", "m={dir}"])
def test_skops_trusts_the_same_types_when_serving_imports_it_first(
    model_dirs: dict[str, Path], uri: str
) -> None:
    model_dir = model_dirs["signature"]
    served = _trusted(SERVE_ORDER, uri.format(dir=model_dir))
    usual = _trusted(WEB_STACK_FIRST, str(model_dir))
    assert served["web_stack_first"] is False
    assert usual["web_stack_first"] is True
    assert served["names"] == usual["names"]
    scipy_ufuncs = served["names"][4]  # type: ignore[index]
    assert scipy_ufuncs and all(n.startswith("scipy.special.") for n in scipy_ufuncs)


def test_registry_uris_and_other_flavors_import_nothing_early(tmp_path: Path) -> None:
    script = """
import sys
from serving.cli import _import_skops_first
from serving.config import ServingConfig
xgboost_dir, broken = sys.argv[1:3]
for uri in ("models:/m/1", "runs:/a/m", "s3://b/m", xgboost_dir, xgboost_dir + "/none", broken):
    _import_skops_first(ServingConfig(model_uri=uri, models=f"x=models:/m/1,y={xgboost_dir}"))
print("skops.io" in sys.modules, "scipy" in sys.modules)
"""
    (tmp_path / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: mlflow.xgboost\n"
    )
    broken = tmp_path / "broken"  # left for the load to report
    broken.mkdir()
    (broken / "MLmodel").write_text("flavors: [1, 2]\n")
    out = _python(script, str(tmp_path), str(broken))
    assert out.split() == ["False", "False"]
