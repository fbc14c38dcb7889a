"""Containment of user-supplied artifact paths: nothing a request names may leave the root.

``safe_relative_path`` is the single gate every store method passes a path through. It is
deliberately strict: the path-traversal bugs of other artifact servers came from checks that
looked at one spelling of a path (raw, once-decoded, NFC) while the filesystem saw another, so
every spelling is checked here.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from registry.errors import InvalidParameter

MAX_PATH_BYTES = 1024
"""S3's key limit; a local path this long is also far past any sane artifact name."""
MAX_SEGMENT_BYTES = 255
"""The usual filesystem limit on one name (ext4, APFS, NTFS)."""

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ENCODED_SEPARATOR = re.compile(r"%(2f|5c|00)", re.IGNORECASE)
_MAX_DECODE_ROUNDS = 8


def safe_relative_path(path: str) -> str:
    """Normalise a user path to ``a/b/c`` form (``""`` is the root) or refuse it.

    Empty and ``.`` segments are dropped and a trailing ``/`` is ignored. Refused: ``..``
    segments, absolute paths, backslashes, drive letters (``C:``), segments starting with
    ``~``, control characters including NUL, percent-encoded separators or NUL (``%2f``,
    ``%5c``, ``%00``), anything whose percent-decoding (repeated, so ``%252e%252e`` counts) or
    Unicode compatibility form (fullwidth dots, U+FF0E) would be one of these, unencodable text, and
    names longer than the usual filesystem and S3 limits.

    Raises:
        InvalidParameter: the path could escape the artifact root or cannot be stored.
    """
    if not isinstance(path, str):
        raise InvalidParameter(f"Invalid path {path!r}: not a string")
    for spelling in _spellings(path):
        _check_spelling(path, spelling)
    segments = [s for s in path.split("/") if s not in ("", ".")]
    normalised = "/".join(segments)
    if len(normalised.encode("utf-8")) > MAX_PATH_BYTES:
        raise _invalid(path, f"longer than {MAX_PATH_BYTES} bytes")
    return normalised


def _spellings(path: str) -> list[str]:
    """The raw path, each successive percent-decoding of it, and their NFKC forms."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid(path, "not valid Unicode text") from None
    spellings = [path]
    current = path
    for _ in range(_MAX_DECODE_ROUNDS):
        try:
            decoded = unquote(current, errors="strict")
        except UnicodeDecodeError:
            raise _invalid(path, "percent-decodes to invalid UTF-8") from None
        if decoded == current:
            break
        spellings.append(decoded)
        current = decoded
    else:
        raise _invalid(path, "percent-encoded too many times")
    spellings += [unicodedata.normalize("NFKC", s) for s in spellings]
    return spellings


def _check_spelling(original: str, spelling: str) -> None:
    if _CONTROL.search(spelling):
        raise _invalid(original, "contains a control character")
    if "\\" in spelling:
        raise _invalid(original, "contains a backslash")
    if _ENCODED_SEPARATOR.search(spelling):
        raise _invalid(original, "contains an encoded '/', '\\' or NUL")
    if spelling.startswith("/"):
        raise _invalid(original, "is absolute")
    for segment in spelling.split("/"):
        if segment == "..":
            raise _invalid(original, "contains '..'")
        if segment.startswith("~"):
            raise _invalid(original, "contains a segment starting with '~'")
        if _DRIVE.match(segment):
            raise _invalid(original, "contains a drive letter")
        if len(segment.encode("utf-8", errors="replace")) > MAX_SEGMENT_BYTES:
            raise _invalid(original, f"has a name longer than {MAX_SEGMENT_BYTES} bytes")


def _invalid(path: str, reason: str) -> InvalidParameter:
    # MLflow answers "Invalid path"; clients and scripts match on those words.
    return InvalidParameter(f"Invalid path {path!r}: {reason}", path=path)
