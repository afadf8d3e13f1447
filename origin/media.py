"""Serving one ``media/`` object: validators, conditional and range requests, gzip, sendfile.

The decisions (which key, which representation, 200/206/304/412/416) are made by pure functions
in ``paths``, ``kinds``, ``fields``, ``negotiation``, ``conditional`` and ``ranges``; this module
only does the I/O.
"""

from __future__ import annotations

import asyncio
import gzip
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING

from aiohttp import web

from origin.conditional import Outcome, evaluate, range_applies
from origin.fields import request_fields
from origin.kinds import classify
from origin.negotiation import IDENTITY, choose_coding, parse_accept_encoding
from origin.paths import media_key
from origin.problems import POLICY_KEY
from origin.ranges import ByteRange, parse_range
from origin.relay import StoreSlice
from storage.base import ObjectStore
from vodpipe.errors import VodpipeError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from aiohttp.abc import AbstractStreamWriter

STORE_KEY = web.AppKey("store", ObjectStore)
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Length, Content-Range, ETag, Accept-Ranges, Date, Age",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Range, If-None-Match, If-Modified-Since, If-Range, Authorization",
    "Access-Control-Max-Age": "86400",
}


class PreconditionFailed(VodpipeError):
    status = 412
    problem_type = "https://vodpipe.dev/problems/precondition-failed"
    title = "Precondition failed"


class MethodNotAllowed(web.HTTPMethodNotAllowed):
    def __init__(self, method: str) -> None:
        super().__init__(method, ["GET", "HEAD", "OPTIONS"], text=f"{method} is not allowed here")


# The codings a compressible object can be sent in, best first; identity is always last.
ENCODERS: dict[str, Callable[[bytes], bytes]] = {"gzip": lambda data: gzip.compress(data, mtime=0)}


class FileSlice(web.StreamResponse):
    """A byte range of a local file, sent with ``loop.sendfile`` (zero-copy where the OS can)."""

    def __init__(self, path: Path, byte_range: ByteRange, status: int, headers: dict[str, str]) -> None:
        super().__init__(status=status, headers=headers)
        self._path = path
        self._range = byte_range
        self.content_length = byte_range.length

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        writer = await super().prepare(request)
        if request.method == "HEAD" or self._range.length == 0:
            await super().write_eof()
            return writer
        loop = asyncio.get_running_loop()
        transport = request.transport
        if transport is None:
            raise ConnectionResetError("connection lost")
        with self._path.open("rb") as f:
            try:
                await loop.sendfile(transport, f, self._range.start, self._range.length)
            except NotImplementedError:  # e.g. TLS transports: copy through the writer instead
                f.seek(self._range.start)
                await self.write(f.read(self._range.length))
        await super().write_eof()
        return writer


def preflight() -> web.Response:
    return web.Response(status=204, headers=PREFLIGHT_HEADERS | {"Cache-Control": "public, max-age=86400"})


async def serve_media(request: web.Request) -> web.StreamResponse:
    if request.method == "OPTIONS":
        return preflight()
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method)
    key = media_key(request.raw_path)  # before anything touches storage
    kind = classify(key)
    store = request.app[STORE_KEY]
    loop = asyncio.get_running_loop()
    info = await loop.run_in_executor(None, store.stat, key)

    fields = request_fields(request.headers)  # RFC 9110 §5.3: several lines are one list
    now = datetime.now(UTC).replace(microsecond=0)
    ranged = request.method == "GET" and "Range" in fields  # §14.2: only GET has range semantics
    offered = (*ENCODERS, IDENTITY) if kind.compressible and not ranged else (IDENTITY,)
    coding = choose_coding(parse_accept_encoding(fields.get("Accept-Encoding")), offered)
    suffix = "" if coding == IDENTITY else f"-{coding}"
    etag = f'"{info.etag[:40]}{suffix}"'  # one strong tag per representation
    headers = {
        "Content-Type": kind.content_type,
        "ETag": etag,
        "Last-Modified": format_datetime(info.last_modified, usegmt=True),
        "Date": format_datetime(now, usegmt=True),  # the Date that If-Range's strength is judged by
        **request.app[POLICY_KEY].for_content(kind.cache),
    }
    if kind.compressible:
        headers["Vary"] = "Accept-Encoding"
    outcome = evaluate(request.method, fields, etag, info.last_modified, now)
    if outcome is Outcome.NOT_MODIFIED:
        headers.pop("Content-Type")
        return web.Response(status=304, headers=headers)
    if outcome is Outcome.PRECONDITION_FAILED:
        raise PreconditionFailed(f"the object's current ETag is {etag}")

    if coding != IDENTITY:
        body = ENCODERS[coding](await loop.run_in_executor(None, store.get_bytes, key))
        headers["Content-Encoding"] = coding
        return web.Response(body=body, headers=headers)

    headers["Accept-Ranges"] = "bytes"
    byte_range = None
    if ranged and range_applies(fields, etag, info.last_modified, now):
        byte_range = parse_range(fields["Range"], info.size)  # raises RangeNotSatisfiable -> 416
    status = 200
    if byte_range is None:
        byte_range = ByteRange(0, info.size - 1)
    else:
        status = 206
        headers["Content-Range"] = byte_range.content_range(info.size)
    path = store.local_path(key)
    if path is not None:
        return FileSlice(path, byte_range, status, headers)
    chunks = None
    if request.method == "GET" and byte_range.length:  # opened here: a store error is still a 503
        chunks = await loop.run_in_executor(None, store.get_stream, key, byte_range.start, byte_range.end)
    return StoreSlice(chunks, byte_range.length, status, headers)
