from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import pytest

from bench.common import Timing
from bench.curves import BdResult, RungResult, average, hull_bd_rate, ladder_curve, rate_at
from bench.ladder import (
    Bench,
    LadderRun,
    bench_ladder,
    encode_ladder,
    master_names,
    rendition_payload,
    summarize,
)
from bench.masters import KINDS, make_masters, master_args, video_graph
from encoder.bdrate import bd_rate
from encoder.hull import RatePoint
from encoder.ladder import Ladder, Rung, load_ladder
from encoder.runner import SubprocessRunner
from ingest.probe import probe
from pipeline.job import source_media
from tests.conftest import FAST_LADDER
from tests.processes import run_cli
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from encoder.encode import SourceMedia


def rung(name: str, bitrate: int, vmaf: float, height: int = 360) -> RungResult:
    # payload and seconds chosen so that the measured rate is exactly ``bitrate``
    return RungResult(name, height * 16 // 9, height, "h264", bitrate, bitrate // 8 * 2, 2.0, vmaf, vmaf - 5)


def curve(*points: tuple[int, float]) -> list[RatePoint]:
    return [RatePoint(r, q, 360, f"p{i}") for i, (r, q) in enumerate(points)]


# --- the curves ---------------------------------------------------------------------------------


def test_a_ladder_curve_keeps_only_the_rungs_on_its_upper_hull() -> None:
    rungs = [
        rung("240p", 400_000, 60.0, 240),
        rung("360p", 800_000, 75.0),
        rung("540p", 1_800_000, 70.0, 540),  # dearer than 360p and worse: never worth choosing
        rung("720p", 3_000_000, 95.0, 720),
        rung("480p", 1_900_000, 80.0, 480),  # under the chord from 360p to 720p
    ]
    hull = ladder_curve(rungs)
    assert [p.setting for p in hull] == ["240p", "360p", "720p"]
    assert [p.bitrate for p in hull] == [400_000, 800_000, 3_000_000]


def test_a_rung_bitrate_is_its_sample_bytes_over_its_duration() -> None:
    r = RungResult("360p", 640, 360, "h264", 800_000, payload_bytes=150_001, seconds=2.0, vmaf=80, vmaf_p5=70)
    assert r.bitrate == 600_004
    assert r.to_json()["bitrate"] == 600_004
    assert r.to_json()["size"] == "640x360"


def test_between_hull_rungs_the_rate_follows_the_chord() -> None:
    hull = curve((1000, 50.0), (3000, 70.0))
    assert rate_at(hull, 60.0) == pytest.approx(2000)


def test_the_same_qualities_for_80_percent_of_the_rate_is_minus_20_percent() -> None:
    reference = curve((400_000, 60.0), (800_000, 75.0), (1_800_000, 85.0), (3_000_000, 95.0))
    test = [RatePoint(round(p.bitrate * 0.8), p.quality, p.height) for p in reference]
    result = hull_bd_rate(reference, test)
    assert result.percent == pytest.approx(-20.0, abs=1e-6)
    assert (result.low, result.high) == (60.0, 95.0)
    # four hull points each: the classic cubic fit is given too, and agrees for a constant ratio
    assert result.cubic_percent == pytest.approx(-20.0, abs=1e-6)
    assert result.cubic_percent == pytest.approx(
        bd_rate([(p.bitrate, p.quality) for p in reference], [(p.bitrate, p.quality) for p in test])
    )


def test_the_mean_log_ratio_matches_its_closed_form_integral() -> None:
    # reference r = 1000 + 50 (q - 50), test r = 1000 + 150 (q - 50), for q from 50 to 70
    reference = curve((1000, 50.0), (2000, 70.0))
    test = curve((1000, 50.0), (4000, 70.0))

    def integral_of_log(a: float, b: float) -> float:  # of ln(a + b x) for x from 0 to 20
        def f(x: float) -> float:
            return ((a + b * x) * math.log(a + b * x) - (a + b * x)) / b

        return f(20) - f(0)

    mean = (integral_of_log(1000, 150) - integral_of_log(1000, 50)) / 20
    result = hull_bd_rate(reference, test)
    assert result.percent == pytest.approx((math.exp(mean) - 1) * 100, rel=1e-5)
    assert result.percent is not None
    assert result.percent > 0
    assert result.cubic_percent is None  # two points: no cubic


def test_only_the_quality_range_both_ladders_reach_is_compared() -> None:
    reference = curve((500, 40.0), (1000, 60.0), (2000, 80.0))
    test = curve((700, 60.0), (1400, 80.0), (5000, 99.0))  # 30 % less than reference from 60 to 80
    result = hull_bd_rate(reference, test)
    assert (result.low, result.high) == (60.0, 80.0)
    assert result.percent == pytest.approx(-30.0, abs=1e-6)


def test_a_one_rung_ladder_inside_the_other_is_compared_at_its_quality() -> None:
    reference = curve((1000, 50.0), (3000, 90.0))
    test = curve((1000, 70.0))  # the reference needs 2000 for VMAF 70
    result = hull_bd_rate(reference, test)
    assert (result.low, result.high) == (70.0, 70.0)
    assert result.percent == pytest.approx(-50.0)


def test_ladders_that_share_no_quality_have_no_bd_rate_and_say_why() -> None:
    result = hull_bd_rate(curve((1000, 50.0), (2000, 60.0)), curve((3000, 70.0), (4000, 90.0)))
    assert result.percent is None
    assert result.reason == "the ladders share no quality: reference VMAF 50.0-60.0, test 70.0-90.0"
    assert result.to_json() == {
        "percent": None,
        "cubic_percent": None,
        "vmaf_range": None,
        "reason": result.reason,
    }


# --- the report -----------------------------------------------------------------------------------


def master_report(
    name: str, per_title: float | None, av1: float | None, shares: tuple[float, float]
) -> dict[str, Any]:
    return {
        "name": name,
        "bd_rate": {
            "per_title_vs_fixed": BdResult(per_title, None, None).to_json(),
            "av1_vs_h264": BdResult(av1, None, None).to_json(),
        },
        "analysis_share": {"wall": shares[0], "cpu": shares[1]},
    }


def test_the_averages_are_over_the_masters_that_have_a_figure() -> None:
    masters = [
        master_report("slide", -40.0, -30.0, (0.2, 0.1)),
        master_report("pattern", -10.0, None, (0.4, 0.3)),
        master_report("noisy", 5.0, -20.0, (0.3, 0.2)),
    ]
    assert summarize(masters) == {
        "per_title_vs_fixed": {"mean_percent": -15.0, "worst_percent": 5.0, "masters": 3},
        "av1_vs_h264": {"mean_percent": -25.0, "worst_percent": -20.0, "masters": 2},
        "analysis_share": {"wall": 0.3, "cpu": 0.2},
    }
    assert average([]) == {"mean_percent": None, "worst_percent": None, "masters": 0}


def test_a_ladder_run_reports_its_rungs_hull_and_times() -> None:
    run = LadderRun(
        "per_title",
        "h264",
        (rung("240p", 300_000, 70.0, 240), rung("360p", 500_000, 69.0)),
        Timing(10.12345, 18.5),
        Timing(2.0, 3.0),
    )
    out = run.to_json()
    assert out["codec"] == "h264"
    assert out["hull"] == ["240p"]
    assert out["encode"] == {"wall_seconds": 10.123, "cpu_seconds": 18.5}
    assert out["analysis"] == {"wall_seconds": 2.0, "cpu_seconds": 3.0}
    assert [r["bitrate"] for r in out["rungs"]] == [300_000, 500_000]


def test_masters_are_named_by_file_and_repeats_numbered() -> None:
    names = master_names([Path("/a/clip.mp4"), Path("/b/clip.mp4"), Path("/c/other.mov")])
    assert list(names) == ["clip", "clip-2", "other"]


# --- the generated masters ------------------------------------------------------------------------


def test_master_arguments_are_a_pure_function_of_their_shape() -> None:
    args = [master_args("ffmpeg", kind, Path(f"/m/{kind}.mp4")) for kind in KINDS]
    assert args == [master_args("ffmpeg", kind, Path(f"/m/{kind}.mp4")) for kind in KINDS]
    assert len({a[a.index("-i") + 1] for a in args}) == 4  # four different sources
    noisy = video_graph("noisy", 1280, 720, 24, 6)
    assert "noise=alls=12:allf=t:all_seed=20251125" in noisy  # temporal grain, fixed seed
    mixed = video_graph("mixed", 1280, 720, 24, 6)
    assert mixed.endswith("[slide][pattern][noisy]concat=n=3:v=1:a=0")
    assert mixed.count("duration=2") >= 3  # one third each


def test_an_unknown_kind_or_odd_size_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown master kind 'sport'"):
        video_graph("sport", 640, 360, 24, 2)
    with pytest.raises(ConfigError, match="even"):
        master_args("ffmpeg", "slide", Path("/m.mp4"), size=(641, 360))


# --- real encodes ---------------------------------------------------------------------------------


def _tiny_ladder() -> Ladder:
    fast = load_ladder(FAST_LADDER)
    return Ladder(
        rungs=(Rung("180p", 180, 250_000), Rung("144p", 144, 120_000)),
        audio=fast.audio,
        preset=fast.preset,
    )


def _stand_in_planner(source: SourceMedia, base: Ladder, workdir: Path) -> Ladder:
    """A stand-in for the per-title analysis: the base ladder with other bitrates."""
    workdir.mkdir(parents=True)
    return Ladder(
        rungs=(Rung("180p", 180, 150_000), Rung("144p", 144, 60_000)),
        audio=base.audio,
        preset=base.preset,
    )


def _h264_only(ladder: Ladder, codec: str) -> Ladder:
    assert codec == "h264"
    return ladder


def _packet_bytes(path: Path) -> tuple[int, float]:
    """Sample bytes and duration read by FFmpeg's demuxer (PyAV), apart from vodpipe's parser."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        assert stream.time_base is not None
        ticks = sum(p.duration or 0 for p in packets)
        return sum(p.size for p in packets), float(ticks * stream.time_base)


@pytest.mark.integration
def test_each_rung_is_encoded_measured_and_scored(tmp_path: Path, ffmpeg_exe: str) -> None:
    runner = SubprocessRunner()
    (master,) = make_masters(
        runner, ffmpeg_exe, tmp_path / "m", kinds=("pattern",), size=(320, 180), seconds=2
    ).values()
    source = source_media(master, probe(master))
    logged: list[str] = []
    bench = Bench(runner, ffmpeg_exe, vmaf_every=2, log=logged.append)
    rungs, timing = encode_ladder(bench, source, _tiny_ladder(), tmp_path / "fixed", "fixed", "h264")
    assert [r.name for r in rungs] == ["180p", "144p"]
    assert timing.wall_seconds > 0
    assert timing.cpu_seconds > 0
    for r in rungs:
        path = tmp_path / "fixed" / f"video_{r.name}.mp4"
        payload, seconds = _packet_bytes(path)
        assert (r.payload_bytes, r.seconds) == (payload, pytest.approx(seconds))
        assert r.seconds == pytest.approx(2.0)
        assert r.payload_bytes < path.stat().st_size  # the container adds its boxes
        assert r.bitrate == round(payload * 8 / seconds)
        assert 0 < r.vmaf <= 100
        assert r.vmaf_p5 <= r.vmaf
        assert rendition_payload(path) == (r.payload_bytes, pytest.approx(r.seconds))
    assert rungs[0].vmaf > rungs[1].vmaf  # more pixels and bits score higher
    assert logged[0] == "fixed: encoding 2 rungs"


@pytest.mark.integration
def test_the_benchmark_reports_every_ladder_and_draws_them(tmp_path: Path, ffmpeg_exe: str) -> None:
    (master,) = make_masters(
        SubprocessRunner(), ffmpeg_exe, tmp_path / "m", kinds=("slide",), size=(320, 180), seconds=2
    ).values()
    report = bench_ladder(
        ffmpeg_exe=ffmpeg_exe,
        base=_tiny_ladder(),
        masters=[master],
        codecs=["h264"],
        planner=_stand_in_planner,
        with_codec=_h264_only,
        out_dir=tmp_path / "out",
        scratch=tmp_path,
        vmaf_every=4,
    )
    assert report["benchmark"] == "ladder"
    (one,) = report["masters"]
    assert one["name"] == master.stem
    assert one["master"]["frames"] == 48
    assert list(one["ladders"]) == ["fixed", "per_title"]
    fixed, per_title = one["ladders"]["fixed"], one["ladders"]["per_title"]
    assert [r["target_bitrate"] for r in fixed["rungs"]] == [250_000, 120_000]
    assert [r["target_bitrate"] for r in per_title["rungs"]] == [150_000, 60_000]
    for ladder in (fixed, per_title):
        assert set(ladder["hull"]) <= {r["name"] for r in ladder["rungs"]}
        for r in ladder["rungs"]:
            assert r["bitrate"] == round(r["payload_bytes"] * 8 / r["seconds"])
            assert 0 < r["vmaf"] <= 100
    assert per_title["analysis"]["wall_seconds"] >= 0
    share, encode_wall = one["analysis_share"]["wall"], per_title["encode"]["wall_seconds"]
    # The seconds are reported to the millisecond and the share from the unrounded times: a
    # half-millisecond of rounding in the analysis time moves the share by 0.0005 / encode time.
    assert share == pytest.approx(
        per_title["analysis"]["wall_seconds"] / encode_wall, abs=1e-3 + 0.0005 / encode_wall
    )
    bd = one["bd_rate"]["per_title_vs_fixed"]
    assert bd["percent"] is None or isinstance(bd["percent"], float)
    assert report["average"]["per_title_vs_fixed"]["mean_percent"] == bd["percent"]
    plot = Path(report["plot"])
    assert plot == tmp_path / "out" / "ladder-bench.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("vodpipe-bench-ladder-*"))  # the work folder is removed


# --- the command line -----------------------------------------------------------------------------


def test_bench_ladder_refuses_a_zero_sampling_step(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = run_cli("bench", "ladder", "--vmaf-every", "0", "--out", str(tmp_path / "out"), env=cli_env)
    assert (result.returncode, result.stderr.strip()) == (
        1,
        "vodpipe: error: --vmaf-every must be at least 1, got 0",
    )
    assert not (tmp_path / "out").exists()


def test_bench_ladder_names_a_master_it_cannot_read(cli_env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    result = run_cli("bench", "ladder", "--master", str(missing), "--codecs", "h264", env=cli_env)
    assert result.returncode == 1
    assert result.stderr.startswith("vodpipe: error: ")
    assert str(missing) in result.stderr or "nope.mp4" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""
