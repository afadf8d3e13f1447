from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from encoder.quality import (
    FrameScore,
    QualityJob,
    build_quality_args,
    by_segment,
    host_threads,
    parse_vmaf_log,
    percentile,
    split_batch,
    summarize,
    wants_phone_model,
)
from vodpipe.errors import EncodeError


def _log(frames: list[dict[str, float]], step: int = 1) -> str:
    """A libvmaf JSON log in the shape libvmaf 3 writes (version, fps, frames, pooled_metrics)."""
    entries = [{"frameNum": i * step, "metrics": metrics} for i, metrics in enumerate(frames)]
    return json.dumps({"version": "86da14d", "fps": 400.0, "frames": entries, "pooled_metrics": {}})


def _frame(vmaf: float, psnr: float = 40.0, ssim: float = 0.98, **extra: float) -> dict[str, float]:
    return {
        "psnr_y": psnr,
        "psnr_cb": psnr + 2,
        "float_ssim": ssim,
        "integer_adm2": 0.9,
        "vmaf": vmaf,
        **extra,
    }


def test_quality_args_are_one_pass_with_the_built_in_model() -> None:
    job = QualityJob(
        rung=Path("/w/360p.mp4"),
        master=Path("/w/master.mov"),
        display_width=1920,
        display_height=1080,
        log_path=Path("/w/360p.vmaf.json"),
        n_subsample=5,
        threads=2,
    )
    prepare = "scale=1920:1080:flags=bicubic,format=yuv420p,setsar=1,setpts=PTS-STARTPTS"
    assert build_quality_args("ffmpeg", job) == [
        "ffmpeg",
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-progress",
        "pipe:1",
        "-nostats",
        "-i",
        "/w/360p.mp4",
        "-i",
        "/w/master.mov",
        "-filter_complex",
        f"[0:v]{prepare}[main];[1:v]{prepare}[ref];[main][ref]libvmaf="
        r"model=version=vmaf_v0.6.1\\:name=vmaf:feature=name=psnr|name=float_ssim:log_fmt=json:"
        "log_path=/w/360p.vmaf.json:n_subsample=5:n_threads=2",
        "-f",
        "null",
        "-",
    ]


def test_phone_model_is_a_second_model_in_the_same_pass() -> None:
    job = QualityJob(Path("r.mp4"), Path("m.mp4"), 640, 360, Path("l.json"), phone_model=True)
    graph = build_quality_args("ffmpeg", job)[13]
    assert (
        r"model=version=vmaf_v0.6.1\\:name=vmaf|version=vmaf_v0.6.1\\:name=vmaf_phone"
        r"\\:enable_transform=true:" in graph
    )


def test_log_path_special_characters_are_escaped_twice() -> None:
    job = QualityJob(Path("r.mp4"), Path("m.mp4"), 640, 360, Path("/t/a:b,c'd.json"))
    graph = build_quality_args("ffmpeg", job)[13]
    # option level: \: and \' ; graph level: each backslash, the comma and the quote again
    assert r"log_path=/t/a\\:b\,c\\\'d.json:" in graph


@pytest.mark.parametrize(
    ("height", "phone"),
    [
        pytest.param(360, True, id="360p"),
        pytest.param(240, True, id="240p"),
        pytest.param(540, False, id="540p"),
    ],
)
def test_phone_model_for_small_rungs(height: int, phone: bool) -> None:
    assert wants_phone_model(height) is phone


def test_host_threads() -> None:
    assert host_threads(8) == 8
    assert host_threads(0) == 1
    assert host_threads() >= 1


def test_parse_log_reads_each_sampled_frame() -> None:
    text = _log([_frame(80.5), _frame(90.0, psnr=60.0, ssim=1.0, vmaf_phone=95.5)], step=5)
    assert parse_vmaf_log(text) == [
        FrameScore(frame=0, vmaf=80.5, psnr_y=40.0, ssim=0.98),
        FrameScore(frame=5, vmaf=90.0, psnr_y=60.0, ssim=1.0, vmaf_phone=95.5),
    ]


def test_infinite_psnr_is_clipped_like_libvmaf() -> None:
    text = json.dumps({"frames": [{"frameNum": 0, "metrics": _frame(100.0, psnr=float("inf"))}]})
    assert parse_vmaf_log(text)[0].psnr_y == 60.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("not json", "not JSON", id="garbage"),
        pytest.param(json.dumps({"frames": []}), "no frames", id="empty"),
        pytest.param(
            json.dumps({"frames": [{"frameNum": 0, "metrics": {"vmaf": 1}}]}), "psnr_y", id="missing"
        ),
    ],
)
def test_bad_logs_are_precise_errors(text: str, message: str) -> None:
    with pytest.raises(EncodeError, match=message):
        parse_vmaf_log(text)


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(v) for v in range(1, 22)]  # 1..21: the 5th percentile sits at rank 1.0
    assert percentile(values, 0.05) == 2.0
    assert percentile([10.0, 20.0], 0.05) == pytest.approx(10.5)
    assert percentile([7.0], 0.05) == 7.0


