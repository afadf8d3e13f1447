"""Trial encodes for a per-title ladder: the FFmpeg and libvmaf runs (the I/O half).

Each excerpt of the master is decoded once, by the first pass's run, which writes its raw frames
to the work folder beside its trials (a 2 s 1080p excerpt is about 190 MB: decoding a high-rate
master again for every pass cost more than the trials themselves). Per excerpt and pass
(``encoder.trial_grid``: the top resolution, then the smaller ones and the grid's ends only
where the hull needs them), one FFmpeg reads the frames and writes one x264 trial per
resolution and CRF; then one FFmpeg per core reads them again and scores its share of the
trials, one libvmaf each. Each trial's rate is its video bitstream's bits over the excerpt's
length; its quality is libvmaf's VMAF against the excerpt scaled to the master's display size
(``encoder.quality``), on pairs of frames (``QualityJob.pairs_every``). A resolution's point
pools every excerpt: total bits over total seconds, the mean over all the scored frames.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING

import av

from encoder.hull import RatePoint
from encoder.ladder import SourceGeometry, display_size, plan_ladder
from encoder.per_title import TrialSize, choose_excerpts
from encoder.quality import QualityJob, build_batch_quality_args, host_threads, parse_vmaf_log, split_batch
from encoder.runner import SubprocessRunner
from encoder.trial_grid import next_trials
from vodpipe.errors import InvalidMasterError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from encoder.ladder import Ladder, PlannedRung
    from encoder.per_title import Excerpt, PerTitleOptions
    from encoder.trial_grid import Trial


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
    frames: Path,
    outputs: list[tuple[PlannedRung, list[tuple[int, Path]]]],
    preset: str,
    gop: int,
    cores: int = 1,
    source: tuple[Path, Excerpt] | None = None,
) -> list[str]:
    """One read of the excerpt's frames, per size a split into CRF trials.

    With ``source`` (the master and the excerpt: the first pass), the run reads the master
    itself and writes the excerpt's raw frames to ``frames`` beside the trials, for the later
    passes and the scoring to read back: the excerpt is decoded once, in the same run as its
    first trial, rather than in a run of its own (about 0.1 s less per excerpt, measured on the
    bench slide master, where that is a sixth of the analysis).

    Where the pass holds at least as many trials as ``cores``, each x264 gets one thread: the
    trials already keep every core busy, and x264's own frame threads (about 1.5 per core each)
    only add switching (measured on the 30 s bench pattern master, eight 2 s trials on two
    cores: 40 % less CPU and wall time, the same bits to the kilobyte)."""
    count = sum(len(trials) for _, trials in outputs)
    threads = ["-threads", "1"] if count >= cores else []
    labels = "".join(f"[s{i}]" for i in range(len(outputs))) + ("[raw]" if source else "")
    graph = [f"[0:v:0]split={len(outputs) + (1 if source else 0)}{labels}"]
    maps: list[str] = []
    for i, (rung, trials) in enumerate(outputs):
        sar = "1" if rung.sar == 1 else f"{rung.sar.numerator}/{rung.sar.denominator}"
        labels = "".join(f"[t{i}_{j}]" for j in range(len(trials)))
        graph.append(
            f"[s{i}]scale={rung.width}:{rung.height}:flags=bicubic,setsar={sar},format=yuv420p,"
            f"split={len(trials)}{labels}"
        )
        for j, (crf, path) in enumerate(trials):
            maps += ["-map", f"[t{i}_{j}]", "-c:v", "libx264", *threads, "-preset", preset, "-crf", str(crf)]
            # GOPs as the full encode closes them, so the trial's rate is the rate it will get
            maps += ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", str(path)]
    inputs, keep = ["-i", str(frames)], []
    if source is not None:
        master, excerpt = source
        inputs = ["-ss", f"{excerpt.start:.6f}", "-t", f"{excerpt.seconds:.6f}", "-i", str(master)]
        keep = ["-map", "[raw]", "-c:v", "rawvideo", "-f", "nut", str(frames)]
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats",
        *inputs, "-filter_complex", ";".join(graph), "-an", *keep, *maps,
    ]  # fmt: skip


def bitstream_bits(path: Path) -> int:
    """Bits of the video bitstream itself, without the container's boxes."""
    with av.open(str(path)) as container:
        return 8 * sum(packet.size for packet in container.demux(video=0))


