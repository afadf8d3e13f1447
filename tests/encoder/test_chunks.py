from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from encoder.chunks import Chunk, ChunkPolicy, choose_strategy, chunk_frames, chunk_window, plan_chunks
from encoder.ffmpeg_args import AudioOutput, EncodeJob, InputWindow, build_encode_args
from encoder.ladder import AudioSettings, PlannedRung

RUNG = PlannedRung("360p", 640, 360, 800_000, 1_200_000, 1_600_000)
TAIL = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"]


def job(**changes: object) -> EncodeJob:
    base = EncodeJob(
        Path("/in/m.mp4"), Path("/out"), (RUNG,), (AudioOutput(0, "en", "en"),), AudioSettings(), Fraction(30)
    )
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("rate", "seconds", "frames"),
    [
        pytest.param(Fraction(30), 4, 120, id="30fps-4s-is-two-gops"),
        pytest.param(Fraction(30), 48, 1440, id="30fps-48s"),
        pytest.param(Fraction(30), 5.5, 180, id="5.5s-rounds-to-three-gops"),
        pytest.param(Fraction(30), 0.5, 60, id="never-less-than-one-gop"),
        pytest.param(Fraction(30000, 1001), 48, 1440, id="29.97fps-24-gops-of-60"),
        pytest.param(Fraction(25), 30, 750, id="25fps-30s"),
    ],
)
def test_chunks_are_whole_gops(rate: Fraction, seconds: float, frames: int) -> None:
    assert chunk_frames(job(frame_rate=rate), seconds) == frames


def test_a_master_is_cut_into_gop_aligned_chunks_and_the_last_runs_to_the_end() -> None:
    assert plan_chunks(job(), 360, 4) == (Chunk(0, 0, 120), Chunk(1, 120, 120), Chunk(2, 240, None))


def test_a_short_tail_joins_the_chunk_before_it() -> None:
    assert plan_chunks(job(), 400, 4) == (Chunk(0, 0, 120), Chunk(1, 120, 120), Chunk(2, 240, None))
    # 70 frames left over is more than half a chunk: it gets its own
    assert plan_chunks(job(), 430, 4)[-1] == Chunk(3, 360, None)


def test_a_master_shorter_than_a_chunk_is_one_chunk() -> None:
    assert plan_chunks(job(), 50, 4) == (Chunk(0, 0, None),)


@pytest.mark.parametrize(
    ("frames", "workers", "vfr", "expected"),
    [
        pytest.param(360, 1, False, "single", id="one-worker-never-chunks"),
        pytest.param(360, 2, False, "chunked", id="two-workers-three-chunks"),
        pytest.param(100, 8, False, "single", id="shorter-than-two-chunks"),
        pytest.param(360, 2, True, "single", id="vfr-is-never-chunked"),
    ],
)
def test_the_planner_chunks_only_when_it_pays(frames: int, workers: int, vfr: bool, expected: str) -> None:
    strategy, chunks = choose_strategy(
        job(constant_frame_rate=not vfr), frames, workers, ChunkPolicy(chunk_seconds=4)
    )
    assert strategy == expected
    assert (len(chunks) == 3) == (expected == "chunked")
    assert not chunks or chunks[0].first_frame == 0


def test_a_chunk_is_read_from_half_a_frame_before_its_first_frame() -> None:
    assert chunk_window(job(), Chunk(0, 0, 120)) == InputWindow(None, Fraction(121, 30), 120)
    assert chunk_window(job(), Chunk(1, 120, 120)) == InputWindow(
        Fraction(239, 60), Fraction(243, 60), 120
    )
    assert chunk_window(job(), Chunk(2, 240, None)) == InputWindow(Fraction(479, 60), None, None)


def test_a_chunk_command_seeks_limits_frames_and_has_no_audio() -> None:
    args = build_encode_args("ffmpeg", job(), chunk_window(job(), Chunk(1, 120, 120)), audio=False)
    assert args[:7] == ["ffmpeg", "-ss", "3.983333", "-t", "4.050000", "-i", "/in/m.mp4"]
    assert args[args.index("-frames:v") + 1] == "120"
    assert args[args.index("-force_key_frames") + 1] == "expr:eq(mod(n,60),0)"
    assert "0:a:0" not in args
    assert args[-len(TAIL) - 1 :] == ["/out/video_360p.mp4", *TAIL]


def test_the_audio_command_encodes_the_whole_audio_and_no_video() -> None:
    args = build_encode_args("ffmpeg", job(), video_rungs=False)
    assert args == [
        "ffmpeg",
        "-i",
        "/in/m.mp4",
        "-map",
        "0:a:0",
        "-f",
        "mp4",
        "-ac",
        "2",
        "-ar",
        "48000",
        "-b:a",
        "128k",
        "-c:a",
        "aac",
        "-frag_duration",
        "2000000",
        "-movflags",
        "+frag_keyframe+empty_moov+delay_moov+default_base_moof",
        "/out/audio_en.mp4",
        *TAIL,
    ]


def test_ffmpeg_threads_are_set_per_rung_when_sized() -> None:
    args = build_encode_args("ffmpeg", job(threads=2), audio=False)
    assert args[args.index("-threads") + 1] == "2"
    assert "-threads" not in build_encode_args("ffmpeg", job())
