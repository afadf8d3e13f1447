"""The corpus scaffolding itself: renditions, the foreign origin and the key server."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import av
import pytest

from tests.processes import fetch

if TYPE_CHECKING:
    from tests.player_test.conftest import ForeignOrigin, KeyServer, Renditions

pytestmark = pytest.mark.integration


def test_renditions_are_two_fragmented_video_rungs_and_aac(renditions: Renditions) -> None:
    assert list(renditions.video) == ["360p", "240p"]
    with av.open(str(renditions.video["360p"])) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 640, 360)
    with av.open(str(renditions.audio)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
    assert b"moof" in renditions.audio.read_bytes()[:4096]


def test_foreign_origin_serves_ts_segments_and_dash_only_titles(
    renditions: Renditions, foreign_origin: ForeignOrigin, ffmpeg_exe: str
) -> None:
    folder = foreign_origin.folder("smoke")
    folder.mkdir(parents=True)
    args = [ffmpeg_exe, "-loglevel", "error", "-y", "-i", str(renditions.video["240p"]), "-c", "copy"]
    subprocess.run([*args, "-t", "2", str(folder / "seg0.ts")], check=True)
    ts = fetch(f"{foreign_origin.base('smoke')}/seg0.ts")
    assert ts.status == 200
    assert ts.headers["Content-Type"] == "video/mp2t"
    assert "immutable" in ts.headers["Cache-Control"]
    assert ts.body[0] == 0x47  # an MPEG-TS sync byte
    assert fetch(f"{foreign_origin.url}/play/smoke").status == 404  # no manifest yet
    (folder / "manifest.mpd").write_text("<MPD/>")
    assert fetch(f"{foreign_origin.url}/play/smoke?player=dash.js&format=dash").status == 200


def test_keys_come_from_a_separate_server_with_cors(
    key_server: KeyServer, foreign_origin: ForeignOrigin
) -> None:
    url = key_server.put("smoke.key", bytes(range(16)))
    answer = fetch(url, {"Origin": "https://player.example"})
    assert (answer.status, answer.body) == (200, bytes(range(16)))
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    (foreign_origin.folder("smoke-key")).mkdir(parents=True)
    (foreign_origin.folder("smoke-key") / "enc.key").write_bytes(bytes(16))
    assert fetch(f"{foreign_origin.base('smoke-key')}/enc.key").status == 404  # never from media/
