"""Sending a byte range of a local file on a connection with ``sendfile(2)`` (zero-copy).

The common case is one ``sendfile`` call straight on the connection's socket once the headers
are out: the kernel takes the whole range when the socket buffer has room (it autotunes up to
megabytes), so a segment costs one system call and no event-loop round trip. Only what did not
fit goes through ``loop.sendfile``, which pauses reading, waits for the socket to drain and goes
on; where the loop cannot (TLS, uvloop) the rest is copied through the writer, a chunk at a time.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

from aiohttp import web

from storage.base import STREAM_CHUNK

if TYPE_CHECKING:
    from io import FileIO

    from aiohttp.abc import AbstractStreamWriter
    from aiohttp.typedefs import LooseHeaders

    from origin.ranges import ByteRange


def send_now(transport: asyncio.BaseTransport, fd: int, offset: int, count: int) -> int:
    """How many bytes of ``fd[offset:offset+count]`` the socket took at once, without waiting.

    0 when the transport still holds unsent bytes (the headers must go first), is closing, has
    no plain socket (TLS), or the kernel refuses (a full buffer, a file system without sendfile,
    a reset): the caller sends the rest the slow way, which waits, falls back or raises.
    """
    if not isinstance(transport, asyncio.WriteTransport) or transport.is_closing():
        return 0
    sock = transport.get_extra_info("socket")
    if sock is None or transport.get_write_buffer_size() or transport.get_extra_info("sslcontext"):
        return 0
    try:
        return os.sendfile(sock.fileno(), fd, offset, count)
    except OSError:  # sendfile(2) sent nothing: EAGAIN, EINVAL, ENOSYS, EPIPE, ...
        return 0


class FileSlice(web.StreamResponse):
    """A byte range of an open local file, which it closes once sent (or on failure)."""

    def __init__(self, file: FileIO, byte_range: ByteRange, status: int, headers: LooseHeaders) -> None:
        super().__init__(status=status, headers=headers)
        self._file = file
        self._range = byte_range
        self.content_length = byte_range.length

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        with self._file as f:
            writer = await super().prepare(request)
            offset, left = self._range.start, self._range.length
            if request.method == "HEAD" or left == 0:
                await super().write_eof()
                return writer
            transport = request.transport
            if transport is None:
                raise ConnectionResetError("connection lost")
            sent = send_now(transport, f.fileno(), offset, left)
            if sent < left:
                await self._send_rest(transport, f, offset + sent, left - sent)
        await super().write_eof()
        return writer

    async def _send_rest(self, transport: asyncio.BaseTransport, f: FileIO, offset: int, left: int) -> None:
        try:
            await asyncio.get_running_loop().sendfile(transport, f, offset, left)  # type: ignore[arg-type]
        except NotImplementedError:  # TLS transports, uvloop: copy through the writer instead
            f.seek(offset)
            while left > 0 and (chunk := f.read(min(left, STREAM_CHUNK))):
                await self.write(chunk)  # waits for the client to drain: one chunk in memory
                left -= len(chunk)
