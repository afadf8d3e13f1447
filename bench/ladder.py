"""``vodpipe bench ladder``: what a per-title ladder and AV1 rungs save against the fixed ladder.

For each master: the fixed ladder is encoded in full by the pipeline's own encoder
(:func:`encoder.encode.run_job`), the per-title ladder is planned (the analysis) and encoded
the same way, and the fixed ladder is encoded again with each further codec. Every rung is
scored with VMAF against the master (:mod:`encoder.quality`, every Nth frame) and its rate is
measured from the rendition's own samples. The curves and BD-rates are in :mod:`bench.curves`.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import Timing, describe_master, probe_master, timed
from bench.curves import (
    BdResult,
    RungResult,
    average,
    average_shares,
    hull_bd_rate,
    ladder_curve,
    share,
)
from bench.masters import make_masters
from encoder.encode import plan_job, run_job
from encoder.ffmpeg_args import video_path
from encoder.ladder import CODECS, display_size
from encoder.quality import QualityJob, host_threads, measure_quality
from encoder.runner import SubprocessRunner
from packager.samples import iter_samples, read_header
from pipeline.job import source_media
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from encoder.encode import SourceMedia
    from encoder.ladder import Ladder
    from encoder.per_title import PerTitleOptions
    from encoder.runner import FFmpegRunner

PLOT_NAME = "ladder-bench.png"
REPORT_NAME = "ladder-bench.json"
FIXED = "fixed"
PER_TITLE = "per_title"


@dataclass(frozen=True)
class LadderRun:
    label: str  # fixed, per_title, fixed_av1...
    codec: str
    rungs: tuple[RungResult, ...]
    encode: Timing
    analysis: Timing | None = None  # the per-title planning, before its encode

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "codec": self.codec,
            "encode": _timing(self.encode),
            "rungs": [r.to_json() for r in self.rungs],
            "hull": [p.setting for p in ladder_curve(self.rungs)],
        }
        if self.analysis is not None:
            out["analysis"] = _timing(self.analysis)
        return out


def switch_codec(ladder: Ladder, codec: str) -> Ladder:
    """The same rungs at the same bitrates, encoded with ``codec``."""
    if codec not in CODECS:
        raise ConfigError(f"unknown codec {codec!r} (codecs: {', '.join(CODECS)})")
    return replace(ladder, rungs=tuple(replace(r, codec=codec) for r in ladder.rungs))


def per_title_planner(
    options: PerTitleOptions, ffmpeg_exe: str
) -> Callable[[SourceMedia, Ladder, Path], Ladder]:
    """The pipeline's per-title analysis (trial encodes, VMAF hull, rungs on it) as a planner."""
    from encoder.per_title import plan_per_title

    def plan(source: SourceMedia, base: Ladder, workdir: Path) -> Ladder:
        return plan_per_title(source.path, base, options, ffmpeg=ffmpeg_exe, workdir=workdir).ladder

    return plan


def _timing(t: Timing) -> dict[str, float]:
    return {"wall_seconds": round(t.wall_seconds, 3), "cpu_seconds": round(t.cpu_seconds, 3)}


def rendition_payload(path: Path) -> tuple[int, float]:
    """The sample bytes of a fragmented MP4 rendition and its duration in seconds."""
    with path.open("rb") as f:
        _, header = read_header(f)
        size = ticks = 0
        for sample in iter_samples(f, header):
            size += len(sample.data)
            ticks += sample.duration
    if not ticks:
        raise ConfigError(f"rendition {path.name} has no samples")
    return size, ticks / header.timescale


@dataclass(frozen=True)
class Bench:
    """What every ladder of one run shares: the tools and how rungs are scored."""

    runner: FFmpegRunner
    ffmpeg_exe: str
    vmaf_every: int
    log: Callable[[str], None]


def encode_ladder(
    bench: Bench, source: SourceMedia, ladder: Ladder, out: Path, label: str, codec: str
) -> tuple[tuple[RungResult, ...], Timing]:
    """Encode ``ladder`` in full, then measure and score every rung."""
    job = plan_job(source, ladder, out)
    bench.log(f"{label}: encoding {len(job.rungs)} rungs")
    _, timing = timed(partial(run_job, bench.runner, bench.ffmpeg_exe, job, source.duration))
    width, height = display_size(source.geometry)
    results = []
    for rung in job.rungs:
        path = video_path(job, rung)
        payload, seconds = rendition_payload(path)
        quality = measure_quality(
            bench.runner,
            bench.ffmpeg_exe,
            QualityJob(
                rung=path,
                master=source.path,
                display_width=int(width) // 2 * 2,
                display_height=int(height) // 2 * 2,
                log_path=out / f"vmaf-{rung.name}.json",
                n_subsample=bench.vmaf_every,
                threads=host_threads(),
                ssim=False,
            ),
            duration=source.duration,
            frame_rate=job.frame_rate,
        )
        result = RungResult(
            rung.name,
            rung.width,
            rung.height,
            codec,
            rung.bitrate,
            payload,
            seconds,
            quality.title.vmaf.mean,
            quality.title.vmaf.p5,
        )
        bench.log(f"{label}: {rung.name} {result.bitrate // 1000} kb/s VMAF {result.vmaf:.1f}")
        results.append(result)
    return tuple(results), timing


