"""Real players in Debian's Chromium: hls.js, dash.js and Shaka Player on the demo title."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest

from player_test.browser import (
    Playback,
    throttle,
    verdict,
    wait_until_playing,
    watch,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page

    from tests.conftest import DemoTitle

pytestmark = pytest.mark.integration
COMBOS = [("hls.js", "hls"), ("shaka", "hls"), ("dash.js", "dash"), ("shaka", "dash")]
THROTTLED_KBPS = 700  # between the 240p and 360p variants of the demo title


@pytest.mark.parametrize(("player", "fmt"), COMBOS, ids=[f"{p}-{f}" for p, f in COMBOS])
def test_player_plays_the_demo_title(
    demo: DemoTitle, open_page: Callable[[str], Page], player: str, fmt: str
) -> None:
    page = open_page(f"{demo.player}?player={player}&format={fmt}")
    playback = watch(page, 4, Playback([wait_until_playing(page)]))
    assert verdict(playback, min_advance=3.0) == []
    last = playback.last
    assert [rung["height"] for rung in last["ladder"]] == [720, 540, 360, 234]
    assert last["height"] in (720, 540, 360, 234)
    assert last["decoded"] >= 60


@pytest.mark.parametrize(("player", "fmt"), COMBOS, ids=[f"{p}-{f}" for p, f in COMBOS])
def test_player_switches_down_when_the_network_is_throttled(
    demo: DemoTitle, open_page: Callable[[str], Page], player: str, fmt: str
) -> None:
    page = open_page(f"{demo.player}?player={player}&format={fmt}&buffer=6")
    playback = Playback([wait_until_playing(page)])
    ladder = sorted(rung["bitrate"] for rung in playback.last["ladder"])
    for _ in range(24):  # unthrottled, the player climbs above the lowest rung
        watch(page, 0.5, playback)
        if playback.last["bitrate"] >= ladder[-2]:
            break
    before = playback.last["bitrate"]
    assert before > ladder[0], f"{player} stayed on the lowest rendition on an open network"
    throttle(page, THROTTLED_KBPS)
    after: list[int] = []
    for _ in range(60):
        watch(page, 0.5, playback)
        after.append(playback.last["bitrate"])
        if after[-1] < before:
            break
    assert min(after) < before, f"{player} kept {before} b/s at {THROTTLED_KBPS} kb/s"
    assert playback.errors == []


def test_a_broken_stream_fails_the_browser_check(demo: DemoTitle, open_page: Callable[[str], Page]) -> None:
    """The test of the test: cut the second segment of every rung short, and the verdict must say so."""
    version = demo.hls.split("/")[-2]
    source = demo.data_dir / "media" / "demo" / version
    broken = demo.data_dir / "media" / "broken" / version
    shutil.copytree(source, broken)
    for segment in broken.glob("video/*/seg-00002.m4s"):
        segment.write_bytes(segment.read_bytes()[:200])
    page = open_page(f"{demo.origin}/play/broken?player=hls.js&format=hls")
    playback = watch(page, 10, Playback([wait_until_playing(page)]))
    problems = verdict(playback, min_advance=6.0)
    assert problems, "a stream with truncated segments passed the browser check"
    assert any("player errors" in p or "advanced" in p for p in problems)
