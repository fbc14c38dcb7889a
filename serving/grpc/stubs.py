"""Message classes and the service name, built from ``grpc_predict_v2.proto`` on import.

grpcio-tools compiles the .proto shipped beside this module into a descriptor set when the
module is first imported, so nothing generated is committed and an editable install and a
wheel run the same code. The descriptors go into a pool of our own, not protobuf's default
pool: Triton's, KServe's and MLServer's clients put the same ``inference.*`` names in the
default pool, and a process (a test, a client) may import one of them beside this server.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import ServiceDescriptor
from grpc_tools import protoc

PROTO = Path(__file__).with_name("grpc_predict_v2.proto")
SERVICE = "inference.GRPCInferenceService"


def _compile(proto: Path) -> descriptor_pb2.FileDescriptorSet:
    with tempfile.TemporaryDirectory(prefix="modelyard-proto-") as tmp:
        out = Path(tmp) / "descriptors.pb"
        args = ["protoc", f"-I{proto.parent}", f"--descriptor_set_out={out}", proto.name]
        if protoc.main(args) != 0:
            raise RuntimeError(f"grpcio-tools could not compile {proto} (see its error above)")
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


_FILES = _compile(PROTO)
_POOL = descriptor_pool.DescriptorPool()
for _file in _FILES.file:
    _POOL.Add(_file)
_CLASSES: dict[str, Any] = message_factory.GetMessages(list(_FILES.file), pool=_POOL)


def message(name: str) -> Any:
    """The class of the message ``inference.<name>`` (``ModelInferRequest``, ...)."""
    return _CLASSES[f"inference.{name}"]


def service() -> ServiceDescriptor:
    """The ``GRPCInferenceService`` descriptor: its methods and their message types."""
    return _POOL.FindServiceByName(SERVICE)


def message_class(full_name: str) -> Any:
    """The class of a message by its full name (a method's input or output type)."""
    return _CLASSES[full_name]
