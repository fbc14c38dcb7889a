"""Model signatures: column and tensor specs, and their MLflow JSON form.

MLflow stores ``signature.inputs`` and ``signature.outputs`` in ``MLmodel`` as JSON *strings*
holding a list of specs, e.g. ``[{"type": "double", "name": "x", "required": true}]`` or
``[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 3]}}]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from registry.errors import InvalidParameter

COLUMN_TYPES = ("boolean", "integer", "long", "float", "double", "string", "binary", "datetime")
NUMERIC_TYPES = frozenset({"integer", "long", "float", "double"})


@dataclass(frozen=True)
class ColSpec:
    """One column of a tabular schema (``type`` is an MLflow type name such as ``double``)."""

    type: str
    name: str | None = None
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return MLflow's JSON form of the spec."""
        out: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out


@dataclass(frozen=True)
class TensorSpec:
    """A tensor input or output: a numpy dtype name and a shape with ``-1`` for any size."""

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return MLflow's JSON form of the spec."""
        out: dict[str, Any] = {"type": "tensor"}
        if self.name is not None:
            out["name"] = self.name
        out["tensor-spec"] = {"dtype": self.dtype, "shape": list(self.shape)}
        return out


Spec = ColSpec | TensorSpec


@dataclass(frozen=True)
class Schema:
    """An ordered list of specs: all columns or all tensors."""

    specs: tuple[Spec, ...]

    @property
    def is_tensor(self) -> bool:
        """True when the schema describes tensors rather than named columns."""
        return bool(self.specs) and isinstance(self.specs[0], TensorSpec)

    @property
    def columns(self) -> list[ColSpec]:
        """The column specs (empty for a tensor schema)."""
        return [s for s in self.specs if isinstance(s, ColSpec)]

    @property
    def names(self) -> list[str] | None:
        """Column names in order, or None when any column is unnamed."""
        names = [s.name for s in self.specs]
        if not names or any(n is None for n in names):
            return None
        return [n for n in names if n is not None]

    @property
    def all_numeric(self) -> bool:
        """True when every spec is a named numeric column (the float64 fast path applies)."""
        cols = self.columns
        return (
            len(cols) == len(self.specs)
            and self.names is not None
            and all(c.type in NUMERIC_TYPES for c in cols)
        )

    def to_json(self) -> str:
        """Return the JSON string MLflow stores in ``MLmodel``."""
        return json.dumps([s.to_dict() for s in self.specs])

    @staticmethod
    def from_json(text: str | list[Any]) -> Schema:
        """Parse MLflow's JSON string (or an already decoded list).

        Raises:
            InvalidParameter: the text is not a list of specs.
        """
        try:
            items = json.loads(text) if isinstance(text, str) else text
            return Schema(tuple(_spec_from_dict(item) for item in items))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InvalidParameter(f"invalid signature schema {text!r}: {exc}") from exc


def _spec_from_dict(item: dict[str, Any]) -> Spec:
    if item["type"] == "tensor":
        spec = item["tensor-spec"]
        return TensorSpec(
            str(spec["dtype"]), tuple(int(d) for d in spec["shape"]), item.get("name")
        )
    # Complex MLflow types (array, object, map) are kept as dicts serialised to a type string;
    # enforcement passes such columns through unchanged.
    kind = item["type"] if isinstance(item["type"], str) else json.dumps(item["type"])
    return ColSpec(kind, item.get("name"), bool(item.get("required", True)))


@dataclass(frozen=True)
class ModelSignature:
    """The inputs, outputs and params a model declares."""

    inputs: Schema | None = None
    outputs: Schema | None = None
    params: list[dict[str, Any]] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """Return the ``signature`` block of ``MLmodel`` (schemas as JSON strings)."""
        return {
            "inputs": self.inputs.to_json() if self.inputs is not None else None,
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": json.dumps(self.params) if self.params is not None else None,
        }

    @staticmethod
    def from_dict(block: dict[str, Any]) -> ModelSignature:
        """Parse the ``signature`` block of ``MLmodel``.

        Raises:
            InvalidParameter: a schema in the block is malformed.
        """
        inputs, outputs, params = block.get("inputs"), block.get("outputs"), block.get("params")
        return ModelSignature(
            inputs=Schema.from_json(inputs) if inputs else None,
            outputs=Schema.from_json(outputs) if outputs else None,
            params=json.loads(params) if isinstance(params, str) else params,
        )
