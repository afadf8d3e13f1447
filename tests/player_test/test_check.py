"""``vodpipe check`` on the demo title, and on copies of it broken one way each."""

from __future__ import annotations

import json
import re
import shutil
import threading
from fractions import Fraction
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from packager.package import EncodedTrack, package
from player_test.check import check
from tests.processes import run_cli

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import DemoTitle

pytestmark = pytest.mark.integration
TRACES = sorted(str(p) for p in (Path(__file__).parents[2] / "player_test" / "traces").glob("*.csv"))


def failed_rules(url: str) -> set[str]:
    return {f.rule for f in check(url).errors}


def broken_copy(demo: DemoTitle, name: str) -> tuple[Path, str]:
    """A copy of the demo title published under another name: its folder and its URL prefix."""
    version = demo.hls.split("/")[-2]
    source = demo.data_dir / "media" / "demo" / version
    target = demo.data_dir / "media" / name / version
    shutil.copytree(source, target)
    return target, f"{demo.origin}/media/{name}/{version}"


def test_check_passes_the_demo_title_and_prints_the_table(demo: DemoTitle) -> None:
    for url in (demo.hls, demo.dash):
        result = run_cli("check", url, env=demo.env)
        assert result.returncode == 0, result.stdout
        table = result.stdout
        assert "720p" in table
        assert "240p" in table
        assert "PASS" in table
        for rule in ("fetch", "cors", "range", "codecs", "bandwidth", "duration", "alignment", "decode"):
            assert f"\n{rule} " in table
        assert "schema" in table or url.endswith(".m3u8")


def test_check_json_lists_every_rendition_with_its_frames(demo: DemoTitle) -> None:
    result = run_cli("check", demo.dash, "--json", env=demo.env)
    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [f for f in report["failures"] if f["severity"] == "error"] == []
    video = [r for r in report["renditions"] if r["kind"] == "video"]
    assert {r["frames"] for r in video} == {900}  # 30 s at 30 fps, in every rung
    assert report["rules"]["schema"]["checked"] == 1
    assert (report["rules"]["schema"]["failed"], report["rules"]["schema"]["warned"]) == (0, 0)
    assert report["errors"] == 0  # no warning either: test_the_demo_title_has_no_warning


def test_a_missing_segment_breaks_the_fetch_rule(demo: DemoTitle) -> None:
    folder, base = broken_copy(demo, "neg-missing")
    (folder / "video/360p/seg-00003.m4s").unlink()
    report = check(f"{base}/master.m3u8")
    assert {f.rule for f in report.errors} == {"fetch"}
    (failure,) = report.errors
    assert failure.url == f"{base}/video/360p/seg-00003.m4s"
    assert "404" in failure.detail
    result = run_cli("check", f"{base}/manifest.mpd", env=demo.env)
    assert result.returncode == 1
    assert f"ERROR [fetch] {base}/video/360p/seg-00003.m4s" in result.stdout


def test_a_wrong_codecs_string_breaks_the_codecs_rule(demo: DemoTitle) -> None:
    folder, base = broken_copy(demo, "neg-codecs")
    master = folder / "master.m3u8"
    text = master.read_text()
    wrong = re.sub(r'CODECS="avc1\.\w{6},', 'CODECS="avc1.42e01e,', text, count=1)  # Baseline, not High
    assert wrong != text
    master.write_text(wrong)
    assert failed_rules(f"{base}/master.m3u8") == {"codecs"}
    mpd = folder / "manifest.mpd"
    text = mpd.read_text()
    assert 'codecs="mp4a.40.2"' in text
    mpd.write_text(text.replace('codecs="mp4a.40.2"', 'codecs="mp4a.40.5"'))
    assert failed_rules(f"{base}/manifest.mpd") == {"codecs"}


def test_a_bandwidth_below_the_peak_breaks_the_bandwidth_rule(demo: DemoTitle) -> None:
    folder, base = broken_copy(demo, "neg-bandwidth")
    master = folder / "master.m3u8"
    master.write_text(re.sub(r"(#EXT-X-STREAM-INF:BANDWIDTH=)\d+", r"\g<1>1000", master.read_text()))
    report = check(f"{base}/master.m3u8")
    assert {f.rule for f in report.errors} == {"bandwidth"}
    assert len(report.errors) == 4  # every variant
    assert "below the measured peak" in report.errors[0].detail


def test_a_misaligned_rendition_breaks_the_alignment_rule(demo: DemoTitle, tmp_path: Path) -> None:
    folder, base = broken_copy(demo, "neg-aligned")
    rung = folder / "video/240p"
    whole = tmp_path / "240p.mp4"  # init + segments is one fragmented MP4 again
    whole.write_bytes(b"".join(p.read_bytes() for p in [rung / "init.mp4", *sorted(rung.glob("seg-*.m4s"))]))
    package([EncodedTrack("video", "240p", whole)], tmp_path / "recut", Fraction(6))  # 6 s, not 4 s
    shutil.rmtree(rung)
    shutil.copytree(tmp_path / "recut/video/240p", rung)
    assert failed_rules(f"{base}/master.m3u8") == {"alignment"}


