"""The origin's access log: one JSON object per response, on the logger ``vodpipe.access``.

Each line carries what a QoE pipeline joins on: the request, its outcome, where the object came
from (hot/disk/miss), and the player's CMCD (CTA-5004). The path is logged without its query:
queries carry signatures and tokens, and CMCD is logged parsed. The line is made on the event
loop; a ``QueueHandler`` hands it to a thread that writes it, so a slow disk or a full pipe never
blocks serving.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import queue
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from origin.cmcd import CmcdError, from_request

if TYPE_CHECKING:
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
    """The fields of one line (pure: everything comes from the request and its outcome)."""
    headers = request.headers
    record: dict[str, Any] = {
        "time": timestamp(time.time()),
        "method": request.method,
        "path": request.path,
        "status": status,
        "bytes": sent,
        "ms": round(seconds * 1000, 3),
        "kind": kind,
        "cache": trace.cache if trace is not None else None,
        "range": headers.get("Range"),
        "ua": headers.get("User-Agent"),
        "client": request.remote,
    }
    if trace is not None and trace.coalesced:
        record["coalesced"] = True
    try:
        cmcd = from_request(request.query, headers)
    except CmcdError as exc:  # a player's bad data never fails its request: logged as invalid
        record["cmcd_invalid"] = exc.message
    else:
        if cmcd is not None:
            record["cmcd"] = {k: cmcd[k] for k in CMCD_LOGGED if k in cmcd}
    return record


class _Lines(logging.handlers.QueueHandler):
    """Puts the record on the queue as it is: the line is already a finished string (no copy)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class _Writer(logging.Handler):
    """In the writer thread: appends each line to a buffered stream, flushed whenever the queue
    is drained, so a burst of lines costs one write call rather than one per line."""

    def __init__(self, stream: TextIO, lines: queue.SimpleQueue[logging.LogRecord]) -> None:
        super().__init__()
        self.stream = stream
        self._lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.stream.write(f"{record.msg}\n")
        if self._lines.empty():
            self.stream.flush()


class AccessLog:
    """Writes lines to stderr or a file from a thread of its own; ``close`` flushes and stops it."""

    def __init__(self, target: str) -> None:
        self.logger = logging.getLogger(LOGGER)
        self._file = None if target == "stderr" else open(target, "a", encoding="utf-8")  # noqa: SIM115
        lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._writer = _Writer(self._file or sys.stderr, lines)
        self._handler = _Lines(lines)
        self._listener = logging.handlers.QueueListener(lines, self._writer)
        self.logger.addHandler(self._handler)
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False  # the lines are data, not diagnostics for the root logger
        self._listener.start()

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"))
        # A record made here rather than by logger.info: that would walk the stack for the caller.
        self.logger.handle(logging.LogRecord(LOGGER, logging.INFO, __file__, 0, line, None, None))

    def close(self) -> None:
        self._listener.stop()  # writes what is queued, then joins the thread
        self.logger.removeHandler(self._handler)
        self._writer.stream.flush()
        if self._file is not None:
            self._file.close()
