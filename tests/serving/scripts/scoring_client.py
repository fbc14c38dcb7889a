"""Call a scoring server with MLflow's own ScoringServerClient; print what each call returned.

Usage: python scoring_client.py PORT [PORT ...]   (the "tensor" model of save_compared_models.py)
Prints a JSON list: one result per port, in order (one mlflow import for all of them).
"""

import json
import sys

import numpy as np
import pandas as pd
from mlflow.pyfunc.scoring_server.client import ScoringServerClient


def call(port: int) -> dict:
    client = ScoringServerClient("127.0.0.1", port)
    client.wait_server_ready(timeout=30)
    rows = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    return {
        "dataframe": client.invoke(pd.DataFrame(rows))
        .get_predictions()
        .to_numpy()
        .ravel()
        .tolist(),
        "ndarray": client.invoke(rows).get_predictions().to_numpy().ravel().tolist(),
        "version": client.get_version(),
    }


print(json.dumps([call(int(port)) for port in sys.argv[1:]]))
