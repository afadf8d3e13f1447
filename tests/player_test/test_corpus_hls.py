"""``vodpipe check`` on HLS that FFmpeg's own ``hls`` muxer wrote, and on copies broken one way each.

The streams play in hls.js and Shaka Player (tests/player_test/test_browser_corpus.py); the checker
must pass them (warnings allowed) and fail each mutation with the right rule and severity.
"""

from __future__ import annotations

import json
import re
import shutil
from typing import TYPE_CHECKING

import pytest

from player_test.check import check
from tests.processes import run_cli

if TYPE_CHECKING:
    from pathlib import Path

    from player_test.findings import Report
    from tests.player_test.conftest import ForeignOrigin, KeyServer

pytestmark = pytest.mark.integration


def mutate(foreign_origin: ForeignOrigin, base: str, name: str) -> tuple[Path, str]:
    source = foreign_origin.folder(base.rsplit("/", 2)[-2])
    shutil.copytree(source, foreign_origin.folder(name))
    return foreign_origin.folder(name), foreign_origin.base(name)


def errors(report: Report) -> set[tuple[str, str]]:
    return {(f.rule, f.url.rsplit("/", 1)[-1]) for f in report.errors}


def warned(report: Report, rule: str) -> set[str]:
    return {f.url.rsplit("/", 1)[-1] for f in report.warnings if f.rule == rule}


def test_ffmpeg_fmp4_with_an_audio_only_variant_passes(fmp4: str) -> None:
    report = check(f"{fmp4}/master.m3u8")
    assert report.errors == [], report.table()
    # FFmpeg leaves CLOSED-CAPTIONS out, and its video BANDWIDTH leaves out the audio group.
    assert warned(report, "captions") == {"p0.m3u8", "p1.m3u8", "p2.m3u8"}
    assert {"p0.m3u8", "p1.m3u8"} <= warned(report, "bandwidth")
    kinds = {r.id: r.kind for r in report.renditions}
    assert kinds == {"p0": "video", "p1": "video", "audio_2": "audio"}  # p2.m3u8 is variant and rendition
    # vodpipe's encoder output (the renditions) may still carry AAC priming: av-sync may warn.
    assert {f.rule for f in report.warnings} <= {"captions", "bandwidth", "av-sync"}
    video = [r for r in report.renditions if r.kind == "video"]
    assert {r.frames for r in video} == {240}  # 8 s at 30 fps in both rungs
    checked = {f.rule for f in report.findings}
    assert {"bandwidth", "duration", "codecs", "alignment", "av-sync", "decode"} <= checked


def test_ffmpeg_fmp4_mutations_fail_with_the_right_rule_and_severity(
    fmp4: str, foreign_origin: ForeignOrigin
) -> None:
    folder, base = mutate(foreign_origin, fmp4, "ffmpeg-hls-fmp4-missing")
    (folder / "s1_002.m4s").unlink()
    report = check(f"{base}/master.m3u8")
    assert {(f.rule, f.severity, f.url) for f in report.errors} == {("fetch", "error", f"{base}/s1_002.m4s")}

    folder, base = mutate(foreign_origin, fmp4, "ffmpeg-hls-fmp4-captions")
    master = folder / "master.m3u8"
    master.write_text(
        master.read_text().replace("#EXT-X-STREAM-INF:", "#EXT-X-STREAM-INF:CLOSED-CAPTIONS=NONE,")
    )
    report = check(f"{base}/master.m3u8")
    assert [f for f in report.findings if f.rule == "captions"] != []
    assert warned(report, "captions") == set()

    folder, base = mutate(foreign_origin, fmp4, "ffmpeg-hls-fmp4-codecs")
    master = folder / "master.m3u8"
    master.write_text(master.read_text().replace("avc1.42c01e", "avc1.640028", 1))
    assert errors(check(f"{base}/master.m3u8")) == {("codecs", "p0.m3u8")}

    folder, base = mutate(foreign_origin, fmp4, "ffmpeg-hls-fmp4-halved")
    master = folder / "master.m3u8"
    text = master.read_text()
    master.write_text(
        re.sub(r"BANDWIDTH=(\d+)", lambda m: f"BANDWIDTH={int(m.group(1)) // 2}", text, count=1)
    )
    report = check(f"{base}/master.m3u8")
    assert errors(report) == {("bandwidth", "p0.m3u8")}
    assert report.errors[0].detail.startswith("BANDWIDTH ")

    folder, base = mutate(foreign_origin, fmp4, "ffmpeg-hls-fmp4-low")
    master = folder / "master.m3u8"
    text = master.read_text()
    master.write_text(
        re.sub(r"BANDWIDTH=(\d+)", lambda m: f"BANDWIDTH={int(m.group(1)) * 95 // 100}", text, count=1)
    )
    report = check(f"{base}/master.m3u8")
    assert report.errors == [], report.table()
    assert "p0.m3u8" in warned(report, "bandwidth")


