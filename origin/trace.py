"""What one request met on its way through the origin: read by its access-log line and metrics.

The code that learns something (the object source, the error middleware) writes it into the
request's ``Trace``; the access logger (``origin.observe``) reads it once the response is sent.
aiohttp runs each request in a task of its own, and a task runs in a copy of the context, so a
context variable is per request without passing the request down to code that never sees it.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

Cache = Literal["hot", "disk", "miss"]  # memory; the local disk cache (S3 only); the store


@dataclass(slots=True)
class Trace:
    cache: Cache | None = None  # None: no media object was looked up
    coalesced: bool = False  # waited for a load another request had started
    store_error: bool = False  # the store failed and the request was answered 503


_current: ContextVar[Trace] = ContextVar("vodpipe_trace")


def current() -> Trace:
    """This request's trace, made on first use."""
    trace = _current.get(None)
    if trace is None:
        trace = Trace()
        _current.set(trace)
    return trace


def begin() -> Trace:
    """A fresh trace for the request this context now serves (one that is not an aiohttp task)."""
    trace = Trace()
    _current.set(trace)
    return trace


def peek() -> Trace | None:
    """This request's trace if anything wrote one; never makes one."""
    return _current.get(None)
