from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bench.encode import plain_ffmpeg_args
from encoder.encode import SourceMedia, plan_job
from encoder.ladder import SourceGeometry, load_ladder
from tests.processes import run_cli

if TYPE_CHECKING:
    from tests.conftest import MakeMaster


def test_the_peer_command_is_one_process_with_the_same_ladder() -> None:
    source = SourceMedia(
        Path("/m.mp4"), SourceGeometry(1280, 720), Fraction(30), 10.0, audio_languages=("en",)
    )
    job = plan_job(source, load_ladder(None), Path("/out"))
    args = plain_ffmpeg_args("ffmpeg", job, Path("/peer"))
    assert args.count("-i") == 1
    assert args.count("-filter_complex") == 1
    assert [a for a in args if a.startswith("/peer/")] == [
        "/peer/720p.mp4",
        "/peer/540p.mp4",
        "/peer/360p.mp4",
        "/peer/240p.mp4",
        "/peer/audio-en.mp4",
    ]
    assert args[args.index("-b:v") + 1] == "3000000"
    assert args[args.index("-g") + 1] == "60"  # 2 s GOP at 30 fps


@pytest.mark.integration
def test_bench_encode_prints_both_measurements_and_their_ratio(
    make_master: MakeMaster, cli_env: dict[str, str]
) -> None:
    master = make_master("bench-2s.mp4", seconds=2, size="640x360")
    result = run_cli("bench", "encode", "--master", str(master), "--runs", "1", env=cli_env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["benchmark"] == "encode"
    assert report["master"]["frames"] == 60
    assert report["ladder"] == ["360p 640x360 800k", "240p 416x234 400k"]
    for side in ("vodpipe", "plain_ffmpeg"):
        assert report[side]["wall_seconds"] > 0
        assert report[side]["fps"] == pytest.approx(60 / report[side]["wall_seconds"], rel=0.01)
    ratio = report["vodpipe"]["wall_seconds"] / report["plain_ffmpeg"]["wall_seconds"]
    assert report["ratio_wall_vodpipe_over_ffmpeg"] == pytest.approx(ratio, rel=0.01)
