"""The README's first command: ``vodpipe demo`` on an empty data folder, then fetched."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import m3u8
import pytest
from mpegdash.parser import MPEGDASHParser

from tests.processes import fetch

if TYPE_CHECKING:
    from tests.conftest import DemoTitle

pytestmark = pytest.mark.integration


def test_demo_generates_a_master_publishes_it_and_serves_it(demo: DemoTitle) -> None:
    master = fetch(demo.hls)
    assert master.status == 200
    playlist = m3u8.loads(master.body.decode(), uri=demo.hls)
    resolutions = [p.stream_info.resolution for p in playlist.playlists]
    assert sorted(resolutions, reverse=True) == [(1280, 720), (960, 540), (640, 360), (416, 234)]
    # the variant nearest VODPIPE_START_BITRATE (2 Mb/s by default) first, then from the top down
    rates = [p.stream_info.bandwidth for p in playlist.playlists]
    assert abs(rates[0] - 2_000_000) == min(abs(r - 2_000_000) for r in rates)
    assert rates[1:] == sorted(rates[1:], reverse=True)
    assert {p.stream_info.closed_captions for p in playlist.playlists} == {"NONE"}
    first = playlist.playlists[0].absolute_uri
    media = m3u8.loads(fetch(first).body.decode(), uri=first)
    assert sum(s.duration for s in media.segments) == pytest.approx(30.0, abs=0.001)
    assert fetch(media.segments[0].absolute_uri).status == 200
    mpd = MPEGDASHParser.parse(fetch(demo.dash).body.decode())
    assert mpd.media_presentation_duration == "PT30.000000S"
    record = json.loads((demo.data_dir / "catalog/titles/demo.json").read_text())
    assert record["status"] == "published"
    assert (record["probe"]["duration"], record["probe"]["video"]["width"]) == (30.0, 1920)


def test_demo_prints_the_player_page_first(demo: DemoTitle) -> None:
    page = fetch(demo.player)
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert demo.hls.split(demo.origin)[1].encode() in page.body
