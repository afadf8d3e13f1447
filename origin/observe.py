"""Observability wiring: after each response, count it (``/metrics``) and log it (access log).

Both happen in aiohttp's access-logger hook, which runs once the response's last byte has been
handed to the transport (sendfile included), so the latency covers the whole send; a middleware
returns before a streamed body is sent. The hook is given to the ``AppRunner``
(``access_log_class=OriginAccessLogger``, as ``pipeline.serving`` does); an app without an
``Observer`` is not observed.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from origin.access_log import access_record
from origin.kinds import CacheClass, classify
from origin.trace import peek
from vodpipe.errors import ObjectNotFoundError, UnauthorizedError

if TYPE_CHECKING:
    from origin.access_log import AccessLog
    from origin.kinds import Kind
    from origin.metrics import OriginMetrics


@dataclass(frozen=True)
class Observer:
    metrics: OriginMetrics | None = None  # None: no /metrics route and nothing counted
    access_log: AccessLog | None = None  # None: no access log
    metrics_token: bytes | None = None  # when set, /metrics wants ``Authorization: Bearer <it>``


OBSERVER_KEY = web.AppKey("observer", Observer)
ROUTE_KINDS = {"play": "player", "license": "license", "healthz": "health", "metrics": "metrics"}
NO_BODY = frozenset({204, 304})  # RFC 9110 §6.4.1


def kind_label(kind: Kind) -> str:
    """The ``kind`` label of a media object: manifest, init or segment."""
    if kind.cache is CacheClass.MANIFEST:
        return "manifest"
    return "init" if kind.held else "segment"


def kind_of(path: str) -> str:
    """The ``kind`` label of a request path: manifest, init, segment for media; else the route."""
    if path.startswith("/media/"):
        try:
            return kind_label(classify(path))
        except ObjectNotFoundError:
            return "other"
    return ROUTE_KINDS.get(path[1:].split("/", 1)[0], "other")


def body_bytes(method: str, response: web.StreamResponse) -> int:
    """The body bytes a response sent: its Content-Length (sendfile bypasses aiohttp's byte
    count), nothing for HEAD, 204 and 304; a response without a length counts what was written."""
    if method == "HEAD" or response.status in NO_BODY:
        return 0
    length = response.content_length
    return length if length is not None else response.body_length


class OriginAccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if not isinstance(request, web.Request):
            return
        observer = request.app.get(OBSERVER_KEY)
        if observer is None or (observer.metrics is None and observer.access_log is None):
            return
        kind = kind_of(request.path)
        sent = body_bytes(request.method, response)
        trace = peek()
        if observer.metrics is not None:
            observer.metrics.record(response.status, kind, sent, time, trace)
        if observer.access_log is not None:
            observer.access_log.write(access_record(request, response.status, sent, time, kind, trace))

    @property
    def enabled(self) -> bool:
        return True  # the default asks the aiohttp.access logger's level; the Observer decides here


async def metrics_endpoint(request: web.Request) -> web.Response:
    observer = request.app[OBSERVER_KEY]
    assert observer.metrics is not None  # the route exists only with metrics
    if observer.metrics_token is not None:
        sent = request.headers.get("Authorization")
        scheme, _, token = (sent or "").partition(" ")
        # Compared in constant time: the response time must not tell how much of a guess matched.
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode(), observer.metrics_token
        ):
            # RFC 6750 §3.1: no credentials at all get a bare challenge, wrong ones invalid_token.
            raise UnauthorizedError(
                "GET /metrics needs Authorization: Bearer <VODPIPE_METRICS_TOKEN>",
                error=None if sent is None else "invalid_token",
            )
    return web.Response(
        body=observer.metrics.exposition(),
        headers={
            "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
            "Cache-Control": "no-store",  # counters are live: no edge may cache them
        },
    )


def add_observability(app: web.Application, observer: Observer) -> None:
    """Mount ``/metrics`` (when metrics are on) and let the access logger find the observer."""
    app[OBSERVER_KEY] = observer
    if observer.metrics is not None:
        app.router.add_get("/metrics", metrics_endpoint)
    if observer.access_log is not None:
        access_log = observer.access_log

        async def close_log(app: web.Application) -> None:
            access_log.close()  # the lines still queued are written first

        app.on_cleanup.append(close_log)
