"""The origin application: routes, middleware, CORS on every response."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from origin.media import CORS_HEADERS, STORE_KEY, preflight, serve_media
from origin.problems import POLICY_KEY, problem_middleware

if TYPE_CHECKING:
    from origin.cache_policy import CachePolicy
    from storage.base import ObjectStore


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def not_found(request: web.Request) -> web.StreamResponse:
    if request.method == "OPTIONS":
        return preflight()
    raise web.HTTPNotFound(text="no such resource; media is served under /media/")


async def _add_cors(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(CORS_HEADERS)


def make_app(store: ObjectStore, policy: CachePolicy) -> web.Application:
    app = web.Application(middlewares=[problem_middleware])
    app[STORE_KEY] = store
    app[POLICY_KEY] = policy
    app.router.add_get("/healthz", healthz)
    app.router.add_route("*", "/media/{tail:.*}", serve_media)
    app.router.add_route("*", "/{tail:.*}", not_found)
    app.on_response_prepare.append(_add_cors)
    return app
