"""Trial encodes for a per-title ladder: the FFmpeg and libvmaf runs (the I/O half).

Per excerpt, one FFmpeg decodes the master once and writes a lossless copy of the excerpt (the
reference every trial is scored against, frame for frame) and one x264 trial per resolution and
CRF; a second FFmpeg scores them all in one libvmaf pass. Each trial's rate is its video
bitstream's bits over the excerpt's length; its quality is libvmaf's VMAF against the reference
scaled to the master's display size (``encoder.quality``).
A resolution's point pools every excerpt: total bits over total seconds, the mean over all the
scored frames.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING

import av

from encoder.hull import RatePoint
from encoder.ladder import SourceGeometry, display_size, plan_ladder
from encoder.per_title import TrialSize, choose_excerpts
from encoder.quality import QualityJob, build_batch_quality_args, host_threads, parse_vmaf_log
from encoder.runner import SubprocessRunner
from vodpipe.errors import InvalidMasterError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from encoder.ladder import Ladder, PlannedRung
    from encoder.per_title import Excerpt, PerTitleOptions


def probe_source(master: Path) -> tuple[SourceGeometry, float, Fraction]:
    """Geometry, duration (seconds) and frame rate of the master's first video stream."""
    try:
        with av.open(str(master)) as container:
            if not container.streams.video:
                raise InvalidMasterError(f"master has no video stream: {master.name}")
            stream = container.streams.video[0]
            duration = (container.duration or 0) / av.time_base
            if not duration and stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            rate = Fraction(stream.average_rate or 25)
            sar = stream.codec_context.sample_aspect_ratio or Fraction(1)
            frame = next(container.decode(stream))
            rotation = int(getattr(frame, "rotation", 0) or 0) % 360
            return SourceGeometry(stream.width, stream.height, Fraction(sar), rotation), duration, rate
    except av.error.FFmpegError as exc:
        raise InvalidMasterError(f"cannot read the master {master.name}: {exc}") from None


def trial_sizes(
    base: Ladder, geometry: SourceGeometry, min_height: int
) -> list[tuple[TrialSize, PlannedRung]]:
    """The base ladder's resolutions that fit the source (and the floor), as the encode sizes them."""
    rungs = [r for r in base.rungs if r.height >= min_height] or [min(base.rungs, key=lambda r: r.height)]
    nominal = {r.name: r.height for r in rungs}
    planned = plan_ladder(replace(base, rungs=tuple(rungs)), geometry)
    sizes = [
        TrialSize(nominal.get(p.name, min(p.width, p.height)), p.width, p.height, p.name) for p in planned
    ]
    return list(zip(sizes, planned, strict=True))


def scoring_size(geometry: SourceGeometry) -> tuple[int, int]:
    """The master's display size, even: what libvmaf scores every rung at."""
    width, height = (max(2, 2 * round(v / 2)) for v in display_size(geometry))
    return width, height


def _trial_path(workdir: Path, excerpt: int, size: TrialSize, crf: int) -> Path:
    return workdir / f"trial-{excerpt}-{size.height}-crf{crf}.mp4"


def trial_args(
    ffmpeg: str,
    master: Path,
    excerpt: Excerpt,
    reference: Path,
    outputs: list[tuple[PlannedRung, list[tuple[int, Path]]]],
    preset: str,
    gop: int,
) -> list[str]:
    """One decode of the excerpt: the lossless reference, and per size a split into CRF trials."""
    graph = [f"[0:v]split={len(outputs) + 1}[ref]" + "".join(f"[s{i}]" for i in range(len(outputs)))]
    maps: list[str] = ["-map", "[ref]", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", str(reference)]
    for i, (rung, trials) in enumerate(outputs):
        sar = "1" if rung.sar == 1 else f"{rung.sar.numerator}/{rung.sar.denominator}"
        labels = "".join(f"[t{i}_{j}]" for j in range(len(trials)))
        graph.append(
            f"[s{i}]scale={rung.width}:{rung.height}:flags=bicubic,setsar={sar},format=yuv420p,"
            f"split={len(trials)}{labels}"
        )
        for j, (crf, path) in enumerate(trials):
            maps += ["-map", f"[t{i}_{j}]", "-c:v", "libx264", "-preset", preset, "-crf", str(crf)]
            # GOPs as the full encode closes them, so the trial's rate is the rate it will get
            maps += ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", str(path)]
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats",
        "-ss", f"{excerpt.start:.6f}", "-t", f"{excerpt.seconds:.6f}", "-i", str(master),
        "-filter_complex", ";".join(graph), "-an", *maps,
    ]  # fmt: skip


def bitstream_bits(path: Path) -> int:
    """Bits of the video bitstream itself, without the container's boxes."""
    with av.open(str(path)) as container:
        return 8 * sum(packet.size for packet in container.demux(video=0))


def run_trials(
    master: Path,
    base: Ladder,
    options: PerTitleOptions,
    preset: str,
    *,
    ffmpeg: str,
    workdir: Path,
    progress: Callable[[float], None] | None = None,
) -> tuple[list[RatePoint], tuple[Excerpt, ...], tuple[TrialSize, ...]]:
    geometry, duration, rate = probe_source(master)
    if duration <= 0:
        raise InvalidMasterError(f"master {master.name} has no duration")
    excerpts = choose_excerpts(duration, options)
    sizes = trial_sizes(base, geometry, options.min_height)
    width, height = scoring_size(geometry)
    gop = max(1, round(base.gop_seconds * rate))
    runner = SubprocessRunner()
    workdir.mkdir(parents=True, exist_ok=True)
    steps = 2 * len(excerpts)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done / steps)

    bits: dict[tuple[int, int], int] = {}
    scores: dict[tuple[int, int], list[float]] = {}
    seconds = 0.0
    for e, excerpt in enumerate(excerpts):
        reference = workdir / f"reference-{e}.mp4"  # not Matroska: its 1 ms clock misaligns frames
        outputs = [(p, [(c, _trial_path(workdir, e, s, c)) for c in options.crfs]) for s, p in sizes]
        runner.run(trial_args(ffmpeg, master, excerpt, reference, outputs, preset, gop), excerpt.seconds)
        step()
        seconds += excerpt.seconds
        # One libvmaf pass scores every trial of the excerpt: the reference is decoded once.
        keys = [(size.height, crf) for size, _ in sizes for crf in options.crfs]
        jobs = [
            QualityJob(
                _trial_path(workdir, e, size, crf), reference, width, height,
                workdir / f"vmaf-{e}-{size.height}-{crf}.json",
                n_subsample=options.subsample, threads=host_threads(), ssim=False,
            )
            for size, _ in sizes
            for crf in options.crfs
        ]  # fmt: skip
        runner.run(build_batch_quality_args(ffmpeg, jobs), excerpt.seconds)
        for key, job in zip(keys, jobs, strict=True):
            bits[key] = bits.get(key, 0) + bitstream_bits(job.rung)
            scores.setdefault(key, []).extend(f.vmaf for f in parse_vmaf_log(job.log_path.read_text()))
            job.rung.unlink()
        step()
        reference.unlink()
    points = [
        RatePoint(round(bits[key] / seconds), round(sum(v) / len(v), 3), key[0], f"crf={key[1]}")
        for key, v in sorted(scores.items())
    ]
    return points, excerpts, tuple(s for s, _ in sizes)
