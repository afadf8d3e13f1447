from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from encoder.ladder import PlannedRung
from encoder.per_title import Excerpt
from encoder.trials import trial_args


def test_the_first_pass_decodes_the_excerpt_and_keeps_its_raw_frames() -> None:
    rung = PlannedRung("720p", 1280, 720, 3_000_000, 4_500_000, 6_000_000)
    outputs = [(rung, [(25, Path("/w/a25.mp4"))])]
    source = (Path("/m/master.mov"), Excerpt(14.0, 2.0))
    args = trial_args("ffmpeg", Path("/w/excerpt-0.nut"), outputs, "veryfast", 48, 2, source)
    # input seeking: decoded from the keyframe before, frames before 14 s dropped, 2 s kept
    assert args[args.index("-ss") + 1 : args.index("-i") + 2] == [
        "14.000000",
        "-t",
        "2.000000",
        "-i",
        "/m/master.mov",
    ]
    assert args.count("-i") == 1
    graph = args[args.index("-filter_complex") + 1].split(";")
    assert graph[0] == "[0:v:0]split=2[s0][raw]"  # the first video stream: to the trials and kept
    raw = args.index("[raw]")
    assert args[raw - 1 : raw + 6] == ["-map", "[raw]", "-c:v", "rawvideo", "-f", "nut", "/w/excerpt-0.nut"]
    assert args[-1] == "/w/a25.mp4"


def test_trials_read_the_raw_frames_and_split_per_size_then_per_crf() -> None:
    rungs = [
        PlannedRung("720p", 1280, 720, 3_000_000, 4_500_000, 6_000_000),
        PlannedRung("360p", 640, 360, 800_000, 1_200_000, 1_600_000, Fraction(1)),
    ]
    outputs = [
        (rungs[0], [(25, Path("/w/a25.mp4")), (31, Path("/w/a31.mp4"))]),
        (rungs[1], [(25, Path("/w/b25.mp4"))]),
    ]
    args = trial_args("ffmpeg", Path("/w/excerpt-0.nut"), outputs, "veryfast", 48)
    assert args[args.index("-i") + 1] == "/w/excerpt-0.nut"
    assert "-ss" not in args
    graph = args[args.index("-filter_complex") + 1].split(";")
    assert graph[0] == "[0:v:0]split=2[s0][s1]"
    assert graph[1].startswith("[s0]scale=1280:720:flags=bicubic")
    assert graph[1].endswith("split=2[t0_0][t0_1]")
    assert graph[2].endswith("split=1[t1_0]")
    assert [args[i + 1] for i, a in enumerate(args) if a == "-crf"] == ["25", "31", "25"]
    assert args.count("-g") == 3
    assert args[args.index("-g") + 1] == "48"


def test_each_x264_gets_one_thread_only_when_the_trials_fill_the_cores() -> None:
    rung = PlannedRung("720p", 1280, 720, 3_000_000, 4_500_000, 6_000_000)
    outputs = [(rung, [(25, Path("/w/a25.mp4")), (31, Path("/w/a31.mp4"))])]

    def threads(cores: int) -> list[str]:
        args = trial_args("ffmpeg", Path("/w/excerpt-0.nut"), outputs, "veryfast", 48, cores)
        return [args[i + 1] for i, a in enumerate(args) if a == "-threads"]

    assert threads(2) == ["1", "1"]  # two trials, two cores: one x264 per core
    assert threads(1) == ["1", "1"]
    assert threads(16) == []  # a big host: x264 threads itself across the idle cores
