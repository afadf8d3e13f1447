"""Quality of a rung against its master: VMAF, PSNR and SSIM in one FFmpeg pass.

The rung is compared the way a viewer sees it: a player scales every rung to the display size,
so the rung is upscaled (bicubic) to the master's display size, and the master is brought to the
same size and pixel format, before libvmaf reads both. libvmaf computes VMAF (the built-in
``vmaf_v0.6.1`` model, and its phone variant on request), PSNR and SSIM as extra features, and
writes one JSON log; the parsing and the summaries below are pure.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vodpipe.errors import EncodeError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from fractions import Fraction
    from pathlib import Path

    from encoder.runner import FFmpegRunner

MODEL = "vmaf_v0.6.1"
# libvmaf clips PSNR of 8-bit video at 60 dB (its psnr_max default): identical frames score 60,
# never infinity, so summaries stay finite.
PSNR_CAP_8BIT = 60.0
# The phone model is the default model with a transform libvmaf applies when
# enable_transform is set (libvmaf resource/doc/models.md); worth reporting for small rungs.
PHONE_MAX_HEIGHT = 360


@dataclass(frozen=True)
class QualityJob:
    rung: Path
    master: Path
    display_width: int  # the master's display size: storage size times its sample aspect ratio
    display_height: int
    log_path: Path
    n_subsample: int = 1  # score every Nth frame: long titles need not score every frame
    # Score frames 0, N, 2N... as n_subsample=N would, but feed libvmaf only those frames and
    # the one after each (frames N-2 of every N are dropped before scaling): VMAF's motion
    # feature is the lesser of the motion into and out of a frame, so the frame after each
    # scored one keeps it right, and scaling and libvmaf see 2 frames in N. Scores are logged
    # under the fed frames' indices (0, 2, 4...). 0: feed every frame.
    pairs_every: int = 0
    threads: int = 1
    phone_model: bool = False
    # SSIM (libvmaf's float_ssim) is about three quarters of the pass's time: trial encodes
    # for a hull need only VMAF.
    ssim: bool = True


@dataclass(frozen=True)
class FrameScore:
    frame: int  # index in the rung, counting from 0 (subsampled logs skip indices)
    vmaf: float
    psnr_y: float
    ssim: float | None = None
    vmaf_phone: float | None = None


@dataclass(frozen=True)
class Summary:
    mean: float
    p5: float  # 5th percentile: the quality the worst moments get
    minimum: float


@dataclass(frozen=True)
class QualitySummary:
    frames: int
    vmaf: Summary
    psnr_y: Summary
    ssim: Summary | None = None
    vmaf_phone: Summary | None = None


@dataclass(frozen=True)
class QualityReport:
    title: QualitySummary
    segments: tuple[QualitySummary, ...]
    frames: tuple[FrameScore, ...]


def host_threads(cpu_count: int | None = None) -> int:
    """libvmaf threads for this host: every core the process may use."""
    if cpu_count is not None:
        return max(1, cpu_count)
    return max(1, len(os.sched_getaffinity(0)))


def wants_phone_model(rung_height: int) -> bool:
    return rung_height <= PHONE_MAX_HEIGHT


def _escape_option(value: str) -> str:
    """Escape an option value for av_opt_set_from_string (FFmpeg filters doc, §Notes on escaping)."""
    return "".join("\\" + c if c in "\\':" else c for c in value)


def _escape_graph(text: str) -> str:
    """Escape a filter's arguments for the filtergraph parser, the second level of quoting."""
    return "".join("\\" + c if c in "\\'[],;" else c for c in text)


def _model_option(phone: bool) -> str:
    models = [f"version={MODEL}:name=vmaf"]
    if phone:
        models.append(f"version={MODEL}:name=vmaf_phone:enable_transform=true")
    return "|".join(models)


def _prepare(job: QualityJob) -> str:
    size = f"{job.display_width}:{job.display_height}"
    scale = f"scale={size}:flags=bicubic,format=yuv420p,setsar=1,setpts=PTS-STARTPTS"
    if job.pairs_every > 2:
        return f"select='lt(mod(n\\,{job.pairs_every})\\,2)',{scale}"
    return scale


def _subsample(job: QualityJob) -> int:
    return min(job.pairs_every, 2) if job.pairs_every else job.n_subsample


def _libvmaf(job: QualityJob) -> str:
    options = [
        ("model", _model_option(job.phone_model)),
        ("feature", "name=psnr|name=float_ssim" if job.ssim else "name=psnr"),
        ("log_fmt", "json"),
        ("log_path", str(job.log_path)),
        ("n_subsample", str(_subsample(job))),
        ("n_threads", str(job.threads)),
    ]
    vmaf = ":".join(f"{key}={_escape_option(value)}" for key, value in options)
    return f"libvmaf={_escape_graph(vmaf)}"


_QUIET = ["-hide_banner", "-nostdin", "-loglevel", "error", "-progress", "pipe:1", "-nostats"]


def build_quality_args(ffmpeg_exe: str, job: QualityJob) -> list[str]:
    """The whole command line, executable first: rung and master into libvmaf, no output file."""
    prepare = _prepare(job)
    graph = f"[0:v]{prepare}[main];[1:v]{prepare}[ref];[main][ref]{_libvmaf(job)}"
    inputs = ["-i", str(job.rung), "-i", str(job.master)]
    return [ffmpeg_exe, *_QUIET, *inputs, "-filter_complex", graph, "-f", "null", "-"]


