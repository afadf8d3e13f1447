"""FFmpeg's HLS corpus plays in the real players that support it, in Debian's Chromium.

hls.js plays fMP4, MPEG-TS (it transmuxes) and AES-128; Shaka Player plays fMP4 (TS would need
mux.js, which the page does not load). Short on purpose: a few seconds of playback each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from player_test.browser import Playback, open_player, verdict, wait_until_playing, watch

if TYPE_CHECKING:

    from playwright.sync_api import Browser

    from tests.player_test.conftest import ForeignOrigin

pytestmark = pytest.mark.integration
CASES = [
    ("fmp4", "hls.js"),
    ("fmp4", "shaka"),
    ("single_file", "hls.js"),
    ("mpegts", "hls.js"),
    ("aes128", "hls.js"),
]


@pytest.mark.parametrize(("stream", "player"), CASES, ids=[f"{s}-{p}" for s, p in CASES])
def test_ffmpeg_hls_plays(
    browser: Browser, foreign_origin: ForeignOrigin, request: pytest.FixtureRequest, stream: str, player: str
) -> None:
    base: str = request.getfixturevalue(stream)
    title = base.rsplit("/", 2)[-2]
    page = open_player(browser, f"{foreign_origin.url}/play/{title}?player={player}&format=hls")
    try:
        playback = watch(page, 3, Playback([wait_until_playing(page)]))
        # Dropped frames measure this shared 2-core machine's load, not the stream: allow a quarter.
        assert verdict(playback, min_advance=2.0, max_dropped=0.25) == []
        assert playback.last["decoded"] >= 30
    finally:
        page.close()
