"""The foreign DASH corpus (and Shaka Packager's HLS) plays in the real players that support it.

What ``vodpipe check`` passes must be what players play: each stream is played for a few seconds
in Debian's Chromium by dash.js and Shaka Player (DASH), and hls.js and Shaka Player (Shaka's HLS).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from player_test.browser import Playback, open_player, verdict, wait_until_playing, watch
from tests.player_test.dash_corpus import publish

if TYPE_CHECKING:

    from playwright.sync_api import Browser

    from tests.player_test.conftest import ForeignOrigin, Renditions

pytestmark = pytest.mark.integration

# Each stream once in each player family that supports its format, no more.
PLAYS = [
    ("shaka-ondemand", "dash.js", "dash"),  # SegmentBase + sidx
    ("shaka-ondemand", "shaka", "dash"),
    ("shaka-ondemand", "hls.js", "hls"),  # EXT-X-BYTERANGE
    ("shaka-live", "shaka", "hls"),
    ("shaka-live", "dash.js", "dash"),  # SegmentTimeline
    ("ffmpeg-dash-duration", "dash.js", "dash"),  # @duration
    ("ffmpeg-dash-timeline", "shaka", "dash"),
]


@pytest.mark.parametrize(("name", "player", "fmt"), PLAYS, ids=[f"{n}-{p}-{f}" for n, p, f in PLAYS])
def test_corpus_stream_plays(
    browser: Browser,
    renditions: Renditions,
    foreign_origin: ForeignOrigin,
    ffmpeg_exe: str,
    name: str,
    player: str,
    fmt: str,
) -> None:
    publish(name, renditions, foreign_origin, ffmpeg_exe)
    page = open_player(browser, f"{foreign_origin.url}/play/{name}?player={player}&format={fmt}")
    try:
        playback = watch(page, 3, Playback([wait_until_playing(page)]))
        # Frames dropped on a loaded 2-core machine say nothing about the stream: allow a quarter.
        assert verdict(playback, min_advance=2.0, max_dropped=0.25) == []
        assert sorted(rung["height"] for rung in playback.last["ladder"]) == [234, 360]
        assert playback.last["height"] in (234, 360)
    finally:
        page.close()
