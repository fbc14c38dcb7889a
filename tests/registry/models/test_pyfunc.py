from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from registry.errors import InvalidParameter
from registry.models import load_predictor, pyfunc
from registry.models.mlmodel import read_mlmodel
from registry.models.schema import ColSpec, ModelSignature, Schema


class Scaled(pyfunc.PythonModel):
    def load_context(self, context):
        self.factor = json.loads(Path(context.artifacts["config"]).read_text())["factor"]
        self.paths = dict(context.artifacts)

    def predict(self, context, model_input, params=None):
        offset = (params or {}).get("offset", 0)
        return model_input["x"].to_numpy() * self.factor + offset


def test_custom_model_with_artifact_and_params(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"factor": 3}))
    example = pd.DataFrame({"x": [1.0, 2.0]})
    pyfunc.save_model(
        tmp_path / "m", python_model=Scaled(), artifacts={"config": config}, input_example=example
    )
    config.unlink()
    predictor = load_predictor(tmp_path / "m")
    np.testing.assert_array_equal(predictor.predict({"x": [1, 2]}), [3.0, 6.0])
    np.testing.assert_array_equal(predictor.predict([{"x": 1}], params={"offset": 1}), [4.0])
    artifact = Path(predictor.model.paths["config"])
    assert artifact.is_absolute() and artifact.is_relative_to((tmp_path / "m").resolve())
    with pytest.raises(InvalidParameter, match="column 'x': expected double, got 'a'"):
        predictor.predict({"x": ["a"]})
    conf = read_mlmodel(tmp_path / "m").flavors["python_function"]
    assert conf["loader_module"] == "modelyard_pyfunc_loader" and conf["code"] == "code"
    assert (tmp_path / "m" / "code" / "modelyard_pyfunc_loader.py").is_file()


def test_code_paths_are_importable_at_load(tmp_path, monkeypatch):
    source = tmp_path / "src"
    source.mkdir()
    (source / "yard_helper_mod.py").write_text("def double(v):\n    return v * 2\n")
    monkeypatch.syspath_prepend(str(source))
    import yard_helper_mod

    class UsesHelper(pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return yard_helper_mod.double(np.asarray(model_input, dtype=float))

    pyfunc.save_model(
        tmp_path / "m", python_model=UsesHelper(), code_paths=[source / "yard_helper_mod.py"]
    )
    monkeypatch.delitem(sys.modules, "yard_helper_mod")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(source)])
    predictor = load_predictor(tmp_path / "m")
    np.testing.assert_array_equal(predictor.predict([[1.0, 2.0]]), [[2.0, 4.0]])


def test_not_a_python_model_writes_nothing(tmp_path):
    with pytest.raises(InvalidParameter, match=r"expected an instance of .*PythonModel"):
        pyfunc.save_model(tmp_path / "m", python_model=lambda x: x)
    assert list(tmp_path.iterdir()) == []


def test_missing_artifact_or_bad_name_writes_nothing(tmp_path):
    with pytest.raises(InvalidParameter, match="does not exist"):
        pyfunc.save_model(tmp_path / "m", Scaled(), artifacts={"config": tmp_path / "nope"})
    with pytest.raises(InvalidParameter, match="must be a plain name"):
        pyfunc.save_model(tmp_path / "m", Scaled(), artifacts={"../x": tmp_path})
    assert list(tmp_path.iterdir()) == []


def test_tampered_pickle_is_refused(tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{"factor": 1}')
    pyfunc.save_model(tmp_path / "m", Scaled(), artifacts={"config": config})
    (tmp_path / "m" / "python_model.pkl").write_bytes(b"evil")
    with pytest.raises(InvalidParameter, match=r"python_model\.pkl was modified"):
        load_predictor(tmp_path / "m")


class EchoParams(pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [dict(params or {})] * len(model_input)


def test_signature_params_get_defaults_and_unknown_ones_are_dropped(tmp_path):
    sig = ModelSignature(
        Schema((ColSpec("double", "x"),)),
        params=[{"name": "k", "type": "long", "default": 3, "shape": None}],
    )
    pyfunc.save_model(tmp_path / "m", python_model=EchoParams(), signature=sig)
    predictor = load_predictor(tmp_path / "m")
    assert predictor.predict([1.0]) == [{"k": 3}]
    assert predictor.predict({"x": [1.0]}, params={"k": 5, "other": 1}) == [{"k": 5}]
