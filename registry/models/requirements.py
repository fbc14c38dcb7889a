"""Environment files of a model: ``requirements.txt``, ``python_env.yaml``, ``conda.yaml``."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

import yaml

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_FILE = "conda.yaml"
BUILD_PACKAGES = ("pip", "setuptools", "wheel")


def pinned(distribution: str) -> str:
    """``name==version`` of an installed distribution, or the bare name when it is absent."""
    try:
        return f"{distribution}=={metadata.version(distribution)}"
    except metadata.PackageNotFoundError:
        return distribution


def write_environment(model_dir: Path, distributions: list[str]) -> None:
    """Write the three environment files, pinning ``distributions`` to their installed versions."""
    requirements = [pinned(d) for d in distributions]
    python = platform.python_version()
    (model_dir / REQUIREMENTS_FILE).write_text("\n".join(requirements) + "\n", encoding="utf-8")
    python_env = {
        "python": python,
        "build_dependencies": [pinned(d) for d in BUILD_PACKAGES],
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={python}",
            pinned("pip").replace("==", "<="),
            {"pip": requirements},
        ],
        "name": "mlflow-env",
    }
    for name, doc in ((PYTHON_ENV_FILE, python_env), (CONDA_FILE, conda)):
        text = yaml.safe_dump(doc, default_flow_style=False, sort_keys=False)
        (model_dir / name).write_text(text, encoding="utf-8")
