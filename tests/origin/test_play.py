"""The player page and its assets, over real HTTP."""

from __future__ import annotations

import json
import os
import re
import time
from typing import TYPE_CHECKING, Any

import pytest

from origin.app import make_app
from origin.cache_policy import CachePolicy
from origin.play import ASSETS, CHOICES, PlayerAssets
from storage.local import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from aiohttp.test_utils import TestClient


@pytest.fixture
def players(tmp_path: Path) -> Path:
    folder = tmp_path / "players"
    for relative in ASSETS.values():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(f"/* {relative} */")
    return folder


@pytest.fixture
async def client(tmp_path: Path, players: Path, aiohttp_client: Any) -> TestClient[Any, Any]:
    store = LocalStore(tmp_path / "data")
    for version in ("v1old", "v2new"):
        store.put_bytes(f"media/film/{version}/master.m3u8", b"#EXTM3U\n")
        store.put_bytes(f"media/film/{version}/manifest.mpd", b"<MPD/>")
        os.utime(
            store.local_path(f"media/film/{version}/master.m3u8"),
            (time.time(), time.time() + (version == "v2new")),
        )
    result: TestClient[Any, Any] = await aiohttp_client(make_app(store, CachePolicy(), PlayerAssets(players)))
    return result


def page_config(text: str) -> dict[str, Any]:
    match = re.search(r'<script id="config" type="application/json">(.*?)</script>', text)
    assert match
    config: dict[str, Any] = json.loads(match.group(1))
    return config


@pytest.mark.parametrize(("player", "fmt"), CHOICES)
async def test_page_loads_the_chosen_player_on_the_latest_version(
    client: TestClient[Any, Any], player: str, fmt: str
) -> None:
    response = await client.get(f"/play/film?player={player}&format={fmt}")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/html")
    text = await response.text()
    config = page_config(text)
    manifest = "master.m3u8" if fmt == "hls" else "manifest.mpd"
    assert config == {"player": player, "format": fmt, "url": f"/media/film/v2new/{manifest}", "buffer": None}
    library = {"shaka": "shaka-player.ui.js", "hls.js": "hls.min.js", "dash.js": "dash.all.min.js"}[player]
    assert f'<script src="/play/assets/{library}">' in text


async def test_a_title_published_as_dash_only_plays(client: TestClient[Any, Any], tmp_path: Path) -> None:
    LocalStore(tmp_path / "data").put_bytes("media/dashonly/v1/manifest.mpd", b"<MPD/>")
    response = await client.get("/play/dashonly?player=dash.js&format=dash")
    assert response.status == 200
    assert page_config(await response.text())["url"] == "/media/dashonly/v1/manifest.mpd"


async def test_defaults_are_shaka_with_hls(client: TestClient[Any, Any]) -> None:
    config = page_config(await (await client.get("/play/film?buffer=8")).text())
    assert (config["player"], config["format"], config["buffer"]) == ("shaka", "hls", 8)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/play/nobody", 404),
        ("/play/Bad%20Title", 404),
        ("/play/film?player=vlc", 400),
        ("/play/film?player=hls.js&format=dash", 400),
        ("/play/film?buffer=1000", 400),
        ("/play/assets/secret.js", 404),
        ("/play/assets/..%2F..%2Fpyproject.toml", 404),
    ],
)
async def test_bad_page_requests_are_problems(client: TestClient[Any, Any], path: str, status: int) -> None:
    response = await client.get(path)
    assert response.status == status
    assert response.headers["Content-Type"] == "application/problem+json"


async def test_assets_come_from_the_players_folder(client: TestClient[Any, Any], players: Path) -> None:
    response = await client.get("/play/assets/hls.min.js")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert await response.text() == "/* node_modules/hls.js/dist/hls.min.js */"
    script = await client.get("/play/assets/play.js")
    assert "window.vodpipe" in await script.text()


async def test_missing_player_assets_say_how_to_install_them(
    client: TestClient[Any, Any], players: Path
) -> None:
    (players / ASSETS["dash.all.min.js"]).unlink()
    response = await client.get("/play/assets/dash.all.min.js")
    assert response.status == 503
    body = await response.json(content_type="application/problem+json")
    assert "npm ci --prefix player_test" in body["detail"]


async def test_hlsjs_can_open_the_aes128_variant_which_no_page_links_to(client: TestClient[Any, Any]) -> None:
    response = await client.get("/play/film?player=hls.js&format=hls-aes128")
    assert response.status == 200
    text = await response.text()
    assert page_config(text)["url"] == "/media/film/v2new/master-aes128.m3u8"
    assert "hls-aes128" not in text.split('<script id="config"')[0]
    assert (await client.get("/play/film?player=shaka&format=hls-aes128")).status == 400
