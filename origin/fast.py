"""The origin's fast path: which plain requests it answers, and with what (no I/O of its own).

A plain request (``origin.http1``) for a ``/media/`` object is answered from the hot cache
(``origin.hot``): the representation's prebuilt head, then its held body or its file. Before it
is, the fast path makes sure the general path would answer exactly the same 200: the title needs
no signed URL (``origin.access``), the path is a valid key (``origin.paths``), the object is there.
Everything else (a signed title, an error to render, an object relayed from a remote store) is
the general path's, which ``origin.connection`` hands the connection to.

Why a path of its own: aiohttp spends about 100 µs of CPU on each request before and after the
handler (parsing into a Request, response objects, writer, task); for a 2 KB manifest that is
most of the cost, and it is what kept the origin at a fifth of nginx's rate on manifests.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import formatdate
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote

from aiohttp.http import SERVER_SOFTWARE
from multidict import MultiDict

from origin.access_log import record_of
from origin.http1 import fields
from origin.kinds import classify
from origin.media import SOURCE_KEY, coding_for
from origin.negotiation import IDENTITY
from origin.observe import OBSERVER_KEY, kind_label
from origin.paths import media_key
from origin.signed import SIGNING_KEY, title_of
from origin.trace import Trace, begin

if TYPE_CHECKING:
    from pathlib import Path

    from aiohttp import web

    from origin.access_log import AccessLog
    from origin.hot import HotEntry
    from origin.http1 import PlainRequest
    from origin.metrics import OriginMetrics
    from origin.signed import UrlSigning
    from origin.source import ObjectSource

HOT = Trace(cache="hot")  # what a hit's metrics record; never written to


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole 200 of a cached object: the head to send, then the body or the file."""

    head: bytes  # status line and fields, less Date, Server and the empty line
    body: bytes | None  # None: send ``path`` (``size`` bytes)
    path: Path | None
    size: int
    key: str
    kind: str  # the metrics label
    trace: Trace


_clock: tuple[int, bytes, bytes] = (-1, b"", b"")


def head_end(close: bool) -> bytes:
    """The fields every response ends its head with (as aiohttp sends them), and the empty line.

    Date is formatted once a second (RFC 9110 §6.6.1 asks for the time the response was made, to
    the second)."""
    global _clock
    second = int(time.time())
    if _clock[0] != second:
        fields = f"Date: {formatdate(second, usegmt=True)}\r\nServer: {SERVER_SOFTWARE}\r\n".encode()
        _clock = (second, fields + b"\r\n", fields + b"Connection: close\r\n\r\n")
    return _clock[2] if close else _clock[1]


class FastPath:
    """The app's state the fast path reads: the object source, signed URLs, metrics."""

    def __init__(
        self,
        source: ObjectSource,
        signing: UrlSigning | None,
        metrics: OriginMetrics | None,
        access_log: AccessLog | None = None,
    ) -> None:
        self.source = source
        self.signing = signing
        self.metrics = metrics
        self.access_log = access_log

    @classmethod
    def of(cls, app: web.Application) -> FastPath | None:
        """The fast path of an origin app; None for an app that serves no media."""
        source = app.get(SOURCE_KEY)
        if source is None:
            return None
        observer = app.get(OBSERVER_KEY)
        if observer is None:
            return cls(source, app.get(SIGNING_KEY), None)
        return cls(source, app.get(SIGNING_KEY), observer.metrics, observer.access_log)

    def hit(self, request: PlainRequest) -> Answer | None:
        """The answer from memory, with no await; None: ``load`` must look further."""
        path = request.target.partition("?")[0]  # the query is not part of the key
        if self.signing is not None:
            title = title_of(path)
            if title is None or self.signing.policies.known(title) is not False:
                return None
        # No key parsing on a hit: every cached key passed ``media_key`` when it was loaded, so a
        # path equal to one is valid, and any other spelling misses here and is judged by ``load``.
        entry = self.source.hot.get(path[1:])
        return None if entry is None else self.answer(request, entry, HOT)

    async def load(self, request: PlainRequest) -> Answer | None:
        """The answer once the signature policy and the object are loaded; None: the general path.

        Runs in a task of its own, so its trace (miss, coalesced) is this request's alone.
        """
        trace = begin()
        path = request.target.partition("?")[0]
        try:
            if self.signing is not None:
                title = title_of(path)
                if title is None or await self.signing.policies.requires_signature(title):
                    return None
            key = media_key(path)
            if key != path[1:]:  # a fragment, say: the general path decides what it means
                return None
            entry = await self.source.load(key, classify(key))
        except Exception:  # not found, store down, ...: the general path loads again and says so
            return None
        return self.answer(request, entry, trace)

    def answer(self, request: PlainRequest, entry: HotEntry, trace: Trace) -> Answer | None:
        if len(entry.codings) == 1:
            rep = entry.representations[IDENTITY]
        else:
            rep = entry.representations[coding_for(request.accept_encoding, entry.codings)]
        if rep.body is None and entry.path is None:
            return None  # relayed from a remote store: the general path streams it
        size = len(rep.body) if rep.body is not None else entry.size
        return Answer(rep.wire, rep.body, entry.path, size, entry.key, kind_label(entry.kind), trace)

    def record(self, answer: Answer, request: PlainRequest, seconds: float, client: str | None) -> None:
        """Count and log a response once its last byte is with the kernel (as the access-logger
        hook does for aiohttp's)."""
        sent = 0 if request.method == "HEAD" else answer.size
        if self.metrics is not None:
            self.metrics.record(200, answer.kind, sent, seconds, answer.trace)
        if self.access_log is not None:
            path, _, query = request.target.partition("?")
            line = record_of(
                request.method,
                unquote(path),
                MultiDict(parse_qsl(query, keep_blank_values=True)),
                fields(request.head),
                client,
                200,
                sent,
                seconds,
                answer.kind,
                answer.trace,
            )
            self.access_log.write(line)
