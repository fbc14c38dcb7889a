"""MLflow's local prediction tools and its deployments client, beside a scoring server.

Usage: python deployments_client.py MODELS_DIR OURS_URL THEIRS_URL
(MODELS_DIR as save_compared_models.py writes it; the URLs serve its ``columns`` model.)
For each case: the body MLflow's ``convert_input_example_to_serving_input`` makes of the data
(params added), what ``mlflow.models.predict(..., env_manager="local")`` (the local pyfunc
backend of ``mlflow models predict``) answers for that body, and what
``mlflow.pyfunc.load_model(...).predict`` returns; then what
``mlflow.deployments.get_deploy_client(url).predict`` does against each server.
"""

import json
import sys
import tempfile
from pathlib import Path

import mlflow.deployments
import mlflow.models
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import convert_input_example_to_serving_input

root, ours, theirs = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
ROWS = [[1.0, 2.0, 3], [4.0, 5.0, 6]]
FRAME = pd.DataFrame(ROWS, columns=["a", "b", "n"])
CASES = {
    "columns-frame": ("columns", FRAME, None),
    "columns-params": ("columns", FRAME, {"scale": 2.0, "k": 4}),
    "columns-unknown-param": ("columns", FRAME, {"temperature": 1}),
    "tensor-array": ("tensor", np.array(ROWS, dtype=float), None),
    "tensor-frame": ("tensor", pd.DataFrame(np.array(ROWS, dtype=float)), None),
    "category-frame": ("category", pd.DataFrame({"zone": ["132", "48"], "x": [1.0, 2.0]}), None),
}


def serving_body(data, params):
    body = json.loads(convert_input_example_to_serving_input(data))
    return body if params is None else {**body, "params": params}


def local_predict(model, body):
    with tempfile.TemporaryDirectory() as tmp:
        given, out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        given.write_text(json.dumps(body))
        mlflow.models.predict(
            model_uri=str(root / model),
            input_path=str(given),
            content_type="json",
            env_manager="local",
            output_path=str(out),
        )
        return json.loads(out.read_text())


def flat(predictions):
    return np.asarray(predictions, dtype=float).ravel().tolist()


def deployments(url):
    client = mlflow.deployments.get_deploy_client(url)
    try:
        answer = client.predict(endpoint="model", inputs=serving_body(FRAME, None))
    except Exception as err:
        response = getattr(err, "response", None)
        return {"error": type(err).__name__, "status": getattr(response, "status_code", None)}
    return {"answer": answer}


results = {}
for case, (model, data, params) in CASES.items():
    body = serving_body(data, params)
    loaded = mlflow.pyfunc.load_model(str(root / model))
    results[case] = {
        "model": model,
        "body": body,
        "local_predict": flat(local_predict(model, body)["predictions"]),
        "pyfunc": flat(loaded.predict(data, params=params)),
    }
results["deployments"] = {"ours": deployments(ours), "theirs": deployments(theirs)}
print(json.dumps(results))
