"""Artifact listings, of runs, logged models and the artifact proxy."""

from __future__ import annotations

from marshmallow import fields

from registry.wire.base import Entity, RequestSchema, entity, wire
from registry.wire.fields import Int64


@entity
class FileInfo(Entity):
    """One entry of an artifact listing (``file_size`` for files only)."""

    path: str = wire(fields.String())
    is_dir: bool = wire(fields.Boolean(), default=False)
    file_size: int | None = wire(Int64(), default=None, omit="none")


@entity
class ArtifactListing(Entity):
    """A directory's direct children, paths relative to the root."""

    root_uri: str | None = wire(fields.String(), default=None, omit="none")
    files: tuple[FileInfo, ...] = wire(
        fields.List(fields.Nested(FileInfo.Schema)), default=(), omit="empty"
    )
    next_page_token: str | None = wire(fields.String(), default=None, omit="empty")


class ArtifactPathQuerySchema(RequestSchema):
    """The artifact proxy's listing: a directory under the root (the root when absent)."""

    path = fields.String()
