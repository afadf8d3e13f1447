"""A chunked encode, joined, against the one-process encode of the same master."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING

import av
import numpy as np
import pytest

from encoder.chunks import plan_chunks
from encoder.encode import EncodedRendition, plan_job, run_audio, run_chunk, run_job
from encoder.join import join_chunks
from encoder.ladder import load_ladder
from encoder.runner import SubprocessRunner
from ingest.probe import probe
from packager.package import EncodedTrack, package
from packager.samples import iter_samples, read_header
from pipeline.job import source_media
from tests.conftest import FAST_LADDER
from vodpipe.errors import PackagingError

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MakeMaster

pytestmark = pytest.mark.integration

MASTER_FRAMES = 360  # 12 s at 30 fps
MASTER_SAMPLES = 12 * 48_000


def samples(path: Path) -> list[tuple[int, int, int, bool]]:
    with path.open("rb") as f:
        _, header = read_header(f)
        return [(s.decode_time, s.duration, s.composition_offset, s.is_sync) for s in iter_samples(f, header)]


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="gray").astype(np.int16) for f in container.decode(video=0)]


def audio_timeline(path: Path) -> tuple[int, bool]:
    """Decoded sample count, and whether every frame starts where the one before ended."""
    total, contiguous, expected = 0, True, None
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            assert frame.pts is not None
            contiguous &= expected is None or frame.pts == expected
            expected = frame.pts + frame.samples
            total += frame.samples
    return total, contiguous


@pytest.fixture(scope="module")
def encodes(make_master: MakeMaster, ffmpeg_exe: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The 12 s master encoded both ways: one FFmpeg, and 4 s chunks + whole audio, joined."""
    master = make_master("chunked-12s.mp4", seconds=12, size="640x360")
    root = tmp_path_factory.mktemp("chunked")
    info = probe(master)
    assert info.video is not None
    runner = SubprocessRunner()
    job = plan_job(source_media(master, info), load_ladder(FAST_LADDER), root / "whole")
    whole = run_job(runner, ffmpeg_exe, job, info.duration)
    chunks = plan_chunks(job, info.video.frame_count, 4)
    parts: dict[str, list[Path]] = {}
    for chunk in chunks:
        for r in run_chunk(runner, ffmpeg_exe, replace(job, out_dir=root / f"chunk{chunk.index}"), chunk):
            parts.setdefault(r.id, []).append(r.path)
    joined = [EncodedRendition("video", rung, root / f"joined-{rung}.mp4") for rung in parts]
    for rendition in joined:
        join_chunks(parts[rendition.id], rendition.path)
    joined += run_audio(runner, ffmpeg_exe, replace(job, out_dir=root / "audio"), info.duration)
    return {
        "master": master,
        "root": root,
        "chunks": chunks,
        "whole": whole,
        "joined": joined,
        "parts": parts,
    }


def test_the_master_is_cut_into_three_chunks(encodes: dict) -> None:
    assert [(c.first_frame, c.frames) for c in encodes["chunks"]] == [(0, 120), (120, 120), (240, None)]


def test_joined_rungs_have_the_same_frames_and_keyframes_as_the_one_process_encode(encodes: dict) -> None:
    whole = {r.id: r.path for r in encodes["whole"] if r.kind == "video"}
    joined = {r.id: r.path for r in encodes["joined"] if r.kind == "video"}
    assert sorted(joined) == sorted(whole) == ["240p", "360p"]
    for rung, path in joined.items():
        chunked, reference = samples(path), samples(whole[rung])
        assert len(chunked) == len(reference) == MASTER_FRAMES
        # every sample at the same decode time, with the same duration, offset and sync flag
        assert chunked == reference
        assert [t for t, _, _, sync in chunked if sync] == [0, 180_000, 360_000, 540_000, 720_000, 900_000]


def test_no_frame_is_lost_or_repeated_at_a_join(encodes: dict) -> None:
    """Each frame around a chunk boundary is nearest to the master frame of the same index."""
    master = frames(encodes["master"])
    joined = frames(next(r.path for r in encodes["joined"] if r.id == "360p"))  # 640x360, as the master
    assert len(joined) == len(master) == MASTER_FRAMES
    for i in (118, 119, 120, 121, 239, 240, 241):
        distances = {j: float(np.abs(joined[i] - master[j]).mean()) for j in (i - 1, i, i + 1)}
        assert min(distances, key=distances.__getitem__) == i, (i, distances)


def test_both_package_to_the_same_segment_boundaries(encodes: dict) -> None:
    def boundaries(renditions: list[EncodedRendition], out: Path) -> list[list[tuple[int, int]]]:
        tracks = [EncodedTrack(r.kind, r.id, r.path, r.language) for r in renditions]
        presentation = package(tracks, out, Fraction(4))
        everything = (*presentation.video, *presentation.audio)
        return [[(s.start, s.duration) for s in r.segments] for r in everything]

    root = encodes["root"]
    chunked = boundaries(encodes["joined"], root / "pkg-joined")
    assert chunked == boundaries(encodes["whole"], root / "pkg-whole")
    assert chunked[0] == [(0, 360_000), (360_000, 360_000), (720_000, 360_000)]


def test_audio_encoded_whole_has_no_gap(encodes: dict) -> None:
    audio = next(r.path for r in encodes["joined"] if r.kind == "audio")
    reference = next(r.path for r in encodes["whole"] if r.kind == "audio")
    count, contiguous = audio_timeline(audio)
    assert contiguous
    assert count == audio_timeline(reference)[0]
    # the master's 576,000 samples, give or take the AAC encoder's priming and last-frame padding
    assert MASTER_SAMPLES <= count <= MASTER_SAMPLES + 2 * 1024


def test_chunks_of_different_rungs_cannot_be_joined(encodes: dict, tmp_path: Path) -> None:
    parts = encodes["parts"]
    with pytest.raises(PackagingError, match="codec configuration or timescale differs"):
        join_chunks([parts["360p"][0], parts["240p"][1]], tmp_path / "mixed.mp4")
