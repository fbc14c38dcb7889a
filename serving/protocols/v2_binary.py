"""The V2 binary tensor data extension (Triton's ``binary_tensor_data``).

A request or response body is a JSON header of ``Inference-Header-Content-Length`` bytes, then
the raw data of each tensor whose ``parameters.binary_data_size`` is set, in tensor order.
Numbers are little-endian in row-major order; BOOL is one byte; each BYTES element is a 4-byte
little-endian length and then its bytes.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np

from registry.errors import BadRequest

EXTENSION = "binary_tensor_data"
HEADER_LENGTH = "Inference-Header-Content-Length"


def split_body(body: bytes, header_length: str | None) -> tuple[bytes, memoryview | None]:
    """Split a body into its JSON header and its binary part (None without the header field).

    Raises:
        BadRequest: the header length is not a number between 0 and the body's length.
    """
    if header_length is None:
        return body, None
    try:
        length = int(header_length)
    except ValueError:
        length = -1
    if not 0 <= length <= len(body):
        raise BadRequest(
            f"Invalid input. {HEADER_LENGTH} must be the JSON header's size in bytes, between 0 "
            f"and {len(body)}; got {header_length!r}."
        )
    return body[:length], memoryview(body)[length:]


def decode_tensor(name: str, raw: memoryview, datatype: str, dtype: str, shape: list[int]) -> Any:
    """Read one tensor's raw bytes into an array of ``shape``.

    BYTES elements become ``str`` when they are UTF-8 (what a model's string column holds) and
    stay ``bytes`` otherwise.

    Raises:
        BadRequest: the byte count does not match the shape and datatype.
    """
    count = math.prod(shape)
    if datatype == "BYTES":
        return _decode_bytes(name, raw, count).reshape(shape)
    itemsize = np.dtype(dtype).itemsize
    if len(raw) != count * itemsize:
        raise BadRequest(
            f"Invalid input. Input '{name}': shape {shape} of {datatype} needs "
            f"{count * itemsize} bytes, binary_data_size is {len(raw)}."
        )
    return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)


def _decode_bytes(name: str, raw: memoryview, count: int) -> np.ndarray:
    values: list[Any] = []
    offset = 0
    try:
        while offset < len(raw):
            (size,) = struct.unpack_from("<I", raw, offset)
            offset += 4
            if offset + size > len(raw):
                raise struct.error("element runs past the tensor's data")
            item = bytes(raw[offset : offset + size])
            offset += size
            try:
                values.append(item.decode("utf-8"))
            except UnicodeDecodeError:
                values.append(item)
    except struct.error as err:
        raise BadRequest(f"Invalid input. Input '{name}': malformed BYTES data: {err}") from None
    if len(values) != count:
        raise BadRequest(
            f"Invalid input. Input '{name}': the shape needs {count} BYTES elements, "
            f"the data has {len(values)}."
        )
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def encode_tensor(datatype: str, data: np.ndarray) -> bytes:
    """The raw bytes of an output tensor (``data`` flat, already of the datatype's dtype)."""
    if datatype != "BYTES":
        return np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<")).tobytes()
    parts = []
    for value in data.tolist():
        item = value if isinstance(value, bytes) else str(value).encode("utf-8")
        parts.append(struct.pack("<I", len(item)))
        parts.append(item)
    return b"".join(parts)
