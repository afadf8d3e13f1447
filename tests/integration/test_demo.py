"""The README's first command: ``vodpipe demo`` on an empty data folder, then fetched."""

from __future__ import annotations

import json
from pathlib import Path

import m3u8
import pytest
from mpegdash.parser import MPEGDASHParser

from tests.integration.conftest import Server, fetch

pytestmark = pytest.mark.integration


def test_demo_generates_a_master_publishes_it_and_serves_it(cli_env: dict[str, str]) -> None:
    server = Server(["demo", "--port", "0"], cli_env)
    try:
        hls_url = server.wait_for("hls: ")
        dash_url = server.wait_for("dash: ")
        master = fetch(hls_url)
        assert master.status == 200
        playlist = m3u8.loads(master.body.decode(), uri=hls_url)
        assert [p.stream_info.resolution for p in playlist.playlists] == [
            (1280, 720),
            (960, 540),
            (640, 360),
            (426, 240),
        ]
        first = playlist.playlists[0].absolute_uri
        media = m3u8.loads(fetch(first).body.decode(), uri=first)
        assert sum(s.duration for s in media.segments) == pytest.approx(30.0, abs=0.001)
        assert fetch(media.segments[0].absolute_uri).status == 200
        mpd = MPEGDASHParser.parse(fetch(dash_url).body.decode())
        assert mpd.media_presentation_duration == "PT30.000000S"
    finally:
        assert server.stop() == 0
    record = json.loads((Path(cli_env["VODPIPE_DATA_DIR"]) / "catalog/titles/demo.json").read_text())
    assert record["status"] == "published"
    assert (record["probe"]["duration"], record["probe"]["video"]["width"]) == (30.0, 1920)