def test_ffmpeg_byte_ranges_are_fetched_and_measured_exactly(
    single_file: str, foreign_origin: ForeignOrigin
) -> None:
    playlist = (foreign_origin.folder("ffmpeg-hls-byterange") / "p0.m3u8").read_text()
    assert "#EXT-X-BYTERANGE:" in playlist
    assert 'BYTERANGE="' in playlist  # the EXT-X-MAP too
    report = check(f"{single_file}/master.m3u8")
    assert report.errors == [], report.table()
    fetched = [f.url for f in report.findings if f.rule == "fetch" and "[bytes " in f.url]
    assert len(fetched) == 3 + 4 + 4 + 5  # three init ranges, then every segment's range
    durations = [
        f for f in report.findings if f.rule == "duration" and f.url.startswith(f"{single_file}/s0.m4s")
    ]
    assert [f.detail.split(",")[1].strip()[:14] for f in durations] == ["media 2.000000"] * 4


def test_a_byte_range_past_the_end_fails(single_file: str, foreign_origin: ForeignOrigin) -> None:
    folder, base = mutate(foreign_origin, single_file, "ffmpeg-hls-byterange-cut")
    segment = folder / "s1.m4s"
    segment.write_bytes(segment.read_bytes()[:-50_000])  # the last range now runs off the end
    report = check(f"{base}/master.m3u8")
    assert {f.rule for f in report.errors} & {"fetch", "range"}
    assert all(f.url.startswith(f"{base}/s1.m4s") or f.rule == "decode" for f in report.errors), (
        report.table()
    )


def test_ffmpeg_mpegts_passes(mpegts: str) -> None:
    report = check(f"{mpegts}/master.m3u8")
    assert report.errors == [], report.table()
    sizes = {r.id: (r.kind, r.codec, r.width, r.height) for r in report.renditions}
    assert sizes == {
        "p0": ("video", "avc1.42c01e", 640, 360),
        "p1": ("video", "avc1.42c00d", 416, 234),
        "audio_2": ("audio", "mp4a.40.2", 0, 0),
    }
    assert {r.frames for r in report.renditions if r.kind == "video"} == {240}
    keyframes = [f for f in report.findings if f.rule == "keyframe"]
    assert len(keyframes) == 8
    assert all(f.ok for f in keyframes)


def test_ffmpeg_mpegts_truncated_segment_fails(mpegts: str, foreign_origin: ForeignOrigin) -> None:
    folder, base = mutate(foreign_origin, mpegts, "ffmpeg-hls-ts-cut")
    segment = folder / "s0_001.ts"
    segment.write_bytes(segment.read_bytes()[:1000])  # not whole 188-byte packets
    report = check(f"{base}/master.m3u8")
    assert errors(report) == {("fetch", "s0_001.ts")}
    assert "not an MPEG-TS segment" in report.errors[0].detail
    folder, base = mutate(foreign_origin, mpegts, "ffmpeg-hls-ts-short")
    segment = folder / "s1_002.ts"
    segment.write_bytes(segment.read_bytes()[: 188 * 40])  # whole packets, most of the media gone
    report = check(f"{base}/master.m3u8")
    assert ("duration", "s1_002.ts") in errors(report)


def test_ffmpeg_aes128_decrypts_and_passes(
    aes128: str, foreign_origin: ForeignOrigin, key_server: KeyServer
) -> None:
    assert b"METHOD=AES-128" in (foreign_origin.folder("ffmpeg-hls-aes") / "p0.m3u8").read_bytes()
    report = check(f"{aes128}/master.m3u8")
    assert report.errors == [], report.table()
    decrypted = [f for f in report.findings if f.rule == "encryption"]
    assert len(decrypted) == 13  # 4 + 4 video segments and 5 audio segments
    assert {r.frames for r in report.renditions if r.kind == "video"} == {240}


def test_a_wrong_aes128_key_is_an_encryption_error(
    aes128: str, foreign_origin: ForeignOrigin, key_server: KeyServer
) -> None:
    folder, base = mutate(foreign_origin, aes128, "ffmpeg-hls-aes-wrong")
    wrong = key_server.put("wrong.key", bytes(16))
    for playlist in folder.glob("p*.m3u8"):
        playlist.write_text(re.sub(r'URI="[^"]+"', f'URI="{wrong}"', playlist.read_text()))
    report = check(f"{base}/master.m3u8")
    assert {f.rule for f in report.errors} == {"encryption"}, report.table()
    assert "bad PKCS7 padding" in report.errors[0].detail


def test_warnings_pass_the_cli_unless_strict(fmp4: str, cli_env: dict[str, str]) -> None:
    plain = run_cli("check", f"{fmp4}/master.m3u8", env=cli_env)
    assert plain.returncode == 0, plain.stdout
    assert f"WARN [captions] {fmp4}/p0.m3u8: EXT-X-STREAM-INF lacks CLOSED-CAPTIONS=NONE" in plain.stdout
    assert "PASS: 0 error(s)" in plain.stdout
    strict = run_cli("check", "--strict", f"{fmp4}/master.m3u8", "--json", env=cli_env)
    assert strict.returncode == 1
    data = json.loads(strict.stdout)
    assert (data["ok"], data["strict"], data["errors"]) == (False, True, 0)
    assert data["warnings"] >= 3
    assert data["rules"]["captions"]["source"].startswith("Apple HLS authoring spec")