@pytest.fixture
def origin_without_cors(demo: DemoTitle) -> Iterator[str]:
    """A plain static file server over the same folder: no CORS, no ranges."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(demo.data_dir))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_origin_without_cors_breaks_the_cors_rule(demo: DemoTitle, origin_without_cors: str) -> None:
    report = check(demo.hls.replace(demo.origin, origin_without_cors))
    failed = {f.rule for f in report.errors}
    assert "cors" in failed
    assert failed <= {"cors", "range"}  # a plain file server also ignores Range
    assert any("Access-Control-Allow-Origin is None" in f.detail for f in report.errors)


def test_abr_simulation_reports_and_plots_every_trace(demo: DemoTitle, tmp_path: Path) -> None:
    result = run_cli("check", demo.hls, "--abr", *TRACES, "--plot-dir", str(tmp_path), env=demo.env)
    assert result.returncode == 0, result.stdout
    assert "ABR simulation" in result.stdout
    for trace in TRACES:
        name = Path(trace).stem
        assert name in result.stdout
        plot = tmp_path / f"abr-{name}.png"
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert plot.stat().st_size > 20_000


def test_encryption_signalled_on_clear_media_breaks_the_encryption_rule(demo: DemoTitle) -> None:
    folder, base = broken_copy(demo, "neg-encryption")
    playlist = folder / "video/540p/index.m3u8"
    text = playlist.read_text()
    key = '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://k1"\n'
    playlist.write_text(text.replace("#EXT-X-MAP", key + "#EXT-X-MAP", 1))
    report = check(f"{base}/master.m3u8")
    assert {f.rule for f in report.errors} == {"encryption"}
    assert "media is clear but the manifest signals encryption" in report.errors[0].detail
    mpd = folder / "manifest.mpd"
    protection = '<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc"/>'
    video_set = r'(<AdaptationSet[^>]*contentType="video"[^>]*>)'
    mpd.write_text(re.sub(video_set, r"\1" + protection, mpd.read_text()))
    assert failed_rules(f"{base}/manifest.mpd") == {"encryption"}


@pytest.mark.parametrize(
    ("url", "code", "line"),
    [
        ("notaurl.m3u8", 1, "vodpipe: error: not an http(s) URL: 'notaurl.m3u8'"),
        (
            "http://127.0.0.1:9/none/master.m3u8",
            1,
            "ERROR [fetch] http://127.0.0.1:9/none/master.m3u8: cannot connect",
        ),
    ],
)
def test_unreachable_or_malformed_urls_fail_cleanly(
    cli_env: dict[str, str], url: str, code: int, line: str
) -> None:
    result = run_cli("check", url, env=cli_env)
    assert result.returncode == code
    assert line in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def without_edts(init: bytes) -> bytes:
    """An init segment with moov/trak/edts cut out and the moov and trak sizes fixed up."""
    moov = init.index(b"moov") - 4
    trak = init.index(b"trak", moov) - 4
    if b"edts" not in init[trak:]:
        return init
    edts = init.index(b"edts", trak) - 4
    cut = int.from_bytes(init[edts : edts + 4], "big")
    out = bytearray(init[:edts] + init[edts + cut :])
    for at in (moov, trak):
        out[at : at + 4] = (int.from_bytes(out[at : at + 4], "big") - cut).to_bytes(4, "big")
    return bytes(out)


def test_aac_priming_left_in_the_audio_is_an_av_sync_warning(demo: DemoTitle) -> None:
    """The old way (issue 12): no edit list skips the AAC encoder delay, audio plays 21.3 ms late."""
    folder, base = broken_copy(demo, "old-way-priming")
    for init in folder.glob("audio/*/init.mp4"):
        stripped = without_edts(init.read_bytes())
        assert b"edts" not in stripped
        init.write_bytes(stripped)
    for manifest in ("master.m3u8", "manifest.mpd"):
        report = check(f"{base}/{manifest}")
        assert report.errors == []
        (late, *_) = [f for f in report.warnings if f.rule == "av-sync"]
        assert "starts +21.3 ms from video" in late.detail
        assert "AAC encoder delay of 1024 samples not removed by an edit list" in late.detail
        assert not report.passes(strict=True)


def test_the_demo_title_has_no_warning(demo: DemoTitle) -> None:
    for url in (demo.hls, demo.dash):
        report = check(url)
        assert report.failures == [], report.table()


def test_demo_dash_bandwidth_is_judged_by_the_buffer_model(demo: DemoTitle) -> None:
    report = check(demo.dash)
    bandwidth = [f for f in report.findings if f.rule == "bandwidth"]
    assert len(bandwidth) == 5  # four video rungs and the audio
    assert all(f.ok for f in bandwidth), [f.line() for f in bandwidth if not f.ok]
    assert report.errors == []
    # Halve one rung's @bandwidth and the model names the smallest value that would pass.
    folder, base = broken_copy(demo, "neg-dash-bandwidth")
    mpd = folder / "manifest.mpd"
    text, count = re.subn(
        r'(id="360p" bandwidth=")(\d+)', lambda m: f"{m[1]}{int(m[2]) // 2}", mpd.read_text()
    )
    assert count == 1
    mpd.write_text(text)
    (error,) = check(f"{base}/manifest.mpd").errors
    assert (error.rule, error.severity) == ("bandwidth", "error")
    assert re.search(r"needs at least \d+ b/s", error.detail)