def test_summary_mean_p5_minimum() -> None:
    frames = [FrameScore(i, vmaf=v, psnr_y=40.0, ssim=0.9) for i, v in enumerate([90.0, 70.0, 80.0, 100.0])]
    summary = summarize(frames)
    assert summary.frames == 4
    assert summary.vmaf.mean == 85.0
    assert summary.vmaf.minimum == 70.0
    assert summary.vmaf.p5 == pytest.approx(71.5)  # 70 + 0.15 * (80 - 70)
    assert summary.vmaf_phone is None


def test_segments_split_frames_by_presentation_time() -> None:
    # 10 fps, every other frame scored: frames 0..38 over 4 s, segments at 0, 2 and 3 s
    frames = [FrameScore(i, vmaf=float(i), psnr_y=40.0, ssim=0.9) for i in range(0, 40, 2)]
    segments = by_segment(frames, Fraction(10), [0.0, 2.0, 3.0])
    assert [s.frames for s in segments] == [10, 5, 5]
    assert segments[0].vmaf.minimum == 0.0
    assert segments[1].vmaf.minimum == 20.0
    assert segments[2].vmaf.minimum == 30.0


def test_segment_without_a_scored_frame_is_an_error() -> None:
    frames = [FrameScore(i, vmaf=90.0, psnr_y=40.0, ssim=0.9) for i in range(0, 40, 20)]
    with pytest.raises(EncodeError, match="segment 1 has no scored frame"):
        by_segment(frames, Fraction(10), [0.0, 1.0, 2.0])


def test_without_ssim_the_pass_asks_libvmaf_for_psnr_only() -> None:
    job = QualityJob(Path("r.mp4"), Path("m.mp4"), 640, 360, Path("l.json"), ssim=False)
    assert ":feature=name=psnr:log_fmt=json:" in build_quality_args("ffmpeg", job)[13]
    frames = parse_vmaf_log(
        json.dumps({"frames": [{"frameNum": 0, "metrics": {"vmaf": 90.0, "psnr_y": 41.0}}]})
    )
    assert frames == [FrameScore(frame=0, vmaf=90.0, psnr_y=41.0)]
    assert summarize(frames).ssim is None


def test_pairs_feed_libvmaf_each_scored_frame_and_the_one_after_it() -> None:
    job = QualityJob(Path("r.mp4"), Path("m.mp4"), 640, 360, Path("l.json"), n_subsample=5, pairs_every=10)
    graph = build_quality_args("ffmpeg", job)[13]
    # frames 0, 1, 10, 11, 20, 21... on both sides, before scaling; libvmaf scores every other
    # one it gets (0, 10, 20...), whose motion the frame after it keeps right
    prepare = r"select='lt(mod(n\,10)\,2)',scale=640:360:flags=bicubic"
    assert graph.startswith(f"[0:v]{prepare}")
    assert f"[1:v]{prepare}" in graph
    assert ":n_subsample=2:" in graph


@pytest.mark.parametrize(("pairs", "subsample"), [(1, "1"), (2, "2")], ids=["every-frame", "every-other"])
def test_pairs_of_two_or_fewer_feed_every_frame(pairs: int, subsample: str) -> None:
    job = QualityJob(Path("r.mp4"), Path("m.mp4"), 640, 360, Path("l.json"), n_subsample=5, pairs_every=pairs)
    graph = build_quality_args("ffmpeg", job)[13]
    assert "select" not in graph
    assert f":n_subsample={subsample}:" in graph


def test_a_batch_is_dealt_round_robin_to_at_most_one_ffmpeg_per_core() -> None:
    jobs = [QualityJob(Path(f"t{i}.mp4"), Path("m.nut"), 640, 360, Path(f"l{i}.json")) for i in range(5)]
    assert [[j.rung.name for j in batch] for batch in split_batch(jobs, 2)] == [
        ["t0.mp4", "t2.mp4", "t4.mp4"],
        ["t1.mp4", "t3.mp4"],
    ]
    assert split_batch(jobs[:1], 4) == [jobs[:1]]
    assert split_batch(jobs, 0) == [jobs]
