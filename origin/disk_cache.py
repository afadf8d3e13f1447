"""A local disk cache of objects from a remote store (S3), bounded in bytes, least recently used out.

Objects under ``media/`` are immutable, so a cached copy never goes stale and is served without
asking the store: while the store is down too (stale-if-error, RFC 5861 §4, in effect forever for
immutable objects). Each object is two files named by a digest of its key: the bytes, and a small
JSON of its validators written after them, so a copy counts only once both are complete. Both are
written to a temporary name and renamed into place: a reader never sees half an object.
Several worker processes may share the folder; each keeps its own index, and a file another
process evicted is simply a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections import OrderedDict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from storage.base import ObjectInfo

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_SHARE = 4  # one object may take at most a quarter of the cache; larger ones are relayed


def _name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def victims(sizes: OrderedDict[str, int], max_bytes: int) -> list[str]:
    """Names to evict, least recently used first, until the rest fits in ``max_bytes``."""
    total = sum(sizes.values())
    out = []
    for name, size in sizes.items():
        if total <= max_bytes:
            break
        out.append(name)
        total -= size
    return out


class DiskCache:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._sizes: OrderedDict[str, int] = OrderedDict()
        found = []
        for meta in root.glob("*.json"):  # what an earlier run left: oldest use first
            data = meta.with_suffix(".data")
            with contextlib.suppress(OSError):
                found.append((data.stat().st_mtime_ns, meta.stem, data.stat().st_size))
        for _, name, size in sorted(found):
            self._sizes[name] = size
        self._evict()

    def accepts(self, size: int) -> bool:
        return size <= self.max_bytes // MAX_SHARE

    def lookup(self, key: str) -> tuple[ObjectInfo, Path] | None:
        """The cached object's validators and file, or None; no store is asked."""
        name = _name(key)
        try:
            meta = json.loads((self.root / f"{name}.json").read_text())
        except (OSError, ValueError):
            return None
        path = self.root / f"{name}.data"
        if meta.get("key") != key or not path.is_file():
            return None
        self._sizes[name] = meta["size"]
        self._sizes.move_to_end(name)
        modified = datetime.fromisoformat(meta["last_modified"])
        return ObjectInfo(key, meta["size"], meta["etag"], modified, meta["content_type"]), path

    def fill(self, info: ObjectInfo, write: Callable[[Path], object]) -> Path:
        """Store the object that ``write(path)`` writes (e.g. a store's ``download``); its file."""
        name = _name(info.key)
        path = self.root / f"{name}.data"
        self._atomic(path, write)
        if path.stat().st_size != info.size:
            path.unlink(missing_ok=True)
            raise OSError(f"cached copy of {info.key} has the wrong size")
        meta = {
            "key": info.key,
            "size": info.size,
            "etag": info.etag,
            "last_modified": info.last_modified.isoformat(),
            "content_type": info.content_type,
        }
        self._atomic(self.root / f"{name}.json", lambda p: p.write_text(json.dumps(meta)))
        self._sizes[name] = info.size
        self._sizes.move_to_end(name)
        self._evict()
        return path

    def used(self) -> int:
        return sum(self._sizes.values())

    def _atomic(self, path: Path, write: Callable[[Path], object]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        os.close(fd)
        try:
            write(Path(tmp))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _evict(self) -> None:
        for name in victims(self._sizes, self.max_bytes):
            del self._sizes[name]
            (self.root / f"{name}.json").unlink(missing_ok=True)  # the marker first: never half-cached
            (self.root / f"{name}.data").unlink(missing_ok=True)
