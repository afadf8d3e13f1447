"""The player page: ``/play/{title}`` with Shaka Player, hls.js or dash.js, HLS or DASH.

The players' JavaScript comes from the npm packages pinned in ``player_test/package.json``
(installed with ``npm ci --prefix player_test``) and is served from here, so the page works
offline. Only the files named in ``ASSETS`` can be fetched.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from origin.media import STORE_KEY
from vodpipe.errors import ObjectNotFoundError, VodpipeError

if TYPE_CHECKING:
    from storage.base import ObjectStore

STATIC = Path(__file__).parent / "static"
_TITLE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
PLAYERS = {"shaka": "shaka-player.ui.js", "hls.js": "hls.min.js", "dash.js": "dash.all.min.js"}
FORMATS = {"hls": "master.m3u8", "dash": "manifest.mpd", "hls-aes128": "master-aes128.m3u8"}
CHOICES = [("shaka", "hls"), ("shaka", "dash"), ("hls.js", "hls"), ("dash.js", "dash")]
# Not linked from every page: only titles published with VODPIPE_HLS_AES128=1 have this playlist.
UNLISTED = [("hls.js", "hls-aes128")]
ASSETS = {  # name -> path under the players folder (or STATIC for play.js)
    "hls.min.js": "node_modules/hls.js/dist/hls.min.js",
    "dash.all.min.js": "node_modules/dashjs/dist/modern/umd/dash.all.min.js",
    "shaka-player.ui.js": "node_modules/shaka-player/dist/shaka-player.ui.js",
    "controls.css": "node_modules/shaka-player/dist/controls.css",
}
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class PlayerAssets:
    folder: Path  # the player_test folder holding node_modules


ASSETS_KEY = web.AppKey("player_assets", PlayerAssets)


class PlayerAssetsMissing(VodpipeError):
    status = 503
    problem_type = "https://vodpipe.dev/problems/player-assets-missing"
    title = "Player assets missing"


def latest_version(store: ObjectStore, title: str) -> str:
    """The version folder of ``title`` whose manifest (master playlist or MPD) was published last."""
    masters = [
        k
        for k in store.list(f"media/{title}/")
        if k.count("/") == 3 and k.rsplit("/", 1)[1] in FORMATS.values()
    ]
    if not masters:
        raise ObjectNotFoundError(f"title {title!r} has no published version")
    newest = max(masters, key=lambda k: store.stat(k).last_modified)
    return newest.split("/")[2]


def render_page(title: str, version: str, player: str, fmt: str, buffer: int | None = None) -> str:
    links = " ".join(
        f'<a href="/play/{title}?player={p}&amp;format={f}"{" class=current" * ((p, f) == (player, fmt))}>'
        f"{html.escape(p)} · {f.upper()}</a>"
        for p, f in CHOICES
    )
    config = {
        "player": player,
        "format": fmt,
        "url": f"/media/{title}/{version}/{FORMATS[fmt]}",
        "buffer": buffer,
    }
    values = {
        "title": html.escape(title),
        "version": html.escape(version),
        "links": links,
        "library": PLAYERS[player],
        "config": json.dumps(config).replace("</", "<\\/"),
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], (STATIC / "play.html").read_text())


async def play_page(request: web.Request) -> web.Response:
    title = request.match_info["title"]
    if not _TITLE.fullmatch(title):
        raise ObjectNotFoundError("no such title")
    player = request.query.get("player", "shaka")
    if player not in PLAYERS:
        raise web.HTTPBadRequest(text=f"player must be one of {', '.join(PLAYERS)}")
    fmt = request.query.get("format", "dash" if player == "dash.js" else "hls")
    if fmt not in FORMATS or (player, fmt) not in CHOICES + UNLISTED:
        raise web.HTTPBadRequest(text=f"{player} does not play format {fmt!r} here")
    buffer = request.query.get("buffer")
    if buffer is not None and not (buffer.isdigit() and 2 <= int(buffer) <= 120):
        raise web.HTTPBadRequest(text="buffer is the seconds of media to keep ahead, 2 to 120")
    store = request.app[STORE_KEY]
    version = await asyncio.get_running_loop().run_in_executor(None, latest_version, store, title)
    return web.Response(
        text=render_page(title, version, player, fmt, int(buffer) if buffer else None),
        content_type="text/html",
        # An encrypted title's page carries its token in the query (?token=, read by play.js,
        # never written into the HTML): no Referer may repeat that URL to media or license servers.
        headers={"Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"},
    )


async def play_asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name == "play.js":
        path = STATIC / "play.js"
    elif name in ASSETS:
        path = request.app[ASSETS_KEY].folder / ASSETS[name]
        if not path.is_file():
            raise PlayerAssetsMissing(f"{name} is not installed: run `npm ci --prefix player_test`")
    else:
        raise ObjectNotFoundError(f"no player asset {name!r}")
    return web.FileResponse(
        path,
        headers={"Content-Type": CONTENT_TYPES[path.suffix], "Cache-Control": "public, max-age=3600"},
    )
