"""Plan and run the encode of one master into the ladder's renditions."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from encoder.ffmpeg_args import AudioOutput, EncodeJob, audio_path, build_encode_args, video_path
from encoder.ladder import Ladder, SourceGeometry, plan_ladder

if TYPE_CHECKING:
    from pathlib import Path

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
    renditions = [EncodedRendition("video", r.name, video_path(job, r)) for r in job.rungs]
    renditions += [EncodedRendition("audio", o.id, audio_path(job, o), o.language) for o in job.audio]
    return renditions
