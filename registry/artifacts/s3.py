"""Artifacts under an S3 prefix (AWS, MinIO or any S3-compatible store) through boto3.

boto3 is an optional extra (``pip install 'modelyard[s3]'``), imported only when an ``s3://``
root is configured. botocore errors are translated here and never reach a view.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO, cast

from registry.artifacts import FileInfo, Readable
from registry.artifacts.paths import safe_relative_path
from registry.errors import (
    ArtifactNotFound,
    InsufficientStorage,
    InvalidParameter,
    RegistryError,
    TemporarilyUnavailable,
)

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_TRANSIENT_CODES = frozenset({"SlowDown", "Throttling", "RequestTimeout", "ServiceUnavailable"})
# AWS has no "disk full"; MinIO answers 507 XMinioStorageFull, and a bucket quota refusal.
_FULL_CODES = frozenset({"XMinioStorageFull", "XMinioAdminBucketQuotaExceeded"})
_DELETE_BATCH = 1000  # the most keys one DeleteObjects call accepts


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/some/prefix`` into ``("bucket", "some/prefix")``.

    Raises:
        ValueError: the URI is not ``s3://bucket[/prefix]``.
    """
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3://bucket/prefix URI")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} names no bucket")
    return bucket, prefix.strip("/")


class S3ArtifactStore:
    """A bucket and key prefix; uploads larger than ``part_size`` use multipart transfers."""

    def __init__(
        self,
        uri: str,
        endpoint_url: str | None = None,
        *,
        part_size: int = 8 * MIB,
        max_concurrency: int = 4,
        page_size: int = 1000,
    ) -> None:
        try:
            import boto3
            from boto3.s3.transfer import TransferConfig
        except ImportError:
            raise ValueError(
                f"artifact root {uri!r} needs boto3: pip install 'modelyard[s3]'"
            ) from None
        self.bucket, self.prefix = parse_s3_uri(uri)
        self._client: Any = boto3.client("s3", endpoint_url=endpoint_url or None)
        self._transfer = TransferConfig(
            multipart_threshold=part_size,
            multipart_chunksize=part_size,
            max_concurrency=max_concurrency,
        )
        # A request body cannot seek, so s3transfer buffers whole parts; this caps how many
        # (its default of 10 is 80 MiB per upload) to part_size * max_concurrency.
        self._transfer.max_in_memory_upload_chunks = max_concurrency
        self._page_size = page_size

    def put(self, path: str, src: Readable) -> int:
        """Stream ``src`` to ``path``; the object appears only once the upload completes.

        Raises:
            InvalidParameter: the path is unsafe or empty.
            TemporarilyUnavailable: S3 is unreachable or throttling.
            InsufficientStorage: the store is full or over quota (boto3 aborts a multipart
                upload that fails, so no object appears).
        """
        key = self._key(path, allow_root=False)
        counted = _CountingReader(src)
        with self._translated(path):
            self._client.upload_fileobj(counted, self.bucket, key, Config=self._transfer)
        return counted.count

    def open(self, path: str) -> BinaryIO:
        """A readable stream of the object at ``path`` (read it in chunks).

        Raises:
            InvalidParameter: the path is unsafe.
            ArtifactNotFound: there is no object at ``path``.
            TemporarilyUnavailable: S3 is unreachable or throttling.
            InsufficientStorage: the store is full or over quota (boto3 aborts a multipart
                upload that fails, so no object appears).
        """
        key = self._key(path, allow_root=False)
        with self._translated(path):
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        return cast(BinaryIO, response["Body"])

    def list(self, prefix: str) -> list[FileInfo]:
        """The direct children of ``prefix``, sorted by name; files carry sizes.

        Raises:
            InvalidParameter: the path is unsafe.
            TemporarilyUnavailable: S3 is unreachable or throttling.
        """
        directory = self._key(prefix, allow_root=True)
        key_prefix = f"{directory}/" if directory else ""
        infos: list[FileInfo] = []
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket,
            Prefix=key_prefix,
            Delimiter="/",
            PaginationConfig={"PageSize": self._page_size},
        )
        with self._translated(prefix):
            for page in pages:
                for common in page.get("CommonPrefixes", []):
                    name = common["Prefix"][len(key_prefix) :].rstrip("/")
                    infos.append(FileInfo(name, True))
                for obj in page.get("Contents", []):
                    name = obj["Key"][len(key_prefix) :]
                    if name:  # a zero-byte "folder" marker is the directory itself
                        infos.append(FileInfo(name, False, int(obj["Size"])))
        return sorted(infos, key=lambda info: info.path)

    def delete(self, prefix: str) -> None:
        """Remove the object at ``prefix`` and every object below it, in batches.

        Raises:
            InvalidParameter: the path is unsafe or names the root itself.
            TemporarilyUnavailable: S3 is unreachable or throttling.
        """
        key = self._key(prefix, allow_root=False)
        with self._translated(prefix):
            batch = [key]
            for found in self._keys_below(f"{key}/"):
                batch.append(found)
                if len(batch) == _DELETE_BATCH:
                    self._delete_batch(batch)
                    batch = []
            if batch:
                self._delete_batch(batch)

    def _keys_below(self, key_prefix: str) -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket,
            Prefix=key_prefix,
            PaginationConfig={"PageSize": self._page_size},
        )
        for page in pages:
            for obj in page.get("Contents", []):
                yield obj["Key"]

    def _delete_batch(self, keys: Sequence[str]) -> None:
        response = self._client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True},
        )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            logger.error("S3 refused to delete %d keys, first %s", len(errors), first)
            raise RegistryError(f"Artifact storage refused a delete ({first.get('Code')})")

    def _key(self, path: str, *, allow_root: bool) -> str:
        relative = safe_relative_path(path)
        if not relative and not allow_root:
            raise InvalidParameter("Invalid artifact path: it names the artifact root", path=path)
        return "/".join(part for part in (self.prefix, relative) if part)

    @contextmanager
    def _translated(self, path: str) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError

        try:
            yield
        except ClientError as err:
            raise _from_client_error(err, path) from err
        except HTTPClientError as err:
            logger.warning("S3 unreachable: %s", err)
            raise TemporarilyUnavailable("Artifact storage is unreachable; retry later") from err
        except BotoCoreError as err:
            logger.error("S3 client error: %s", err)
            raise RegistryError("Artifact storage is misconfigured") from err


def _from_client_error(err: Any, path: str) -> RegistryError:
    code = str(err.response.get("Error", {}).get("Code", ""))
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _NOT_FOUND_CODES:
        return ArtifactNotFound(f"No such artifact: '{path}'", path=path)
    if code in _FULL_CODES or status == 507:
        logger.error("S3 store full (%s) on %r", code or status, path)
        return InsufficientStorage(
            f"Cannot store artifact {path!r}: the artifact store is full", path=path
        )
    if code in _TRANSIENT_CODES or status in (429, 500, 502, 503, 504):
        logger.warning("S3 transient error %s on %r", code, path)
        return TemporarilyUnavailable("Artifact storage is busy; retry later")
    logger.error("S3 error %s (HTTP %s) on %r", code, status, path)
    return RegistryError(f"Artifact storage refused the request ({code or status})")


class _CountingReader:
    """Counts the bytes boto3 reads from the request stream."""

    def __init__(self, src: Readable) -> None:
        self._src = src
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._src.read(size)
        self.count += len(chunk)
        return chunk
