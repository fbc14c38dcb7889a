"""Save the models the comparison table serves, with the official mlflow (run in its venv).

Usage: python save_compared_models.py OUT_DIR
"""

import sys
from pathlib import Path

import mlflow.sklearn
import pandas as pd
from mlflow.models import infer_signature
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

out = Path(sys.argv[1])
# Named requirements skip MLflow's inference, a subprocess that reloads each model.
REQ = ["scikit-learn"]
train = pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [0.0, 1, 0, 1, 3], "n": [5, 1, 2, 3, 1]})
target = 2 * train["a"] + train["b"] - train["n"]
columns = LinearRegression().fit(train, target)
signature = infer_signature(train, columns.predict(train), params={"scale": 1.0, "k": 3})
mlflow.sklearn.save_model(columns, out / "columns", signature=signature, pip_requirements=REQ)

tensor = LinearRegression().fit(train.to_numpy(dtype=float), target)
mlflow.sklearn.save_model(
    tensor,
    out / "tensor",
    signature=infer_signature(train.to_numpy(dtype=float)),
    pip_requirements=REQ,
)

zones = pd.DataFrame({"zone": ["132", "7", "132", "48"], "x": [1.0, 2.0, 3.0, 4.0]})
encode = ColumnTransformer(
    [("zone", OneHotEncoder(handle_unknown="ignore"), ["zone"])], remainder="passthrough"
)
category = make_pipeline(encode, LinearRegression()).fit(zones, [1.0, 2.0, 1.5, 3.0])
mlflow.sklearn.save_model(
    category, out / "category", signature=infer_signature(zones), pip_requirements=REQ
)
print("{}")
