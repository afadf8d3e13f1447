"""The origin application: routes, middleware, CORS on every response."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from drm.license import add_license_routes
from origin.hot import HotCache
from origin.media import CORS_HEADERS, SOURCE_KEY, STORE_KEY, preflight, serve_media
from origin.play import ASSETS_KEY, PlayerAssets, play_asset, play_page
from origin.problems import POLICY_KEY, problem_middleware
from origin.signed import SIGNING_KEY, UrlSigning, signed_url_middleware
from origin.source import ObjectSource

if TYPE_CHECKING:
    from drm.license import LicenseService
    from origin.cache_policy import CachePolicy
    from origin.disk_cache import DiskCache
    from storage.base import ObjectStore


HOT_BYTES = 64 << 20  # the in-memory cache's default bound
DEFAULT_PLAYERS = Path(__file__).resolve().parents[1] / "player_test"


async def healthz(request: web.Request) -> web.Response:
    # The pid tells which of ``serve --workers N``'s processes answered.
    return web.json_response({"status": "ok", "pid": os.getpid()}, headers={"Cache-Control": "no-store"})


async def not_found(request: web.Request) -> web.StreamResponse:
    if request.method == "OPTIONS":
        return preflight()
    raise web.HTTPNotFound(text="no such resource; media is served under /media/")


async def _add_cors(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(CORS_HEADERS)


def make_app(
    store: ObjectStore,
    policy: CachePolicy,
    players: PlayerAssets | None = None,
    license_service: LicenseService | None = None,
    hot_bytes: int = HOT_BYTES,
    disk: DiskCache | None = None,
    signing: UrlSigning | None = None,
) -> web.Application:
    """The origin; with a ``license_service``, the license routes are mounted under /license/.

    ``hot_bytes`` bounds the in-memory object cache; ``disk`` caches a remote store's objects;
    ``signing`` checks signed URLs for the titles that need them (none: no title is checked).
    """
    app = web.Application(middlewares=[problem_middleware])
    if signing is not None:
        app[SIGNING_KEY] = signing
        app.middlewares.append(signed_url_middleware)  # inside problem_middleware: its 403s are problems
    app[STORE_KEY] = store
    app[SOURCE_KEY] = ObjectSource(store, policy, HotCache(hot_bytes), disk)
    app[POLICY_KEY] = policy
    app[ASSETS_KEY] = players or PlayerAssets(DEFAULT_PLAYERS)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/play/assets/{name}", play_asset)
    app.router.add_get("/play/{title}", play_page)
    app.router.add_route("*", "/media/{tail:.*}", serve_media)
    if license_service is not None:
        add_license_routes(app, license_service)
    app.router.add_route("*", "/{tail:.*}", not_found)
    app.on_response_prepare.append(_add_cors)
    return app


def make_license_app(policy: CachePolicy, license_service: LicenseService) -> web.Application:
    """The license server alone (``vodpipe license-server``): no media, same errors and CORS."""
    app = web.Application(middlewares=[problem_middleware])
    app[POLICY_KEY] = policy
    app.router.add_get("/healthz", healthz)
    add_license_routes(app, license_service)
    app.router.add_route("*", "/{tail:.*}", not_found)
    app.on_response_prepare.append(_add_cors)
    return app
