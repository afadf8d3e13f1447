"""The embedded default store: a directory on local disk.

Writes go to a temporary file in the target folder, are flushed, and renamed into place, so a
reader never sees half an object. ETags are SHA-256 digests of the content, computed once per
file version and remembered by (inode, mtime, size). Compare-and-swap writes hold an exclusive
``flock`` on a per-key lock file under ``.locks/`` (a name no key can take), so writers in other
threads and processes on this host wait for each other.

Published objects (``media/``) are world-readable, files 0644 and folders 0755, so an nginx, a
CDN origin-pull or a backup job running as another user can serve or copy them; every other
prefix (``masters/``, ``keys/``, ``catalog/``, ``work/``, and any added later) is the owner's
alone, 0600 and 0700. Modes are set explicitly, whatever the process umask: ``mkstemp`` creates
0600 files, which a rename keeps, and ``mkdir`` applies the umask.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import mimetypes
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, BinaryIO

from storage.base import STREAM_CHUNK, ObjectInfo, validate_key
from vodpipe.errors import ObjectNotFoundError, StorageError, WriteConflictError

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

_CHUNK = 1 << 20
PUBLIC_PREFIXES = ("media/",)
_PUBLIC_MODES = (0o644, 0o755)  # (file, folder)
_PRIVATE_MODES = (0o600, 0o700)


def modes(key: str) -> tuple[int, int]:
    """The (file, folder) modes for ``key``: decided by its prefix, never by what it holds."""
    return _PUBLIC_MODES if key.startswith(PUBLIC_PREFIXES) else _PRIVATE_MODES


def _digest(stream: BinaryIO) -> str:
    h = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        h.update(chunk)
    return h.hexdigest()


def _chunks(f: BinaryIO, length: int | None) -> Generator[bytes, None, None]:
    with f:
        while length is None or length > 0:
            chunk = f.read(STREAM_CHUNK if length is None else min(STREAM_CHUNK, length))
            if not chunk:
                return
            if length is not None:
                length -= len(chunk)
            yield chunk


class LocalStore:
    """An :class:`~storage.base.ObjectStore` over a directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        if not self.root.is_dir():
            self.root.mkdir(parents=True)
            self.root.chmod(0o755)  # others may traverse to media/; the private folders are 0700
        self._etags: dict[tuple[int, int, int], str] = {}
        self._lock = Lock()

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        if not path.is_relative_to(self.root):  # defence in depth: validate_key already refuses
            raise StorageError(f"key {key!r} leaves the store")
        return path

    def _make_folders(self, folder: Path, mode: int) -> None:
        """Create the folders from the root down to ``folder``, each with ``mode``."""
        parts = folder.relative_to(self.root).parts
        for depth in range(1, len(parts) + 1):
            current = self.root.joinpath(*parts[:depth])
            if not current.is_dir():
                current.mkdir(exist_ok=True)  # another writer may create it meanwhile
                current.chmod(mode)

    def _write(self, key: str, source: BinaryIO) -> ObjectInfo:
        path = self._path(key)
        file_mode, folder_mode = modes(key)
        self._make_folders(path.parent, folder_mode)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            os.fchmod(fd, file_mode)  # before the rename: readers never see another mode
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.stat(key)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> ObjectInfo:
        return self._write(key, io.BytesIO(data))

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> ObjectInfo:
        with path.open("rb") as source:
            return self._write(key, source)

    def _open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFoundError(f"no object at {key}") from None

    def get_bytes(self, key: str) -> bytes:
        with self._open(key) as f:
            return f.read()

    def get_range(self, key: str, start: int, end: int) -> bytes:
        with self._open(key) as f:
            f.seek(start)
            return f.read(end - start + 1)

    def get_stream(self, key: str, start: int = 0, end: int | None = None) -> Generator[bytes, None, None]:
        f = self._open(key)  # opened now, so a missing object raises before the first chunk
        f.seek(start)
        return _chunks(f, None if end is None else end - start + 1)

    def read_versioned(self, key: str) -> tuple[bytes, str]:
        with self._open(key) as f:
            data = f.read()
        return data, hashlib.sha256(data).hexdigest()

    def put_if(self, key: str, data: bytes, etag: str | None, content_type: str | None = None) -> ObjectInfo:
        path = self._path(key)
        with self._locked(key):
            try:  # the digest of what is on disk now, not a cached one: the check must be exact
                with path.open("rb") as f:
                    current: str | None = _digest(f)
            except FileNotFoundError:
                current = None
            if current != etag:
                expected = f"ETag {etag}" if etag else "no object"
                raise WriteConflictError(f"{key} changed since it was read (expected {expected})")
            return self._write(key, io.BytesIO(data))

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        folder = self.root / ".locks"
        folder.mkdir(mode=_PRIVATE_MODES[1], exist_ok=True)  # private, like every non-media prefix
        name = hashlib.sha256(key.encode()).hexdigest()[:32]
        # A fresh open file description per call: flock excludes other threads of this process too.
        with (folder / f"{name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def download(self, key: str, path: Path) -> None:
        with self._open(key) as f, path.open("wb") as out:
            shutil.copyfileobj(f, out, _CHUNK)

    def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFoundError(f"no object at {key}") from None
        if not path.is_file():
            raise ObjectNotFoundError(f"no object at {key}")
        version = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._lock:
            etag = self._etags.get(version)
        if etag is None:
            with path.open("rb") as f:
                etag = _digest(f)
            with self._lock:
                self._etags[version] = etag
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        modified = datetime.fromtimestamp(st.st_mtime, UTC)
        return ObjectInfo(key, st.st_size, etag, modified, content_type)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> Iterator[str]:
        folder = self.root / prefix.rpartition("/")[0] if "/" in prefix else self.root
        keys = []
        for path in folder.rglob("*") if folder.is_dir() else ():
            key = path.relative_to(self.root).as_posix()
            hidden = any(part.startswith(".") for part in key.split("/"))  # .tmp-*, .locks/
            if not hidden and key.startswith(prefix) and path.is_file():
                keys.append(key)
        return iter(sorted(keys))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)
