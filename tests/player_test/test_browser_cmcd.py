"""Real players send CMCD (CTA-5004) and the origin's access log records it: hls.js, dash.js and
Shaka Player on the demo title, each against its own ``vodpipe serve`` with an access log."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from player_test.browser import Playback, verdict, wait_until_playing, watch
from tests.processes import Server

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from playwright.sync_api import Page

    from tests.conftest import DemoTitle

pytestmark = pytest.mark.integration
COMBOS = [("hls.js", "hls"), ("dash.js", "dash"), ("shaka", "hls"), ("shaka", "dash")]
FORMAT_TOKEN = {"hls": "h", "dash": "d"}  # CTA-5004 Table 1, sf: streaming format


@pytest.mark.parametrize(("player", "fmt"), COMBOS, ids=[f"{p}-{f}" for p, f in COMBOS])
def test_players_cmcd_reaches_the_access_log(
    demo: DemoTitle, open_page: Callable[[str], Page], tmp_path: Path, player: str, fmt: str
) -> None:
    log = tmp_path / "access.log"
    # The demo's published title, served by a second origin that writes an access log.
    server = Server(["serve", "--port", "0", "--workers", "1"], {**demo.env, "VODPIPE_ACCESS_LOG": str(log)})
    try:
        base = server.wait_for("origin: serving ").split(" at ")[1].removesuffix("/media/")
        page = open_page(f"{base}/play/demo?player={player}&format={fmt}")
        playback = watch(page, 2, Playback([wait_until_playing(page)]))
        assert verdict(playback, min_advance=1.0, max_dropped=1.0) == []  # plays; smoothness is not the point
        session = page.evaluate("window.vodpipe.cmcd")
    finally:
        assert server.stop() == 0  # the access log is flushed and closed on the way out

    lines = [json.loads(line) for line in log.read_text().splitlines()]
    media = [line for line in lines if line["path"].startswith("/media/demo/")]
    assert all("cmcd_invalid" not in line for line in lines)  # every player's CMCD parses
    objects = [line for line in media if line["kind"] in ("init", "segment") and line["status"] in (200, 206)]
    segments = [line for line in objects if line["kind"] == "segment"]
    assert segments
    for line in objects:  # every init and segment request the player made carries its CMCD
        assert line["cmcd"]["sid"] == session["sid"], line
        assert line["cmcd"]["cid"] == "demo", line
        assert line["cmcd"]["sf"] == FORMAT_TOKEN[fmt], line
        assert line["cmcd"]["ot"] in (("i",) if line["kind"] == "init" else ("v", "a", "av")), line
    # Media object requests carry the buffer length: an absent bl is 0 (CTA-5004 §3.2: a key at
    # its default value is not sent, as Shaka does while the buffer is empty).
    buffers = [line["cmcd"].get("bl", 0) for line in segments]
    assert all(isinstance(b, int) for b in buffers)
    assert max(buffers) > 0, segments  # the buffer filled as it played
    if fmt == "hls":  # media playlists too (the page's own first fetch of the master has none)
        playlists = [
            line
            for line in media
            if line["path"].endswith(".m3u8") and line["path"] != urlsplit(demo.hls).path
        ]
        assert playlists
        assert all(line["cmcd"]["sid"] == session["sid"] for line in playlists)
