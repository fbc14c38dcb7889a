"""Field types of MLflow's proto-JSON: string ids, int64s, non-finite doubles, enums, tag lists."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields

_NON_FINITE_IN = {
    "nan": math.nan,
    "infinity": math.inf,
    "inf": math.inf,
    "-infinity": -math.inf,
    "-inf": -math.inf,
    "+infinity": math.inf,
}


def double_to_json(value: float | None) -> float | str | None:
    """A float as proto JSON writes it: non-finite values become strings."""
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


class IdString(fields.Field[str]):
    """An id that MLflow sends as a string; ints are accepted and turned into strings."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError("Expected a string id.")
        return str(value)

    @staticmethod
    def to_json(value: Any) -> str | None:
        """The id as a string."""
        return None if value is None else str(value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return self.to_json(value)


INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class Int64(fields.Field[int]):
    """An int64 that may arrive as a JSON number or a numeric string (GET query parameters)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("Expected an integer.")
        number: int | None = None
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                number = int(value.strip())
        if number is None:
            raise ValidationError(f"Expected an integer, got {value!r}.")
        if not INT64_MIN <= number <= INT64_MAX:
            raise ValidationError(f"{number} is outside the 64-bit integer range.")
        return number

    @staticmethod
    def to_json(value: Any) -> int | None:
        """The number as an int."""
        return None if value is None else int(value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> int | None:
        return self.to_json(value)


class Double(fields.Field[float]):
    """A double that may be a number or one of "NaN", "Infinity", "-Infinity" (proto JSON)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool):
            raise ValidationError("Expected a number.")
        if isinstance(value, int | float):
            try:
                return float(value)
            except OverflowError:  # an integer beyond the double range
                raise ValidationError("The number is outside the double range.") from None
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in _NON_FINITE_IN:
                return _NON_FINITE_IN[lowered]
            try:
                return float(value)
            except ValueError:
                pass
        raise ValidationError(f"Expected a number, got {value!r}.")

    to_json = staticmethod(double_to_json)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return double_to_json(value)


class EnumName(fields.String):
    """A proto enum given by name, or by number as the client may send it."""

    def __init__(self, numbers: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.numbers = numbers

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        text = str(super()._deserialize(value, attr, data, **kwargs))
        name = self.numbers.get(text, text.upper())
        if name not in self.numbers.values():
            raise ValidationError(
                f"Invalid value {text!r}: use one of {sorted(self.numbers.values())}."
            )
        return name


class BlankNone(fields.String):
    """A string MLflow always sends, as "" when unset; the client reads "" as None."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str:
        return "" if value is None else str(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return super()._deserialize(value, attr, data, **kwargs) or None


_MAPPING_TYPES: dict[type, bool] = {}


def _pair(item: Any) -> tuple[str, str]:
    if isinstance(item, Mapping):
        return item["key"], item.get("value", "")
    if hasattr(item, "key"):
        return item.key, item.value
    return item[0], item[1]


class KeyValues(fields.Field[dict[str, str]]):
    """MLflow's ``[{key, value}]`` (tags, params), a ``{key: value}`` dict in Python.

    Dumps a dict, ``(key, value)`` pairs, ``{key, value}`` dicts or rows with ``key`` and
    ``value`` attributes; loads a dict (the last value of a repeated key wins).
    """

    @staticmethod
    def to_json(value: Any) -> Any:
        """``[{key, value}]`` from a dict, pairs, or rows."""
        if value is None:
            return None
        if isinstance(value, Mapping):
            return [{"key": key, "value": val} for key, val in value.items()]
        pairs = []
        for item in value:  # _pair, inlined: a page of runs has thousands of these
            mapping = _MAPPING_TYPES.get(type(item))
            if mapping is None:
                mapping = _MAPPING_TYPES[type(item)] = issubclass(type(item), Mapping)
            if mapping:
                pairs.append({"key": item["key"], "value": item.get("value", "")})
            elif hasattr(item, "key"):
                pairs.append({"key": item.key, "value": item.value})
            else:
                pairs.append({"key": item[0], "value": item[1]})
        return pairs

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return self.to_json(value)

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> dict[str, str]:
        if not isinstance(value, list):
            raise ValidationError("Not a valid list.")
        try:
            return dict(_pair(item) for item in value)
        except (KeyError, TypeError, AttributeError, IndexError):
            raise ValidationError("Expected a list of {key, value} objects.") from None
