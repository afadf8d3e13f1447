"""Chunked encoding with AV1 and HEVC rungs: joined chunks against the one-process encode.

The H.264 rungs are covered by test_chunked_encode.py; here the same checks run on SVT-AV1 and
x265 rungs of a short 426x240 master, and the three codecs' keyframes are compared.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import av
import numpy as np
import pytest

from encoder.chunks import plan_chunks
from encoder.encode import plan_job, run_chunk, run_job
from encoder.join import join_chunks
from encoder.ladder import Ladder, Rung, with_codecs
from ingest.probe import probe
from packager.samples import iter_samples, read_header
from pipeline.job import source_media
from tests.player_test.conftest import QuietRunner

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MakeMaster

pytestmark = pytest.mark.integration

FRAMES = 150  # 6 s at 25 fps: three 2 s chunks of 50 frames, one GOP each
LADDER = with_codecs(
    Ladder((Rung("240p", 240, 300_000),), preset="ultrafast", av1_preset=10, hevc_preset="ultrafast"),
    ("h264", "av1", "hevc"),
    {"av1": 0.6, "hevc": 0.75},
)


def samples(path: Path) -> list[tuple[int, int, int, bool]]:
    with path.open("rb") as f:
        _, header = read_header(f)
        return [(s.decode_time, s.duration, s.composition_offset, s.is_sync) for s in iter_samples(f, header)]


def gray_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="gray").astype(np.int16) for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def encodes(make_master: MakeMaster, ffmpeg_exe: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    master = make_master("codecs-6s-240p.mp4", seconds=6, size="426x240", rate="25", audio=False)
    root = tmp_path_factory.mktemp("chunked-codecs")
    info = probe(master)
    assert info.video is not None
    job = plan_job(source_media(master, info), LADDER, root / "whole")
    whole = {r.id: r.path for r in run_job(QuietRunner(), ffmpeg_exe, job, info.duration)}
    chunks = plan_chunks(job, info.video.frame_count, 2)
    parts: dict[str, list[Path]] = {}
    for chunk in chunks:
        out = replace(job, out_dir=root / f"chunk{chunk.index}")
        for r in run_chunk(QuietRunner(), ffmpeg_exe, out, chunk):
            parts.setdefault(r.id, []).append(r.path)
    joined = {rung: root / f"joined-{rung}.mp4" for rung in parts}
    for rung, path in joined.items():
        join_chunks(parts[rung], path)
    return {"master": master, "chunks": chunks, "whole": whole, "joined": joined}


def test_the_master_is_cut_into_three_one_gop_chunks(encodes: dict) -> None:
    assert [(c.first_frame, c.frames) for c in encodes["chunks"]] == [(0, 50), (50, 50), (100, None)]


@pytest.mark.parametrize(("rung", "fourcc"), [("240p-av1", "av01"), ("240p-hevc", "hvc1")])
def test_joined_chunks_match_the_one_process_encode(encodes: dict, rung: str, fourcc: str) -> None:
    path = encodes["joined"][rung]
    with path.open("rb") as f:
        _, header = read_header(f)
    assert header.entry.fourcc == fourcc
    chunked, reference = samples(path), samples(encodes["whole"][rung])
    assert len(chunked) == len(reference) == FRAMES
    # every sample at the same decode time, with the same duration, offset and sync flag
    assert chunked == reference
    assert [t for t, _, _, sync in chunked if sync] == [0, 180_000, 360_000]


def test_keyframes_are_at_the_same_times_in_every_codec(encodes: dict) -> None:
    keyframes = {
        rung: [(t + offset) / 90_000 for t, _, offset, sync in samples(path) if sync]
        for rung, path in encodes["joined"].items()
    }
    assert keyframes == {rung: [0.0, 2.0, 4.0] for rung in ("240p", "240p-av1", "240p-hevc")}


@pytest.mark.parametrize("rung", ["240p-av1", "240p-hevc"])
def test_no_frame_is_lost_or_repeated_at_a_join(encodes: dict, rung: str) -> None:
    """Each decoded frame around a chunk boundary is nearest to the master frame of its index."""
    master = gray_frames(encodes["master"])
    joined = gray_frames(encodes["joined"][rung])  # 426x240 as the master: 16:9 at 240 lines
    assert len(joined) == len(master) == FRAMES
    for i in (48, 49, 50, 51, 99, 100, 101):
        distances = {j: float(np.abs(joined[i] - master[j]).mean()) for j in (i - 1, i, i + 1)}
        assert min(distances, key=distances.__getitem__) == i, (i, distances)
