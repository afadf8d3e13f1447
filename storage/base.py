"""The ``ObjectStore`` protocol that every store implements, and the rules for keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from vodpipe.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator
    from datetime import datetime
    from pathlib import Path

STREAM_CHUNK = 256 << 10  # bytes per chunk of get_stream: large enough for few syscalls, small in memory
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

    def get_stream(self, key: str, start: int = 0, end: int | None = None) -> Generator[bytes, None, None]:
        """Bytes ``start`` to ``end`` inclusive (``None``: to the end) in chunks of ``STREAM_CHUNK``.

        The object is opened before this returns (a missing object or an unreachable store
        raises here, not at the first chunk); ``close()`` the generator to release it early.
        """

    def read_versioned(self, key: str) -> tuple[bytes, str]:
        """The whole object and the ETag of exactly those bytes, for :meth:`put_if`."""

    def put_if(self, key: str, data: bytes, etag: str | None, content_type: str | None = None) -> ObjectInfo:
        """Compare-and-swap: write only if the object's ETag is still ``etag`` (``None``: only if
        there is no object). Raises ``WriteConflictError`` when another writer got there first."""

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