def bench_master(
    bench: Bench,
    name: str,
    master: Path,
    base: Ladder,
    codecs: Sequence[str],
    planner: Callable[[SourceMedia, Ladder, Path], Ladder],
    with_codec: Callable[[Ladder, str], Ladder],
    work: Path,
) -> dict[str, Any]:
    """Every ladder of one master, and the comparisons between them."""
    info = probe_master(master)
    source = source_media(master, info)
    first, *others = codecs
    reference = with_codec(base, first)
    rungs, encode = encode_ladder(bench, source, reference, work / FIXED, f"{name} {FIXED}", first)
    runs = {FIXED: LadderRun(FIXED, first, rungs, encode)}

    bench.log(f"{name} {PER_TITLE}: planning")
    planned, analysis = timed(partial(planner, source, reference, work / "analysis"))
    rungs, encode = encode_ladder(bench, source, planned, work / PER_TITLE, f"{name} {PER_TITLE}", first)
    runs[PER_TITLE] = LadderRun(PER_TITLE, first, rungs, encode, analysis)

    for codec in others:
        label = f"{FIXED}_{codec}"
        ladder = with_codec(base, codec)
        rungs, encode = encode_ladder(bench, source, ladder, work / label, f"{name} {label}", codec)
        runs[label] = LadderRun(label, codec, rungs, encode)

    curves = {label: ladder_curve(run.rungs) for label, run in runs.items()}
    comparisons = {f"{PER_TITLE}_vs_{FIXED}": hull_bd_rate(curves[FIXED], curves[PER_TITLE])}
    for codec in others:
        comparisons[f"{codec}_vs_{first}"] = hull_bd_rate(curves[FIXED], curves[f"{FIXED}_{codec}"])
    per_title = runs[PER_TITLE]
    return {
        "name": name,
        "master": describe_master(master, info),
        "ladders": {label: run.to_json() for label, run in runs.items()},
        "bd_rate": {key: result.to_json() for key, result in comparisons.items()},
        # The time the per-title analysis adds, as a share of the per-title ladder's own encode.
        "analysis_share": {
            "wall": share(analysis.wall_seconds, per_title.encode.wall_seconds),
            "cpu": share(analysis.cpu_seconds, per_title.encode.cpu_seconds),
        },
    }


def master_names(masters: Sequence[Path]) -> dict[str, Path]:
    """Each master under its file name's stem, with -2, -3... where stems repeat."""
    named: dict[str, Path] = {}
    for path in masters:
        name, n = path.stem, 1
        while name in named:
            n += 1
            name = f"{path.stem}-{n}"
        named[name] = path
    return named


def summarize(masters: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The averages over the masters: BD-rate per comparison, and the analysis share."""
    keys = list(masters[0]["bd_rate"]) if masters else []
    out: dict[str, Any] = {}
    for key in keys:
        results = [m["bd_rate"][key] for m in masters]
        out[key] = average(BdResult(r["percent"], None, None) for r in results)
    out["analysis_share"] = average_shares(
        {kind: [m["analysis_share"][kind] for m in masters] for kind in ("wall", "cpu")}
    )
    return out


def bench_ladder(
    *,
    ffmpeg_exe: str,
    base: Ladder,
    masters: Sequence[Path],
    codecs: Sequence[str],
    planner: Callable[[SourceMedia, Ladder, Path], Ladder],
    with_codec: Callable[[Ladder, str], Ladder],
    out_dir: Path,
    scratch: Path | None = None,
    vmaf_every: int = 3,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Run the benchmark over ``masters`` (the generated set when empty); write JSON and plot."""
    from bench.ladder_plot import plot_report  # matplotlib: loaded only when a report is drawn

    if not codecs:
        raise ConfigError("--codecs needs at least one codec")
    if vmaf_every < 1:
        raise ConfigError(f"--vmaf-every must be at least 1, got {vmaf_every}")
    bench = Bench(SubprocessRunner(), ffmpeg_exe, vmaf_every, log)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vodpipe-bench-ladder-", dir=scratch) as tmp:
        work = Path(tmp)
        named = master_names(masters)
        if not masters:
            log("generating the masters")
            named = make_masters(bench.runner, ffmpeg_exe, work / "masters")
        results = [
            bench_master(bench, name, path, base, codecs, planner, with_codec, work / name)
            for name, path in named.items()
        ]
    report: dict[str, Any] = {
        "benchmark": "ladder",
        "codecs": list(codecs),
        "vmaf": {"model": "vmaf_v0.6.1", "every_nth_frame": vmaf_every},
        "masters": results,
        "average": summarize(results),
        "plot": str(out_dir / PLOT_NAME),
    }
    plot_report(report, out_dir / PLOT_NAME)
    (out_dir / REPORT_NAME).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report
