from __future__ import annotations

import json

import numpy as np
import pandas as pd
import yaml
from sklearn.linear_model import LinearRegression

from registry.models import load_predictor
from registry.models import sklearn as sk
from registry.models.input_example import load_input_example
from registry.models.mlmodel import read_mlmodel


def test_array_example_gives_inputs_bodies_and_a_tensor_signature(tmp_path):
    x = np.arange(6, dtype=np.float64).reshape(3, 2)
    sk.save_model(LinearRegression().fit(x, x.sum(axis=1)), tmp_path / "m", input_example=x[:2])
    body = json.loads((tmp_path / "m" / "input_example.json").read_text())
    assert body == {"inputs": [[0.0, 1.0], [2.0, 3.0]]}
    assert json.loads((tmp_path / "m" / "serving_input_example.json").read_text()) == body
    meta = read_mlmodel(tmp_path / "m")
    assert meta.saved_input_example_info["type"] == "ndarray"
    np.testing.assert_array_equal(
        load_input_example(tmp_path / "m", meta.saved_input_example_info), x[:2]
    )
    predictor = load_predictor(tmp_path / "m")
    assert predictor.signature.inputs.is_tensor and predictor.input_columns is None
    assert predictor.needs_dataframe is False
    np.testing.assert_allclose(predictor.predict_array(x), x.sum(axis=1))


def test_dataframe_example_round_trips(tmp_path, xy):
    x, y = xy
    sk.save_model(LinearRegression().fit(x, y), tmp_path / "m", input_example=x[:3])
    meta = read_mlmodel(tmp_path / "m")
    pd.testing.assert_frame_equal(
        load_input_example(tmp_path / "m", meta.saved_input_example_info), x[:3]
    )
    assert load_input_example(tmp_path / "m", None) is None


def test_environment_files_pin_the_flavor_packages(tmp_path, xy):
    x, y = xy
    sk.save_model(LinearRegression().fit(x, y), tmp_path / "m")
    requirements = (tmp_path / "m" / "requirements.txt").read_text().split()
    assert any(r.startswith("skops==") for r in requirements)
    env = yaml.safe_load((tmp_path / "m" / "python_env.yaml").read_text())
    assert env["dependencies"] == ["-r requirements.txt"] and env["python"].startswith("3.")
    conda = yaml.safe_load((tmp_path / "m" / "conda.yaml").read_text())
    assert conda["dependencies"][-1]["pip"] == requirements


def test_sparse_example_round_trips_and_serves_dense(tmp_path):
    from scipy import sparse

    x = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0], [4.0, 0.0, 0.0]])
    for fmt, make in (("csr", sparse.csr_matrix), ("csc", sparse.csc_matrix)):
        model = LinearRegression().fit(make(x), x.sum(axis=1))
        sk.save_model(model, tmp_path / fmt, input_example=make(x[:2]))
        meta = read_mlmodel(tmp_path / fmt)
        assert meta.saved_input_example_info["type"] == f"sparse_matrix_{fmt}"
        example = load_input_example(tmp_path / fmt, meta.saved_input_example_info)
        assert example.format == fmt
        np.testing.assert_array_equal(example.toarray(), x[:2])
        serving = json.loads((tmp_path / fmt / "serving_input_example.json").read_text())
        assert serving == {"inputs": x[:2].tolist()}
        tensor = meta.signature.inputs.specs[0]
        assert (tensor.dtype, tensor.shape) == ("float64", (-1, 3))
