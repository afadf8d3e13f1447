"""The origin's connections as ``vodpipe serve`` listens: plain requests answered on the
connection (``origin.connection``), in order, the rest handed to aiohttp; files sent whole
however the socket takes them; keep-alive, Connection: close, EOF and graceful shutdown."""

from __future__ import annotations

import asyncio
import gzip
import logging
import os
import socket
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp.test_utils import TestServer

from origin.app import make_app
from origin.cache_policy import CachePolicy
from pipeline.serving import OriginServer, start_server
from storage.local import LocalStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

BASE = "media/demo/v1"
PLAYLIST = b"#EXTM3U\n#EXT-X-VERSION:7\n" + b"#EXTINF:4.000000,\nseg.m4s\n" * 50
INIT = b"init" * 100
SEGMENT = os.urandom(3 << 20)  # larger than a loopback socket takes at once
BIG = os.urandom(12 << 20)  # larger than socket buffers ever grow (tcp_wmem's maximum is 4 MiB)


class CountingStore(LocalStore):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.stats: list[str] = []

    def stat(self, key: str) -> Any:
        self.stats.append(key)
        return super().stat(key)


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    s = CountingStore(tmp_path / "data")
    s.put_bytes(f"{BASE}/master.m3u8", PLAYLIST)
    s.put_bytes(f"{BASE}/video/720p/init.mp4", INIT)
    s.put_bytes(f"{BASE}/video/720p/seg-00001.m4s", SEGMENT)
    s.put_bytes(f"{BASE}/video/720p/seg-00002.m4s", BIG)
    return s


@pytest.fixture
async def origin(store: CountingStore) -> AsyncIterator[OriginServer]:
    server = await start_server(make_app(store, CachePolicy()), "127.0.0.1", 0)
    yield server
    await server.close()


def get(path: str, *fields: str, method: str = "GET") -> bytes:
    lines = [f"{method} /{path} HTTP/1.1", "Host: origin", *fields]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def response(
    reader: asyncio.StreamReader, head_only: bool = False
) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")[:-2]
    fields = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines[1:])}
    body = b"" if head_only else await reader.readexactly(int(fields["content-length"]))
    return int(lines[0].split()[1]), fields, body


