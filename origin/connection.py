"""An origin connection: plain requests for cached objects answered on it, the rest by aiohttp.

Every connection starts as a ``FastConnection``. While its requests are plain
(``origin.http1``) and the fast path has their answer (``origin.fast``), each is answered here:
the prebuilt head and the held body in one write, or the head and then the file with
``sendfile(2)``, one request after another, in order. The first request that is not hands the
whole connection to aiohttp for good: its request handler is given the transport and every byte
not yet answered, and from then on it alone reads and writes (``asyncio.Transport.set_protocol``).

A file's head is sent with ``MSG_MORE`` (the kernel holds it for the body's first packet) and
the file with ``os.sendfile`` straight on the socket; when the socket is full, a duplicate of its
descriptor waits in the loop's selector for room (the transport owns the original's
registration), so the rest of a segment costs one system call per wake-up and no task.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
from typing import TYPE_CHECKING, cast

from origin.fast import head_end
from origin.http1 import INCOMPLETE, NOT_PLAIN, read_request
from storage.base import STREAM_CHUNK

if TYPE_CHECKING:
    from collections.abc import Callable
    from io import FileIO

    from origin.fast import Answer, FastPath
    from origin.http1 import PlainRequest

READ_AHEAD = 64 << 10  # bytes of unanswered requests held before reading pauses
NO_SENDFILE = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSOCK})


class Connections:
    """The fast connections of one listening socket, for a graceful shutdown."""

    def __init__(self) -> None:
        self.open: set[FastConnection] = set()
        self._empty: asyncio.Future[None] | None = None

    def add(self, connection: FastConnection) -> None:
        self.open.add(connection)

    def discard(self, connection: FastConnection) -> None:
        self.open.discard(connection)
        if not self.open and self._empty is not None and not self._empty.done():
            self._empty.set_result(None)

    async def close(self, grace: float) -> None:
        """Close idle connections now and the others once their response is sent; after
        ``grace`` seconds, abort what is left. The listening socket must be closed first."""
        for connection in list(self.open):
            connection.close_when_idle()
        if self.open:
            self._empty = asyncio.get_running_loop().create_future()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._empty), grace)
        for connection in list(self.open):
            connection.abort()


class FastConnection(asyncio.Protocol):
    def __init__(
        self,
        fast: FastPath,
        general: Callable[[], asyncio.Protocol],
        connections: Connections,
        keepalive: float,
    ) -> None:
        self._fast = fast
        self._general = general  # makes aiohttp's request handler
        self._connections = connections
        self._keepalive = keepalive
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = b""  # bytes received and not yet answered
        self._busy = False  # a request is being answered: a load, or a file still being sent
        self._no_more = False  # answer no further request: Connection: close, or shutting down
        self._eof = False  # the client sends no more: answer what it sent, then close
        self._writing_paused = False
        self._reading_paused = False
        self._last = 0.0  # when the last response was sent (for the keep-alive timeout)
        self._idle: asyncio.TimerHandle | None = None
        self._load: asyncio.Task[None] | None = None
        self._socket = -1
        self._client: str | None = None  # the peer's address, for the access log
        self._watching = False
        # A duplicate of the connection's socket (made on the first file): it waits in the
        # selector for room (the transport owns the original's registration) and sends a file's
        # head with MSG_MORE.
        self._twin_socket: socket.socket | None = None
        self._copy = False  # sendfile refused: the file is copied through the transport
        # The file being sent: the file, the next offset, the bytes left, what to record at the end
        self._file: FileIO | None = None
        self._offset = 0
        self._left = 0
        self._sending: tuple[Answer, PlainRequest, float] | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast("asyncio.Transport", transport)
        self._socket = transport.get_extra_info("socket").fileno()
        peer = transport.get_extra_info("peername")
        self._client = peer[0] if isinstance(peer, tuple) else None
        self._last = self._loop.time()
        self._idle = self._loop.call_at(self._last + self._keepalive, self._check_idle)
        self._connections.add(self)

    def data_received(self, data: bytes) -> None:
        self._buffer = self._buffer + data if self._buffer else data
        if len(self._buffer) > READ_AHEAD and self._transport is not None and not self._reading_paused:
            self._transport.pause_reading()  # a client sending faster than it reads
            self._reading_paused = True
        self._serve()

    def eof_received(self) -> bool:
        self._eof = True
        self._serve()
        return True  # the transport stays open until what was asked is answered

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._stop_file()
        self._close_twin()
        if self._idle is not None:
            self._idle.cancel()
        if self._load is not None:
            self._load.cancel()
        self._connections.discard(self)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        if self._file is not None:
            self._writable()  # a file being copied goes on
        else:
            self._serve()

    # shutdown

    def close_when_idle(self) -> None:
        self._no_more = True
        if not self._busy and self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # requests

    def _serve(self) -> None:
        """Answer the buffered requests in order while they are plain and answered from memory;
        close when nothing more is to be answered."""
        while self._buffer and self._transport and not (self._busy or self._writing_paused or self._no_more):
            request = read_request(self._buffer)
            if request is INCOMPLETE:
                break
            if request is NOT_PLAIN:
                self._hand_over()
                return
            assert not isinstance(request, str)
            started = self._loop.time()
            answer = self._fast.hit(request)
            if answer is None:
                self._busy = True
                self._load = self._loop.create_task(self._answer_loaded(request, started))
                return
            if not self._send(request, answer, started):
                return
        transport = self._transport
        if transport is None or self._busy:
            return
        if self._no_more or (self._eof and not self._writing_paused):
            transport.close()  # once what is queued is written
        elif self._reading_paused and len(self._buffer) <= READ_AHEAD:
            transport.resume_reading()
            self._reading_paused = False

    async def _answer_loaded(self, request: PlainRequest, started: float) -> None:
        answer = await self._fast.load(request)
        self._load = None
        self._busy = False
        if self._transport is None:
            return
        if answer is None:
            self._hand_over()
        elif self._send(request, answer, started):
            self._serve()

    def _send(self, request: PlainRequest, answer: Answer, started: float) -> bool:
        """Write the answer, or start sending its file; False when the connection was handed over."""
        transport = self._transport
        assert transport is not None
        head = answer.head + head_end(request.close)
        if request.method == "HEAD" or answer.body is not None:
            self._buffer = self._buffer[request.size :]
            transport.write(head if request.method == "HEAD" or answer.body is None else head + answer.body)
            self._responded(request, answer, started)
            return True
        assert answer.path is not None
        try:
            file = answer.path.open("rb", buffering=0)
        except FileNotFoundError:  # gone since it was cached: the general path forgets and looks again
            self._fast.source.forget(answer.key)
            self._hand_over()
            return False
        self._buffer = self._buffer[request.size :]
        self._write_head(transport, head, answer.size)
        self._busy = True
        self._file, self._offset, self._left = file, 0, answer.size
        self._sending = (answer, request, started)
        self._no_more = self._no_more or request.close
        self._send_file()
        return True

    def _twin(self) -> socket.socket:
        if self._twin_socket is None:
            self._twin_socket = socket.socket(fileno=os.dup(self._socket))
        return self._twin_socket

    def _close_twin(self) -> None:
        if self._twin_socket is not None:
            self._twin_socket.close()
            self._twin_socket = None

    def _write_head(self, transport: asyncio.Transport, head: bytes, size: int) -> None:
        """A file response's head, sent with MSG_MORE so that the kernel holds it for the body's
        first packet (tcp(7)) rather than sending it alone: a small packet of its own costs the
        client an extra segment to acknowledge before the body flows, and on loopback it cost a
        tenth to a quarter of the segment rate (``vodpipe bench origin``, 2 workers: 0.74-0.81x
        nginx without it, 1.04-1.09x with it)."""
        sent = 0
        if size and not transport.get_write_buffer_size():
            try:
                sent = self._twin().send(head, socket.MSG_MORE)
            except (BlockingIOError, InterruptedError):
                sent = 0
        if sent < len(head):
            transport.write(head[sent:])

    def _responded(self, request: PlainRequest, answer: Answer, started: float) -> None:
        self._last = self._loop.time()
        self._fast.record(answer, request, self._last - started, self._client)
        self._no_more = self._no_more or request.close

    # sendfile

    def _send_file(self) -> None:
        """Send what the socket takes now; wait for room, or finish the response."""
        transport = self._transport
        file = self._file
        if transport is None or file is None:
            return
        if transport.get_write_buffer_size():  # the head is still queued: it goes first
            self._wait_writable()
            return
        try:
            if self._copy:
                self._copy_file(transport, file)
            while self._left and not self._copy:
                sent = os.sendfile(self._socket, file.fileno(), self._offset, self._left)
                if sent == 0:
                    raise ConnectionError("the file ended early")
                self._offset += sent
                self._left -= sent
        except BlockingIOError:
            self._wait_writable()
            return
        except OSError as exc:
            if exc.errno in NO_SENDFILE and not self._copy:
                self._copy = True  # a file system (or socket) without sendfile: copy it instead
                self._send_file()
                return
            self._stop_file()  # the client went away, or the file shrank: nothing more can be sent
            transport.abort()
            return
        if self._left:  # copying, and the transport asked for a pause: resume_writing goes on
            return
        sending = self._sending
        self._stop_file()
        self._busy = False
        if sending is not None:
            self._responded(sending[1], sending[0], sending[2])

    def _copy_file(self, transport: asyncio.Transport, file: FileIO) -> None:
        """Write the file through the transport a chunk at a time, until it asks for a pause."""
        file.seek(self._offset)
        while self._left and not self._writing_paused:
            chunk = file.read(min(self._left, STREAM_CHUNK))
            if not chunk:
                raise ConnectionError("the file ended early")
            transport.write(chunk)
            self._offset += len(chunk)
            self._left -= len(chunk)

    def _writable(self) -> None:
        self._send_file()
        if not self._busy:
            self._serve()

    def _wait_writable(self) -> None:
        if not self._watching:
            self._loop.add_writer(self._twin().fileno(), self._writable)
            self._watching = True

    def _stop_file(self) -> None:
        if self._watching and self._twin_socket is not None:
            self._loop.remove_writer(self._twin_socket.fileno())
        self._watching = False
        if self._file is not None:
            self._file.close()
            self._file = None
        self._sending = None

    # keep-alive and hand-over

    def _check_idle(self) -> None:
        if self._transport is None:
            return
        due = self._last + self._keepalive
        if self._busy or self._loop.time() < due:
            self._idle = self._loop.call_at(max(due, self._loop.time() + 1.0), self._check_idle)
        else:
            self._transport.close()

    def _hand_over(self) -> None:
        """From now on aiohttp serves this connection, starting with the bytes not yet answered."""
        transport = self._transport
        if transport is None:
            return
        self._transport = None
        if self._idle is not None:
            self._idle.cancel()
        self._close_twin()
        self._connections.discard(self)
        if self._reading_paused:
            transport.resume_reading()
        handler = self._general()
        transport.set_protocol(handler)
        handler.connection_made(transport)
        if self._writing_paused:
            handler.pause_writing()
        buffered, self._buffer = self._buffer, b""
        if buffered:
            handler.data_received(buffered)
        if self._eof:
            handler.eof_received()
