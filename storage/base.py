"""The ``ObjectStore`` protocol that every store implements, and the rules for keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from vodpipe.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime
    from pathlib import Path

_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


def validate_key(key: str) -> str:
    """Keys are ``/``-joined names of letters, digits, ``._-``; nothing that could climb out."""
    parts = key.split("/")
    if not key or any(not _SEGMENT.fullmatch(p) or p in (".", "..") for p in parts):
        raise StorageError(f"invalid object key {key!r}: use names of letters, digits and ._-")
    return key


@dataclass(frozen=True)
class ObjectInfo:
    """What a store knows of one object. ``etag`` is a digest of the content (unquoted)."""

    key: str
    size: int
    etag: str
    last_modified: datetime
    content_type: str


class ObjectStore(Protocol):
    """A flat namespace of immutable-by-convention objects under ``/``-separated keys."""

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        """Write ``data`` at ``key`` atomically: readers see the old object or the new one."""

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> ObjectInfo:
        """Copy a local file to ``key`` atomically."""

    def get_bytes(self, key: str) -> bytes:
        """The whole object; raises ``ObjectNotFoundError``."""

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` inclusive."""

    def download(self, key: str, path: Path) -> None:
        """Copy the object to a local file."""

    def stat(self, key: str) -> ObjectInfo:
        """Size, ETag, mtime and type; raises ``ObjectNotFoundError``."""

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[str]:
        """Keys that start with ``prefix``, in lexical order."""

    def delete(self, key: str) -> None:
        """Remove the object if it exists."""

    def local_path(self, key: str) -> Path | None:
        """A local file holding the object (for sendfile), or None when the store is remote."""
