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
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

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


def access_record(
    request: web.BaseRequest, status: int, sent: int, seconds: float, kind: str, trace: Trace | None
) -> dict[str, Any]:
    """The fields of one line (pure: everything comes from the request and its outcome)."""
    headers = request.headers
    record: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
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


class AccessLog:
    """Writes lines to stderr or a file from a thread of its own; ``close`` flushes and stops it."""

    def __init__(self, target: str) -> None:
        self.logger = logging.getLogger(LOGGER)
        writer: logging.Handler
        if target == "stderr":
            writer = logging.StreamHandler(sys.stderr)
        else:
            writer = logging.FileHandler(target, encoding="utf-8")
        writer.setFormatter(logging.Formatter("%(message)s"))
        lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._handler = logging.handlers.QueueHandler(lines)
        self._listener = logging.handlers.QueueListener(lines, writer)
        self._writer = writer
        self.logger.addHandler(self._handler)
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False  # the lines are data, not diagnostics for the root logger
        self._listener.start()

    def write(self, record: dict[str, Any]) -> None:
        self.logger.info(json.dumps(record, separators=(",", ":")))

    def close(self) -> None:
        self._listener.stop()  # writes what is queued, then joins the thread
        self.logger.removeHandler(self._handler)
        self._writer.close()
