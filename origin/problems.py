"""RFC 9457 problem responses, and the middleware that turns every error into one."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from origin.cache_policy import CachePolicy
from origin.ranges import RangeNotSatisfiable
from origin.trace import current
from vodpipe.errors import StorageError, UnauthorizedError, VodpipeError

log = logging.getLogger("vodpipe.origin")
PROBLEM_TYPE = "application/problem+json"
POLICY_KEY = web.AppKey("cache_policy", CachePolicy)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(
    request: web.Request,
    status: int,
    title: str,
    detail: str,
    type_: str = "about:blank",
    extra_headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"type": type_, "title": title, "status": status, "detail": detail, "instance": request.path}
    headers = request.app[POLICY_KEY].for_error(status) | (extra_headers or {})
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type=PROBLEM_TYPE, headers=headers
    )


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except VodpipeError as exc:
        headers = {}
        if isinstance(exc, RangeNotSatisfiable):
            headers["Content-Range"] = f"bytes */{exc.size}"  # RFC 9110 §15.5.17
        if isinstance(exc, UnauthorizedError):
            headers["WWW-Authenticate"] = exc.challenge  # RFC 9110 §11.6.1, RFC 6750 §3
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)  # RFC 9110 §10.2.3, delay-seconds
        detail = exc.message
        if isinstance(exc, StorageError) and exc.status >= 500:
            # The store's own words name its endpoint and bucket: logged here, not told to clients.
            log.warning("store failed serving %s: %s", request.path, exc.message)
            current().store_error = True  # counted by the metrics (origin.observe)
            detail = "the object store is unavailable; retry later"
        return problem(request, exc.status, exc.title, detail, exc.problem_type, headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
        detail = exc.text if exc.text and not exc.text.startswith(str(exc.status)) else exc.reason
        return problem(request, exc.status, exc.reason, detail, extra_headers=headers)
    except Exception:
        log.exception("unhandled error serving %s", request.path)
        return problem(request, 500, "Internal error", "the origin failed; the error is logged")