@dataclass
class _Measured:
    """Bits and VMAF frame scores of each (height, CRF) trial, pooled over the excerpts."""

    bits: dict[Trial, int] = field(default_factory=dict)
    scores: dict[Trial, list[float]] = field(default_factory=dict)

    def add(self, key: Trial, bits: int, scores: list[float]) -> None:
        self.bits[key] = self.bits.get(key, 0) + bits
        self.scores.setdefault(key, []).extend(scores)

    def points(self, seconds: float) -> list[RatePoint]:
        return [
            RatePoint(round(self.bits[key] / seconds), round(sum(v) / len(v), 3), key[0], f"crf={key[1]}")
            for key, v in sorted(self.scores.items())
        ]


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
    """Trials pass by pass (``encoder.trial_grid``), each pass pooled over the excerpts."""
    geometry, duration, rate = probe_source(master)
    if duration <= 0:
        raise InvalidMasterError(f"master {master.name} has no duration")
    excerpts = choose_excerpts(duration, options)
    sizes = trial_sizes(base, geometry, options.min_height)
    width, height = scoring_size(geometry)
    gop = max(1, round(base.gop_seconds * rate))
    runner = SubprocessRunner()
    cores = host_threads()
    workdir.mkdir(parents=True, exist_ok=True)
    seconds = sum(e.seconds for e in excerpts)
    steps = 6 * len(excerpts)  # mostly three passes of two FFmpeg runs per excerpt
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(min(1.0, done / steps))

    measured = _Measured()

    frames = [workdir / f"excerpt-{e}.nut" for e in range(len(excerpts))]

    def run_pass(trials: Sequence[Trial]) -> None:
        first = not measured.bits  # no trial measured yet: this run decodes the excerpts
        by_size = [(size, planned, [c for h, c in trials if h == size.height]) for size, planned in sizes]
        by_size = [(size, planned, crfs) for size, planned, crfs in by_size if crfs]
        for e, excerpt in enumerate(excerpts):
            outputs = [(p, [(c, _trial_path(workdir, e, s, c)) for c in crfs]) for s, p, crfs in by_size]
            source = (master, excerpt) if first else None
            runner.run(trial_args(ffmpeg, frames[e], outputs, preset, gop, cores, source), excerpt.seconds)
            step()
            # One libvmaf per trial, one thread each: the trials are dealt to one FFmpeg per core,
            # run at once, rather than each filter given a thread pool of its own (more CPU).
            jobs = {
                (size.height, crf): QualityJob(
                    _trial_path(workdir, e, size, crf), frames[e], width, height,
                    workdir / f"vmaf-{e}-{size.height}-{crf}.json",
                    pairs_every=options.subsample, threads=1, ssim=False,
                )
                for size, _, crfs in by_size
                for crf in crfs
            }  # fmt: skip
            batches = split_batch(list(jobs.values()), cores)
            with ThreadPoolExecutor(len(batches)) as pool:
                runs = [
                    pool.submit(runner.run, build_batch_quality_args(ffmpeg, batch), excerpt.seconds)
                    for batch in batches
                ]
                for run in runs:
                    run.result()
            for key, job in jobs.items():
                scores = parse_vmaf_log(job.log_path.read_text())
                measured.add(key, bitstream_bits(job.rung), [f.vmaf for f in scores])
                job.rung.unlink()
                job.log_path.unlink()
            step()

    heights = sorted({size.height for size, _ in sizes}, reverse=True)
    trials = next_trials([], heights, options.crfs, options)
    while trials:
        run_pass(trials)
        trials = next_trials(measured.points(seconds), heights, options.crfs, options)
    for path in frames:
        path.unlink(missing_ok=True)
    if progress is not None:
        progress(1.0)
    return measured.points(seconds), excerpts, tuple(s for s, _ in sizes)
