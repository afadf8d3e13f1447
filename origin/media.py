"""Serving one ``media/`` object: validators, conditional and range requests, codings, sendfile.

The decisions (which key, which representation, 200/206/304/412/416) are made by pure functions
in ``paths``, ``kinds``, ``fields``, ``negotiation``, ``conditional`` and ``ranges``; this module
only does the I/O.
"""

from __future__ import annotations

import asyncio
import functools
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING

from aiohttp import hdrs, web

from origin.conditional import Outcome, evaluate, range_applies
from origin.cors import PREFLIGHT_HEADERS
from origin.fields import request_fields
from origin.kinds import classify
from origin.negotiation import IDENTITY, choose_coding, parse_accept_encoding
from origin.paths import media_key
from origin.ranges import ByteRange, parse_range
from origin.relay import StoreSlice
from origin.sendfile import FileSlice
from origin.source import ObjectSource
from storage.base import ObjectStore
from vodpipe.errors import VodpipeError

if TYPE_CHECKING:
    from origin.hot import HotEntry

STORE_KEY = web.AppKey("store", ObjectStore)
SOURCE_KEY = web.AppKey("source", ObjectSource)


class PreconditionFailed(VodpipeError):
    status = 412
    problem_type = "https://vodpipe.dev/problems/precondition-failed"
    title = "Precondition failed"


class MethodNotAllowed(web.HTTPMethodNotAllowed):
    def __init__(self, method: str) -> None:
        super().__init__(method, ["GET", "HEAD", "OPTIONS"], text=f"{method} is not allowed here")


def preflight() -> web.Response:
    return web.Response(status=204, headers=PREFLIGHT_HEADERS | {"Cache-Control": "public, max-age=86400"})


@functools.lru_cache(maxsize=256)  # players send a handful of distinct Accept-Encoding lines
def coding_for(accept: str | None, offered: tuple[str, ...]) -> str:
    """The coding to send, given the request's Accept-Encoding (all its lines as one list)."""
    return choose_coding(parse_accept_encoding(accept), offered)


_clock: tuple[int, datetime, str] = (0, datetime.fromtimestamp(0, UTC), "")


def _now() -> tuple[datetime, str]:
    """The current second and its HTTP-date, formatted once per second."""
    global _clock
    second = int(time.time())
    if _clock[0] != second:
        now = datetime.fromtimestamp(second, UTC)
        _clock = (second, now, format_datetime(now, usegmt=True))
    return _clock[1], _clock[2]


async def _entry(source: ObjectSource, key: str) -> HotEntry:
    entry = source.cached(key)  # a hit: no store call, no thread hop
    return entry if entry is not None else await source.load(key, classify(key))


# Request fields that take a request off the fast path: a range (RFC 9110 §14.2) or a
# precondition (§13.1). istr constants: multidict looks them up without case-folding again.
_NOT_FAST = (
    hdrs.RANGE,
    hdrs.IF_MATCH,
    hdrs.IF_NONE_MATCH,
    hdrs.IF_MODIFIED_SINCE,
    hdrs.IF_UNMODIFIED_SINCE,
    hdrs.IF_RANGE,
)


def hit_response(request: web.Request, source: ObjectSource) -> web.StreamResponse | None:
    """The common request answered before any generic parsing: a GET or HEAD, with no Range and
    no precondition, of an object in the hot cache. None: the request takes the general path.

    A whole 200 of a cached object is decided by its coding alone, so the response is the
    prebuilt headers and the held body (or the file, for sendfile); aiohttp adds Date (formatted
    once a second), Content-Length and Server. No key parsing either: every key in the cache
    passed ``media_key`` when it was loaded, so a path equal to a cached key is a valid key, and
    any other path (a query, an escape, ``..``) misses here and is judged by the general path.
    """
    method = request.method
    if method != "GET" and method != "HEAD":
        return None
    headers = request.headers
    for name in _NOT_FAST:
        if name in headers:
            return None
    entry = source.cached(request.raw_path.partition("?")[0][1:])  # the query is not part of the key
    if entry is None:
        return None
    if len(entry.codings) == 1:
        rep = entry.representations[IDENTITY]
    else:
        lines = headers.getall(hdrs.ACCEPT_ENCODING, ())  # RFC 9110 §5.3: several lines are one list
        rep = entry.representations[coding_for(", ".join(lines) if lines else None, entry.codings)]
    if rep.body is not None:
        return web.Response(body=rep.body, headers=rep.hit)
    if entry.path is None:
        return None  # relayed from a remote store: the general path opens the stream
    try:
        file = entry.path.open("rb", buffering=0)  # per request: a file gone since it was cached is a miss
    except FileNotFoundError:
        return None  # the general path forgets the entry and looks again
    return FileSlice(file, ByteRange(0, entry.size - 1), 200, rep.hit)


async def serve_media(request: web.Request) -> web.StreamResponse:
    fast = hit_response(request, request.app[SOURCE_KEY])
    if fast is not None:
        return fast
    if request.method == "OPTIONS":
        return preflight()
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method)
    key = media_key(request.raw_path)  # before anything touches storage
    source = request.app[SOURCE_KEY]
    entry = await _entry(source, key)

    fields = request_fields(request.headers)  # RFC 9110 §5.3: several lines are one list
    now, date = _now()
    ranged = request.method == "GET" and "Range" in fields  # §14.2: only GET has range semantics
    offered = entry.codings if not ranged else (IDENTITY,)
    rep = entry.representations[coding_for(fields.get("Accept-Encoding"), offered)]
    outcome = evaluate(request.method, fields, rep.etag, entry.last_modified, now)
    if outcome is Outcome.NOT_MODIFIED:
        return web.Response(status=304, headers={**rep.not_modified, "Date": date})
    if outcome is Outcome.PRECONDITION_FAILED:
        raise PreconditionFailed(f"the object's current ETag is {rep.etag}")

    # The Date that If-Range's strength is judged by (§8.8.2.2)
    headers = {**rep.headers, "Date": date}
    byte_range = None
    if ranged and range_applies(fields, rep.etag, entry.last_modified, now):
        byte_range = parse_range(fields["Range"], entry.size)  # raises RangeNotSatisfiable -> 416
    status = 200
    if byte_range is None:
        byte_range = ByteRange(0, entry.size - 1)
    else:
        status = 206
        headers["Content-Range"] = byte_range.content_range(entry.size)
    if rep.body is not None:
        body = rep.body if status == 200 else rep.body[byte_range.start : byte_range.end + 1]
        return web.Response(body=body, status=status, headers=headers)
    if entry.path is not None:
        try:
            file = entry.path.open("rb", buffering=0)  # here: a file gone since it was cached is a miss
        except FileNotFoundError:
            source.forget(key)
            return await serve_media(request)
        return FileSlice(file, byte_range, status, headers)
    chunks = None
    if request.method == "GET" and byte_range.length:  # opened here: a store error is still a 503
        loop = asyncio.get_running_loop()
        chunks = await loop.run_in_executor(
            None, source.store.get_stream, key, byte_range.start, byte_range.end
        )
    return StoreSlice(chunks, byte_range.length, status, headers)
