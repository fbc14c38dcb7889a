"""Fields and helpers shared by every resource's schemas."""

from __future__ import annotations

import math
from typing import Any

from marshmallow import Schema, ValidationError, fields

_NON_FINITE_IN = {
    "nan": math.nan,
    "infinity": math.inf,
    "inf": math.inf,
    "-infinity": -math.inf,
    "-inf": -math.inf,
    "+infinity": math.inf,
}


class StrictSchema(Schema):
    """Base for request schemas: unknown fields are ignored, as MLflow's server does."""

    class Meta:
        unknown = "exclude"


class IdString(fields.Field[str]):
    """An id that MLflow sends as a string; ints are accepted and turned into strings."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError("Expected a string id.")
        return str(value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else str(value)


class Int64(fields.Field[int]):
    """An int64 that may arrive as a JSON number or a numeric string (GET query parameters)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("Expected an integer.")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ValidationError(f"Expected an integer, got {value!r}.")

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | None:
        return None if value is None else int(value)


class Double(fields.Field[float]):
    """A double that may be a number or one of "NaN", "Infinity", "-Infinity" (proto JSON)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool):
            raise ValidationError("Expected a number.")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in _NON_FINITE_IN:
                return _NON_FINITE_IN[lowered]
            try:
                return float(value)
            except ValueError:
                pass
        raise ValidationError(f"Expected a number, got {value!r}.")

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return double_to_json(value)


def double_to_json(value: float | None) -> float | str | None:
    """A float as proto JSON writes it: non-finite values become strings."""
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


class KeyValueSchema(Schema):
    """``{key, value}``: tags and params."""

    key = fields.String(required=True)
    value = fields.String(load_default="")


def key_values(rows: Any) -> list[dict[str, str]]:
    """Dump rows with ``key``/``value`` attributes as MLflow's ``[{key, value}]``."""
    return [{"key": row.key, "value": row.value} for row in rows]
