"""AV1 and HEVC rungs packaged alongside an H.264 rung: one title, each signalled in HLS and DASH.

Debian's Chromium cannot play HEVC, so HEVC is checked by bytes and by the checker only.
"""

from __future__ import annotations

import re
import subprocess
import threading
from fractions import Fraction
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from xml.etree import ElementTree

import av
import pytest

from packager.package import EncodedTrack, package
from player_test.check import check

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration

_MOVFLAGS = "+frag_keyframe+empty_moov+default_base_moof+negative_cts_offsets"
_NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}


def _encode(ffmpeg_exe: str, path: Path, codec: list[str]) -> Path:
    source = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=4", "-pix_fmt", "yuv420p"]
    # the same closed 2-second GOPs in both codecs, so the rungs share segment boundaries
    subprocess.run(
        [
            ffmpeg_exe,
            "-v",
            "error",
            "-nostdin",
            "-y",
            *source,
            *codec,
            "-g",
            "50",
            "-movflags",
            _MOVFLAGS,
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    return path


@pytest.fixture(scope="module")
def title(tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str) -> Path:
    work = tmp_path_factory.mktemp("mixed")
    h264 = _encode(
        ffmpeg_exe,
        work / "h264.mp4",
        ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "300k", "-x264-params", "scenecut=0:open-gop=0"],
    )
    av1 = _encode(
        ffmpeg_exe,
        work / "av1.mp4",
        ["-c:v", "libsvtav1", "-preset", "12", "-b:v", "200k", "-svtav1-params", "scd=0"],
    )
    hevc = _encode(
        ffmpeg_exe,
        work / "hevc.mp4",
        ["-c:v", "libx265", "-preset", "ultrafast", "-b:v", "200k", "-tag:v", "hvc1",
         "-x265-params", "log-level=error:keyint=50:min-keyint=50:scenecut=0:open-gop=0"],
    )  # fmt: skip
    out = work / "title"
    tracks = [
        EncodedTrack("video", "h264", h264),
        EncodedTrack("video", "av1", av1),
        EncodedTrack("video", "hevc", hevc),
    ]
    package(tracks, out, Fraction(2))
    return out


def test_hls_lists_each_rung_with_its_codec(title: Path) -> None:
    master = (title / "master.m3u8").read_text()
    variants = dict(re.findall(r'CODECS="([^"]+)"[^\n]*\n(video/\w+/index\.m3u8)', master))
    assert variants == {
        "av01.0.00M.08": "video/av1/index.m3u8",
        "avc1.42c00d": "video/h264/index.m3u8",
        "hvc1.1.6.L60.90": "video/hevc/index.m3u8",
    }


def test_dash_gives_each_codec_its_own_adaptation_set(title: Path) -> None:
    root = ElementTree.fromstring((title / "manifest.mpd").read_bytes())
    sets = root.findall("d:Period/d:AdaptationSet", _NS)
    video = [
        [(r.get("id"), r.get("codecs")) for r in s.findall("d:Representation", _NS)]
        for s in sets
        if s.get("contentType") == "video"
    ]
    assert video == [[("h264", "avc1.42c00d")], [("av1", "av01.0.00M.08")], [("hevc", "hvc1.1.6.L60.90")]]
    assert [s.get("id") for s in sets] == ["0", "1", "2"]


@pytest.mark.parametrize("rung_id", ["av1", "hevc"])
def test_packaged_segments_decode(title: Path, tmp_path: Path, rung_id: str) -> None:
    rung = title / "video" / rung_id
    joined = tmp_path / f"{rung_id}.mp4"
    joined.write_bytes(b"".join(p.read_bytes() for p in [rung / "init.mp4", *sorted(rung.glob("seg-*.m4s"))]))
    with av.open(str(joined)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 100


@pytest.fixture
def served(title: Path) -> Iterator[str]:
    """The title over plain HTTP (no CORS, no Range: the checker's rules for those fail)."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(title))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("manifest", ["master.m3u8", "manifest.mpd"])
def test_the_checker_passes_both_codecs(served: str, manifest: str) -> None:
    report = check(f"{served}/{manifest}")
    assert {f.rule for f in report.errors} <= {"cors", "range"}
    assert {(r.codec, r.frames) for r in report.renditions if r.kind == "video"} == {
        ("avc1.42c00d", 100),
        ("av01.0.00M.08", 100),
        ("hvc1.1.6.L60.90", 100),
    }
    checked = {f.rule for f in report.findings if f.ok}
    assert {"codecs", "decode", "bandwidth"} <= checked
    # DASH promises alignment only inside an AdaptationSet, and each codec has its own here
    assert ("alignment" in checked) is manifest.endswith(".m3u8")
