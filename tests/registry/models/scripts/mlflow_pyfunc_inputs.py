"""MLflow's side of the PyFuncInput comparison; run with the official client's venv.

Usage: python mlflow_pyfunc_inputs.py MODELS_DIR OUT_JSON

Every model directory under MODELS_DIR is loaded with ``mlflow.pyfunc.load_model`` and asked
to predict on each input of ``input_cases.inputs()``. OUT_JSON maps model -> input ->
``{"ok": prediction}`` or ``{"error": "<type>: <message>"}``.
"""

import json
import sys
import warnings
from pathlib import Path

import mlflow

from tests.registry.models.input_cases import inputs, plain

warnings.simplefilter("ignore")
models_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
results = {}
for model_dir in sorted(p for p in models_dir.iterdir() if p.is_dir()):
    model = mlflow.pyfunc.load_model(str(model_dir))
    results[model_dir.name] = {}
    for kind, data in inputs().items():
        try:
            results[model_dir.name][kind] = {"ok": plain(model.predict(data))}
        except Exception as err:
            results[model_dir.name][kind] = {"error": f"{type(err).__name__}: {err}"[:300]}
out.write_text(json.dumps(results, indent=1))
print(json.dumps({"models": len(results)}))