async def connect(
    server: OriginServer | TestServer, receive_buffer: int | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection; with ``receive_buffer``, a client whose small window fills at once (set
    before connecting, so the window is small from the handshake on)."""
    assert server.port is not None
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", server.port))
    return await asyncio.open_connection(sock=sock)


async def test_pipelined_requests_are_answered_in_order_on_the_connection(
    origin: OriginServer, store: CountingStore
) -> None:
    reader, writer = await connect(origin)
    writer.write(
        get(f"{BASE}/master.m3u8")  # a miss: loaded, then answered here
        + get(f"{BASE}/video/720p/seg-00001.m4s")  # sendfile, in pieces
        + get(f"{BASE}/video/720p/init.mp4", method="HEAD")
    )
    first = await response(reader)
    assert (first[0], first[2]) == (200, PLAYLIST)
    segment = await response(reader)
    assert (segment[0], segment[1]["content-type"]) == (200, "video/iso.segment")
    assert segment[2] == SEGMENT
    head = await response(reader, head_only=True)
    assert (head[0], head[1]["content-length"]) == (200, str(len(INIT)))
    loads = len(store.stats)
    writer.write(get(f"{BASE}/master.m3u8", "Accept-Encoding: gzip"))  # a hit
    coded = await response(reader)
    assert (coded[1]["content-encoding"], gzip.decompress(coded[2])) == ("gzip", PLAYLIST)
    assert len(store.stats) == loads  # answered from memory
    assert origin.fast is not None
    assert len(origin.fast.open) == 1  # never handed to aiohttp
    writer.close()


async def test_the_first_request_it_cannot_judge_hands_the_connection_to_aiohttp(
    origin: OriginServer,
) -> None:
    """After a ranged request (the general path's), everything on the connection is aiohttp's,
    answered in order, the bytes already buffered included."""
    reader, writer = await connect(origin)
    writer.write(get(f"{BASE}/master.m3u8"))
    assert (await response(reader))[2] == PLAYLIST
    assert origin.fast is not None
    assert len(origin.fast.open) == 1
    writer.write(get(f"{BASE}/master.m3u8", "Range: bytes=0-6") + get(f"{BASE}/master.m3u8") + get("healthz"))
    ranged = await response(reader)
    assert (ranged[0], ranged[1]["content-range"], ranged[2]) == (
        206,
        f"bytes 0-6/{len(PLAYLIST)}",
        b"#EXTM3U",
    )
    assert (await response(reader))[2] == PLAYLIST
    health = await response(reader)
    assert (health[0], health[1]["content-type"]) == (200, "application/json; charset=utf-8")
    assert origin.fast.open == set()
    writer.close()


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /media/demo/v1/master.m3u8 HTTP/1.0\r\n\r\n",
        b"GET /media/demo/v1/master.m3u8 HTTP/1.1\r\n\r\n",
        b"GET /media/demo/v1/master.m3u8 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET /media/demo/v1/master.m3u8 HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
        b"GET /media/demo/v1/master.m3u8 HTTP/1.1\r\nHost : a\r\n\r\n",
        b"GET /media/demo/v1/master.m3u8 HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n",
        b"GET /media/demo/v1/master.m3u8 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"GET http://a/media/demo/v1/master.m3u8 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /media/demo/v1/../v1/master.m3u8 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /media/demo/v1/master.m3u8#x HTTP/1.1\r\nHost: a\r\n\r\n",
        b"BREW /media/demo/v1/master.m3u8 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /media/demo/v1/missing.m3u8 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /media/demo/v1/notes.txt HTTP/1.1\r\nHost: a\r\n\r\n",
    ],
    ids=[
        "http-1.0",
        "no-host",
        "two-hosts",
        "obs-fold",
        "space-before-colon",
        "bad-content-length",
        "chunked",
        "absolute-form",
        "dot-segment",
        "fragment",
        "unknown-method",
        "missing",
        "not-media",
    ],
)
async def test_requests_it_leaves_alone_get_what_aiohttp_alone_answers(
    store: CountingStore, origin: OriginServer, raw: bytes
) -> None:
    """The same bytes sent to aiohttp alone and to the fast path get the same status line and
    Content-Type: being strict costs the fast path speed, never an answer."""
    alone = TestServer(make_app(store, CachePolicy()))
    await alone.start_server()
    try:
        answers = []
        for server in (alone, origin):
            reader, writer = await connect(server)
            writer.write(get(f"{BASE}/master.m3u8"))  # warm, so a hit is possible
            await response(reader)
            writer.write(raw)
            status, fields, _ = await response(reader)
            answers.append((status, fields.get("content-type")))
            writer.close()
        assert answers[0] == answers[1]
    finally:
        await alone.close()


async def test_a_file_the_socket_takes_in_pieces_arrives_whole(
    origin: OriginServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sendfile(2) that takes a little and then reports a full socket: the rest is sent when the
    socket has room, every byte once, and the next request is answered after it."""
    calls: list[int] = []
    waits: list[int] = []  # the full sockets this test made up (a real one may come on top)
    original = os.sendfile

    def small_then_full(out_fd: int, in_fd: int, offset: int, count: int) -> int:
        calls.append(offset)
        if len(calls) % 2 == 0:
            waits.append(offset)
            raise BlockingIOError
        return original(out_fd, in_fd, offset, min(count, 64 << 10))

    monkeypatch.setattr(os, "sendfile", small_then_full)
    reader, writer = await connect(origin)
    writer.write(get(f"{BASE}/video/720p/seg-00001.m4s") + get(f"{BASE}/master.m3u8"))
    assert (await response(reader))[2] == SEGMENT
    assert (await response(reader))[2] == PLAYLIST
    pieces = len(SEGMENT) // (64 << 10)
    assert len(waits) >= pieces - 1  # it waited for room between every two pieces
    writer.close()


async def test_an_empty_file_is_a_head_alone(origin: OriginServer, store: CountingStore) -> None:
    store.put_bytes(f"{BASE}/video/720p/seg-00003.m4s", b"")
    reader, writer = await connect(origin)
    writer.write(get(f"{BASE}/video/720p/seg-00003.m4s") + get(f"{BASE}/video/720p/seg-00003.m4s"))
    for _ in range(2):  # the miss, then the hit
        status, fields, body = await response(reader)
        assert (status, fields["content-length"], body) == (200, "0", b"")
    writer.close()


async def test_a_slow_reader_gets_the_whole_file(origin: OriginServer) -> None:
    reader, writer = await connect(origin, receive_buffer=64 << 10)
    writer.write(get(f"{BASE}/video/720p/seg-00001.m4s"))
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    received = bytearray()
    while len(received) < len(SEGMENT):
        received += await reader.read(32 << 10)
        await asyncio.sleep(0)
    assert bytes(received) == SEGMENT
    writer.close()


async def test_connection_close_and_eof_end_the_connection_after_the_answer(origin: OriginServer) -> None:
    reader, writer = await connect(origin)
    writer.write(get(f"{BASE}/master.m3u8", "Connection: close"))
    status, fields, body = await response(reader)
    assert (status, fields["connection"], body) == (200, "close", PLAYLIST)
    assert await reader.read() == b""  # closed by the origin
    writer.close()

    reader, writer = await connect(origin)
    writer.write(get(f"{BASE}/master.m3u8") + get(f"{BASE}/video/720p/seg-00001.m4s"))
    writer.write_eof()  # the client asks two things and says it is done sending
    assert (await response(reader))[2] == PLAYLIST
    assert (await response(reader))[2] == SEGMENT
    assert await reader.read() == b""
    writer.close()


async def test_a_client_gone_mid_file_leaves_nothing_behind(
    origin: OriginServer, caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = await connect(origin, receive_buffer=64 << 10)
    writer.write(get(f"{BASE}/video/720p/seg-00001.m4s"))
    await reader.readuntil(b"\r\n\r\n")
    writer.transport.abort()
    assert origin.fast is not None
    while origin.fast.open:  # a handshake with the registry: the origin saw the reset
        await asyncio.sleep(0.01)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    reader, writer = await connect(origin)  # and it still serves
    writer.write(get(f"{BASE}/master.m3u8"))
    assert (await response(reader))[2] == PLAYLIST
    writer.close()


async def test_shutdown_lets_a_file_in_flight_finish_and_closes_idle_connections(
    store: CountingStore,
) -> None:
    origin = await start_server(make_app(store, CachePolicy()), "127.0.0.1", 0)
    idle_reader, idle_writer = await connect(origin)
    idle_writer.write(get(f"{BASE}/master.m3u8"))
    await response(idle_reader)
    busy_reader, busy_writer = await connect(origin, receive_buffer=64 << 10)
    busy_writer.write(get(f"{BASE}/video/720p/seg-00002.m4s"))
    await busy_reader.readuntil(b"\r\n\r\n")  # the segment is on its way, most of it unsent
    port = origin.port
    closing = asyncio.ensure_future(origin.close())
    assert await idle_reader.read() == b""  # the idle one is closed at once
    idle_writer.close()
    assert not closing.done()
    assert await busy_reader.readexactly(len(BIG)) == BIG  # the busy one finishes
    await closing
    busy_writer.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)  # no longer listening


async def test_an_idle_connection_is_closed_after_the_keepalive_timeout(store: CountingStore) -> None:
    origin = await start_server(make_app(store, CachePolicy()), "127.0.0.1", 0, keepalive=0.2)
    try:
        reader, writer = await connect(origin)
        writer.write(get(f"{BASE}/master.m3u8"))
        await response(reader)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
    finally:
        await origin.close()