def build_batch_quality_args(ffmpeg_exe: str, jobs: Sequence[QualityJob]) -> list[str]:
    """Several rungs of one master in one pass: the master is decoded and scaled once, split to
    one libvmaf per rung (each with its own log). Every job must name the same master and size."""
    if not jobs or len({(j.master, j.display_width, j.display_height) for j in jobs}) != 1:
        raise ValueError("a batch scores rungs of one master at one size")
    graph = [f"[0:v]{_prepare(jobs[0])},split={len(jobs)}" + "".join(f"[ref{i}]" for i in range(len(jobs)))]
    inputs = ["-i", str(jobs[0].master)]
    outputs: list[str] = []
    for i, job in enumerate(jobs, 1):
        inputs += ["-i", str(job.rung)]
        graph.append(f"[{i}:v]{_prepare(job)}[main{i}];[main{i}][ref{i - 1}]{_libvmaf(job)}[out{i}]")
        outputs += ["-map", f"[out{i}]", "-f", "null", "-"]
    return [ffmpeg_exe, *_QUIET, *inputs, "-filter_complex", ";".join(graph), *outputs]


def split_batch(jobs: Sequence[QualityJob], processes: int) -> list[list[QualityJob]]:
    """A batch dealt round-robin into at most ``processes`` batches, to run at once: one filter
    graph runs its libvmaf filters one after another, on one core. Dealt in order, so jobs listed
    largest first spread their cost evenly."""
    count = max(1, min(processes, len(jobs)))
    return [list(jobs[i::count]) for i in range(count) if jobs[i::count]]


def _metric(metrics: dict[str, Any], name: str, frame: int) -> float:
    try:
        value = float(metrics[name])
    except (KeyError, TypeError, ValueError):
        raise EncodeError(f"libvmaf log: frame {frame} has no numeric '{name}'") from None
    if math.isnan(value):
        raise EncodeError(f"libvmaf log: frame {frame} '{name}' is not a number")
    return value


def parse_vmaf_log(text: str) -> list[FrameScore]:
    """Per-frame scores from libvmaf's JSON log (``frames[].frameNum`` and ``metrics``)."""
    try:
        frames = json.loads(text)["frames"]
    except (ValueError, KeyError, TypeError):
        raise EncodeError("libvmaf log is not JSON with a 'frames' list") from None
    scores = []
    for entry in frames:
        frame = int(entry["frameNum"])
        metrics = entry["metrics"]
        phone = _metric(metrics, "vmaf_phone", frame) if "vmaf_phone" in metrics else None
        ssim = _metric(metrics, "float_ssim", frame) if "float_ssim" in metrics else None
        scores.append(
            FrameScore(
                frame=frame,
                vmaf=_metric(metrics, "vmaf", frame),
                # A PSNR filter outside libvmaf writes inf for identical frames: clip it as libvmaf does.
                psnr_y=min(_metric(metrics, "psnr_y", frame), PSNR_CAP_8BIT),
                ssim=ssim,
                vmaf_phone=phone,
            )
        )
    if not scores:
        raise EncodeError("libvmaf log has no frames: the rung or the master decoded to nothing")
    return scores


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (the default of numpy.percentile)."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _summary(values: Sequence[float]) -> Summary:
    return Summary(mean=sum(values) / len(values), p5=percentile(values, 0.05), minimum=min(values))


def summarize(frames: Sequence[FrameScore]) -> QualitySummary:
    if not frames:
        raise ValueError("no frames to summarize")
    phones = [f.vmaf_phone for f in frames if f.vmaf_phone is not None]
    ssims = [f.ssim for f in frames if f.ssim is not None]
    return QualitySummary(
        frames=len(frames),
        vmaf=_summary([f.vmaf for f in frames]),
        psnr_y=_summary([f.psnr_y for f in frames]),
        ssim=_summary(ssims) if len(ssims) == len(frames) else None,
        vmaf_phone=_summary(phones) if len(phones) == len(frames) else None,
    )


def by_segment(
    frames: Sequence[FrameScore], frame_rate: Fraction, segment_starts: Sequence[float]
) -> tuple[QualitySummary, ...]:
    """One summary per segment; segment i holds the frames from its start to the next one's.

    ``segment_starts`` are presentation times in seconds, ascending, the first at 0. A segment
    with no sampled frame (shorter than the sampling interval) is an error: sample more often.
    """
    bounds = [*segment_starts[1:], math.inf]
    groups: list[list[FrameScore]] = [[] for _ in segment_starts]
    index = 0
    for score in sorted(frames, key=lambda s: s.frame):
        time = score.frame / frame_rate
        while time >= bounds[index]:
            index += 1
        groups[index].append(score)
    for i, group in enumerate(groups):
        if not group:
            raise EncodeError(f"segment {i} has no scored frame: lower n_subsample")
    return tuple(summarize(group) for group in groups)


def measure_quality(
    runner: FFmpegRunner,
    ffmpeg_exe: str,
    job: QualityJob,
    *,
    duration: float,
    frame_rate: Fraction,
    segment_starts: Sequence[float] = (0.0,),
) -> QualityReport:
    """Run the one pass, then read its log into per-frame, per-segment and title scores."""
    runner.run(build_quality_args(ffmpeg_exe, job), duration)
    frames = parse_vmaf_log(job.log_path.read_text(encoding="utf-8"))
    return QualityReport(
        title=summarize(frames),
        segments=by_segment(frames, frame_rate, segment_starts),
        frames=tuple(frames),
    )
