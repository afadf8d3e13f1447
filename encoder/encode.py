"""Plan and run the encode of one master into the ladder's renditions."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from encoder.chunks import chunk_window
from encoder.ffmpeg_args import AudioOutput, EncodeJob, audio_path, build_encode_args, video_path
from encoder.ladder import Ladder, SourceGeometry, plan_ladder
from packager.samples import iter_samples, read_header
from vodpipe.errors import InvalidMasterError

if TYPE_CHECKING:
    from pathlib import Path

    from encoder.chunks import Chunk
    from encoder.runner import FFmpegRunner, ProgressCallback


@dataclass(frozen=True)
class SourceMedia:
    """What the encoder needs to know of a master (filled in from the probe)."""

    path: Path
    geometry: SourceGeometry
    frame_rate: Fraction
    duration: float
    variable_frame_rate: bool = False
    interlaced: bool = False
    hdr: bool = False
    audio_languages: tuple[str, ...] = ()  # one per audio stream, in stream order


@dataclass(frozen=True)
class EncodedRendition:
    kind: Literal["video", "audio"]
    id: str
    path: Path
    language: str = "und"


def audio_outputs(languages: tuple[str, ...]) -> tuple[AudioOutput, ...]:
    """One output per audio stream, named by language; repeats get ``-2``, ``-3``..."""
    seen: dict[str, int] = {}
    outputs = []
    for index, language in enumerate(languages):
        seen[language] = seen.get(language, 0) + 1
        name = language if seen[language] == 1 else f"{language}-{seen[language]}"
        outputs.append(AudioOutput(index, name, language))
    return tuple(outputs)


_BROADCAST_RATES = tuple(Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120))


def output_frame_rate(source: SourceMedia) -> Fraction:
    """The source rate; a VFR source's average is snapped to the nearest N/1001 or whole rate."""
    rate = source.frame_rate
    if not source.variable_frame_rate:
        return rate
    candidates = (*_BROADCAST_RATES, Fraction(max(1, round(rate))))
    return min(candidates, key=lambda c: abs(c - rate))


def plan_job(source: SourceMedia, ladder: Ladder, out_dir: Path) -> EncodeJob:
    return EncodeJob(
        master=source.path,
        out_dir=out_dir,
        rungs=plan_ladder(ladder, source.geometry),
        audio=audio_outputs(source.audio_languages),
        audio_settings=ladder.audio,
        frame_rate=output_frame_rate(source),
        gop_seconds=ladder.gop_seconds,
        preset=ladder.preset,
        profile=ladder.profile,
        av1_preset=ladder.av1_preset,
        hevc_preset=ladder.hevc_preset,
        deinterlace=source.interlaced,
        constant_frame_rate=not source.variable_frame_rate,
        tonemap=source.hdr,
    )


def run_job(
    runner: FFmpegRunner,
    ffmpeg_exe: str,
    job: EncodeJob,
    duration: float,
    on_progress: ProgressCallback | None = None,
) -> list[EncodedRendition]:
    job.out_dir.mkdir(parents=True, exist_ok=True)
    runner.run(build_encode_args(ffmpeg_exe, job), duration, on_progress)
    return video_renditions(job) + audio_renditions(job)


def video_renditions(job: EncodeJob) -> list[EncodedRendition]:
    return [EncodedRendition("video", r.name, video_path(job, r)) for r in job.rungs]


def audio_renditions(job: EncodeJob) -> list[EncodedRendition]:
    return [EncodedRendition("audio", o.id, audio_path(job, o), o.language) for o in job.audio]


def count_samples(path: Path) -> int:
    with path.open("rb") as f:
        _, header = read_header(f)
        return sum(1 for _ in iter_samples(f, header))


def run_chunk(
    runner: FFmpegRunner,
    ffmpeg_exe: str,
    job: EncodeJob,
    chunk: Chunk,
    on_progress: ProgressCallback | None = None,
    seconds: float | None = None,
) -> list[EncodedRendition]:
    """Encode one chunk's video into every rung (one decode); audio is encoded whole, apart.

    ``seconds`` is the chunk's expected length, for progress (the last chunk's is open).

    Every rung must hold the chunk's frames exactly: fewer means the master ended or stopped
    decoding early, which no retry can mend.
    """
    job.out_dir.mkdir(parents=True, exist_ok=True)
    if seconds is None:
        seconds = float((chunk.frames or 0) / job.frame_rate)
    args = build_encode_args(ffmpeg_exe, job, chunk_window(job, chunk), audio=False)
    runner.run(args, seconds, on_progress)
    renditions = video_renditions(job)
    for rendition in renditions:
        frames = count_samples(rendition.path)
        if frames == 0 or (chunk.frames is not None and frames != chunk.frames):
            wanted = "some" if chunk.frames is None else str(chunk.frames)
            raise InvalidMasterError(
                f"master chunk {chunk.index} (from frame {chunk.first_frame}) decoded to {frames} "
                f"of {wanted} frames: the master is truncated or corrupt there"
            )
    return renditions


def run_audio(
    runner: FFmpegRunner,
    ffmpeg_exe: str,
    job: EncodeJob,
    duration: float,
    on_progress: ProgressCallback | None = None,
) -> list[EncodedRendition]:
    """Encode every audio stream, whole: one AAC stream has no priming gap at a chunk join."""
    job.out_dir.mkdir(parents=True, exist_ok=True)
    if job.audio:
        runner.run(build_encode_args(ffmpeg_exe, job, video_rungs=False), duration, on_progress)
    return audio_renditions(job)
