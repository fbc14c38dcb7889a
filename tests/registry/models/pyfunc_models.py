"""Custom models the interop tests pickle by reference, so MLflow's venv can import them."""

from __future__ import annotations

from pathlib import Path

from registry.models.pyfunc import PythonModel


class AddBase(PythonModel):
    def __init__(self, factor: float) -> None:
        self.factor = factor
        self.base = 0.0

    def load_context(self, context):
        self.base = float(Path(context.artifacts["base"]).read_text())

    def predict(self, context, model_input, params=None):
        return model_input["x"].to_numpy() * self.factor + self.base


class Describe(PythonModel):
    """Predicts what it was given: the input's type name and its values."""

    def predict(self, context, model_input, params=None):
        from tests.registry.models.input_cases import plain

        return [type(model_input).__name__, plain(model_input)]
