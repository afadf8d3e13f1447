"""Codec strings of AV1 and HEVC tracks that the shipped FFmpeg encodes (SVT-AV1, x265).

The expectations come from elsewhere than our parser: for AV1, the CODECS string FFmpeg's own
DASH muxer writes for the same track; for HEVC (FFmpeg's muxers write none), the profile, tier
and level that x265 reports in its log, with the compatibility flags and constraint byte that
Annex E derives from them.
"""

from __future__ import annotations

import re
import subprocess
from typing import TYPE_CHECKING

import pytest

from packager.codecs import codec_string
from packager.samples import read_header
from player_test.media import read_init

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

_SOURCE = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=1"]
_FMP4 = ["-movflags", "+frag_keyframe+empty_moov+default_base_moof+write_colr"]


def _encode(ffmpeg_exe: str, path: Path, options: list[str]) -> str:
    result = subprocess.run(
        [ffmpeg_exe, "-hide_banner", "-nostdin", "-y", *_SOURCE, *options, *_FMP4, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stderr


def _codec_string_of(path: Path) -> str:
    with path.open("rb") as f:
        _, header = read_header(f)
    ours = codec_string(header.entry)
    # the checker's own reading of the same init segment (player_test/media.py) must agree
    assert read_init(path.read_bytes()).codec == ours
    return ours


def _ffmpeg_dash_codecs(ffmpeg_exe: str, track: Path) -> str:
    folder = track.with_suffix("")
    folder.mkdir()
    mpd = folder / "t.mpd"
    subprocess.run(
        [ffmpeg_exe, "-v", "error", "-nostdin", "-i", str(track), "-c", "copy", "-f", "dash", str(mpd)],
        check=True,
    )
    found = re.search(r'codecs="([^"]+)"', mpd.read_text())
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(["-pix_fmt", "yuv420p"], id="8bit"),
        pytest.param(
            [
                "-pix_fmt",
                "yuv420p10le",
                "-color_primaries",
                "bt2020",
                "-color_trc",
                "smpte2084",
                "-colorspace",
                "bt2020nc",
                "-color_range",
                "tv",
                "-svtav1-params",
                "enable-hdr=1",
            ],
            id="10bit-hdr-colr",
        ),
    ],
)
def test_av1_codec_string_matches_ffmpeg_dash_muxer(
    ffmpeg_exe: str, tmp_path: Path, options: list[str]
) -> None:
    track = tmp_path / "av1.mp4"
    _encode(ffmpeg_exe, track, ["-c:v", "libsvtav1", "-preset", "12", "-g", "25", *options])
    ours = _codec_string_of(track)
    assert ours.startswith("av01.0.")
    assert ours == _ffmpeg_dash_codecs(ffmpeg_exe, track)


# Annex E: Main is compatible with Main and Main 10 (flags 1 and 2, reversed 0x6); Main 10 only
# with itself (flag 2, reversed 0x4). x265 marks its progressive frames with
# general_progressive_source_flag and general_frame_only_constraint_flag: 0b1001_0000.
_PROFILES = {"Main": "1.6", "Main 10": "2.4"}


@pytest.mark.parametrize(
    ("tag", "pix_fmt"),
    [
        pytest.param("hvc1", "yuv420p", id="hvc1-main"),
        pytest.param("hev1", "yuv420p", id="hev1-main"),
        pytest.param("hvc1", "yuv420p10le", id="hvc1-main10"),
    ],
)
def test_hevc_codec_string_matches_x265s_profile_and_level(
    ffmpeg_exe: str, tmp_path: Path, tag: str, pix_fmt: str
) -> None:
    track = tmp_path / "hevc.mp4"
    log = _encode(
        ffmpeg_exe,
        track,
        [
            "-pix_fmt",
            pix_fmt,
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=info",
            "-tag:v",
            tag,
        ],
    )
    reported = re.search(r"x265 \[info\]: (Main(?: 10)?) profile, Level-([\d.]+) \((Main|High) tier\)", log)
    assert reported is not None, log
    profile, level, tier = reported.groups()
    level_idc = round(float(level) * 30)
    expected = f"{tag}.{_PROFILES[profile]}.{tier[0].replace('M', 'L')}{level_idc}.90"
    assert _codec_string_of(track) == expected
