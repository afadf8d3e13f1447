"""The origin's access log: one JSON object per response, on the logger ``vodpipe.access``.

Each line carries what a QoE pipeline joins on: the request, its outcome, where the object came
from (hot/disk/miss), and the player's CMCD (CTA-5004). The path is logged without its query:
queries carry signatures and tokens, and CMCD is logged parsed. The line is made on the event
loop; a thread of its own writes it, so a slow disk or a full pipe never blocks serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import select
import sys
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from origin.cmcd import CmcdError, from_request

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiohttp import web

    from origin.trace import Trace

LOGGER = "vodpipe.access"
# The CMCD keys each line carries under "cmcd" (CTA-5004 Table 1); custom keys are dropped.
CMCD_LOGGED = (
    "sid",
    "cid",
    "bl",
    "mtp",
    "br",
    "d",
    "ot",
    "sf",
    "st",
    "su",
    "rtp",
    "nor",
    "bs",
    "dl",
    "pr",
    "tb",
    "v",
)


# Made once: json.dumps with options builds a new encoder on every call.
_encode = json.JSONEncoder(separators=(",", ":")).encode
_second: tuple[int, str] = (-1, "")


def timestamp(now: float) -> str:
    """RFC 3339 UTC with milliseconds; the date and time are formatted once per second."""
    global _second
    second = int(now)
    if _second[0] != second:
        _second = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{_second[1]}.{int((now - second) * 1000):03d}Z"


def access_record(
    request: web.BaseRequest, status: int, sent: int, seconds: float, kind: str, trace: Trace | None
) -> dict[str, Any]:
    """The fields of one line for a request aiohttp served."""
    return record_of(
        request.method,
        request.path,
        request.query,
        request.headers,
        request.remote,
        status,
        sent,
        seconds,
        kind,
        trace,
    )


def record_of(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    client: str | None,
    status: int,
    sent: int,
    seconds: float,
    kind: str,
    trace: Trace | None,
) -> dict[str, Any]:
    """The fields of one line (pure: everything comes from the request and its outcome).

    ``path`` is the decoded path without its query; ``query`` the decoded query arguments.
    """
    record: dict[str, Any] = {
        "time": timestamp(time.time()),
        "method": method,
        "path": path,
        "status": status,
        "bytes": sent,
        "ms": round(seconds * 1000, 3),
        "kind": kind,
        "cache": trace.cache if trace is not None else None,
        "range": headers.get("Range"),
        "ua": headers.get("User-Agent"),
        "client": client,
    }
    if trace is not None and trace.coalesced:
        record["coalesced"] = True
    try:
        cmcd = from_request(query, headers)
    except CmcdError as exc:  # a player's bad data never fails its request: logged as invalid
        record["cmcd_invalid"] = exc.message
    else:
        if cmcd is not None:
            record["cmcd"] = {k: cmcd[k] for k in CMCD_LOGGED if k in cmcd}
    return record


class _Writer(logging.Handler):
    """Collects lines; the thread's ``flush`` after each batch writes them in whole lines.

    Several workers may append to one file or share one stderr pipe: each ``write`` call is whole
    lines and at most ``PIPE_BUF`` bytes (unless one line is longer), which POSIX makes atomic on
    a pipe, and ``O_APPEND`` on a file, so lines from different processes never interleave.
    """

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd
        self._lines: list[bytes] = []

    def emit(self, record: logging.LogRecord) -> None:
        self._lines.append(f"{record.getMessage()}\n".encode())

    def flush(self) -> None:
        chunk: list[bytes] = []
        size = 0
        for line in self._lines:
            if chunk and size + len(line) > select.PIPE_BUF:
                _write_all(self.fd, b"".join(chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        if chunk:
            _write_all(self.fd, b"".join(chunk))
        self._lines = []


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class AccessLog:
    """Writes lines to stderr or a file, from a thread of its own; ``close`` flushes and stops it.

    The event loop only makes each line and appends it to a list; once per loop iteration the
    list goes to the thread in one hand-off, which passes each line to the ``vodpipe.access``
    logger (so other handlers can be attached) and flushes once per batch. One wake-up of the
    thread per batch rather than per line keeps it from fighting the loop for the GIL.
    """

    def __init__(self, target: str) -> None:
        self.logger = logging.getLogger(LOGGER)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        self._fd = None if target == "stderr" else os.open(target, flags, 0o640)
        self._handler = _Writer(sys.stderr.fileno() if self._fd is None else self._fd)
        self.logger.addHandler(self._handler)
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False  # the lines are data, not diagnostics for the root logger
        self._batch: list[str] = []
        self._batches: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._drain, name="vodpipe-access-log", daemon=True)
        self._thread.start()

    def write(self, record: dict[str, Any]) -> None:
        self._batch.append(_encode(record))
        if len(self._batch) == 1:
            asyncio.get_running_loop().call_soon(self._hand_off)

    def _hand_off(self) -> None:
        if self._batch:
            batch, self._batch = self._batch, []
            self._batches.put(batch)

    def _drain(self) -> None:
        while (batch := self._batches.get()) is not None:
            for line in batch:
                # A record made here rather than by logger.info, which would walk the stack.
                self.logger.handle(logging.LogRecord(LOGGER, logging.INFO, __file__, 0, line, None, None))
            self._handler.flush()

    def close(self) -> None:
        self._hand_off()
        self._batches.put(None)
        self._thread.join()  # every line handed off is written
        self.logger.removeHandler(self._handler)
        if self._fd is not None:
            os.close(self._fd)
