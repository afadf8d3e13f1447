"""The origin's in-memory cache: per object, its validators, prebuilt headers and small bodies.

Everything under ``media/`` is immutable once published: segments never change, and a republish
writes a new version folder, so a version's manifests never change either. An entry therefore
never goes stale and a hit needs no store call, no thread hop and no recomputation: the ETag,
Last-Modified, header dicts and compressed bodies are made once, when the object is first asked
for. The cache is bounded in bytes (bodies plus a fixed cost per entry), least recently used out.
"""

from __future__ import annotations

import gzip
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import format_datetime
from typing import TYPE_CHECKING

import brotli
from multidict import CIMultiDict, CIMultiDictProxy

from origin.cors import CORS_HEADERS
from origin.http1 import response_head
from origin.negotiation import IDENTITY

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from pathlib import Path

    from origin.cache_policy import CachePolicy
    from origin.kinds import Kind
    from storage.base import ObjectInfo

SMALL_MAX = 64 << 10  # held in memory and sent as a plain response below this; sendfile above
MANIFEST_MAX = 16 << 20  # manifests are held (and compressed once) up to this; past it, sent as files
ENTRY_COST = 1024  # bytes charged per entry for its headers, validators and bookkeeping

# The codings a compressible object can be sent in, in the order ties are broken (RFC 9110
# §12.5.3 leaves ties to the server): gzip first, since every client decodes it; Brotli when the
# client ranks it higher. Identity is always last.
ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: gzip.compress(data, compresslevel=9, mtime=0),
    "br": lambda data: brotli.compress(data, quality=11),
}


def holds(kind: Kind, size: int) -> bool:
    """Whether an object's bytes are kept in memory: manifests (to compress them once) and init
    segments of a few KB; media segments are sent from files with sendfile."""
    return kind.held and size <= (MANIFEST_MAX if kind.compressible else SMALL_MAX)


@dataclass(frozen=True)
class Representation:
    """One coding of an object: its strong ETag, its body when held, its prebuilt headers.

    ``hit`` is what a whole-object 200 sends, CORS included, as the case-insensitive multidict
    aiohttp keeps: a response copies it (a C-level copy) instead of building its fields per request.
    """

    etag: str
    body: bytes | None
    headers: Mapping[str, str]  # what 200/206 send, less Date, Content-Length, Content-Range
    not_modified: Mapping[str, str]  # what 304 sends, less Date
    hit: CIMultiDictProxy[str]  # ``headers`` and CORS; aiohttp adds Date, Content-Length, Server
    wire: bytes  # the 200's status line and fields, Content-Length included, for ``origin.fast``;
    # what it sends after them is Date, Server and the empty line (the same fields aiohttp adds)


@dataclass(frozen=True)
class HotEntry:
    key: str
    kind: Kind
    size: int
    last_modified: datetime
    path: Path | None  # a local file for sendfile, when the body is not held
    representations: Mapping[str, Representation]  # by coding; identity always present
    codings: tuple[str, ...]  # what may be offered for a whole-object request, identity last

    @property
    def cost(self) -> int:
        return ENTRY_COST + sum(len(r.body) for r in self.representations.values() if r.body is not None)


def build_entry(
    info: ObjectInfo, kind: Kind, data: bytes | None, path: Path | None, policy: CachePolicy
) -> HotEntry:
    """Everything a response for this object needs, computed once (compression included)."""
    bodies: dict[str, bytes | None] = {IDENTITY: data}
    if kind.compressible and data is not None:
        bodies.update({coding: encode(data) for coding, encode in ENCODERS.items()})
    common = {
        "Last-Modified": format_datetime(info.last_modified, usegmt=True),
        **policy.for_content(kind.cache),
    }
    if kind.compressible:
        common["Vary"] = "Accept-Encoding"
    representations = {}
    for coding, body in bodies.items():
        suffix = "" if coding == IDENTITY else f"-{coding}"
        etag = f'"{info.etag[:40]}{suffix}"'  # one strong tag per representation
        not_modified = {"ETag": etag, **common}
        extra = {"Accept-Ranges": "bytes"} if coding == IDENTITY else {"Content-Encoding": coding}
        headers = {"Content-Type": kind.content_type, **not_modified, **extra}
        hit = CIMultiDictProxy(CIMultiDict({**headers, **CORS_HEADERS}))
        length = info.size if body is None else len(body)
        wire = response_head(200, "OK", [*hit.items(), ("Content-Length", str(length))])
        representations[coding] = Representation(etag, body, headers, not_modified, hit, wire)
    codings = (*(c for c in ENCODERS if c in bodies), IDENTITY)
    return HotEntry(info.key, kind, info.size, info.last_modified, path, representations, codings)


class HotCache:
    """Entries by key, least recently used first, never more than ``max_bytes`` in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self._entries: OrderedDict[str, HotEntry] = OrderedDict()

    def get(self, key: str) -> HotEntry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, entry: HotEntry) -> None:
        self.forget(entry.key)
        if entry.cost > self.max_bytes:
            return  # larger than the whole cache: served, never held
        self._entries[entry.key] = entry
        self.used += entry.cost
        while self.used > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.used -= evicted.cost

    def forget(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.used -= entry.cost

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries
