"""The job's measuring stages: ``analyse`` (the per-title plan, before encoding) and ``quality``
(every rung against the master, after encoding, before packaging).

Both write to ``reports/{title}/{version}/`` (private: the origin serves ``media/`` alone), which
outlives the work folder, and put their summaries in the title record. Each writes its JSON last,
as its done marker, so a retried stage finds it and does nothing again.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from encoder.encode import video_renditions
from encoder.ffmpeg_args import VIDEO_TIMESCALE, gop_frames
from encoder.per_title import PerTitlePlan, crf_of, plan_per_title
from encoder.plots import hull_svg, quality_svg
from encoder.quality import QualityJob, QualitySummary, host_threads, measure_quality, wants_phone_model
from encoder.trials import bitstream_bits, scoring_size
from ingest.probe import MasterInfo
from packager.segmenter import plan_cuts
from pipeline.job import (
    PLAN,
    base_ladder,
    local_master,
    per_title_options,
    report,
    rung_record,
    scratch_dir,
    source_media,
    update_title,
    version_encode_job,
)
from pipeline.workspace import rendition_key, report_key

if TYPE_CHECKING:
    from pipeline.job import JobContext

QUALITY = "quality.json"


def plan_summary(plan: PerTitlePlan, title: str, version: str) -> dict[str, Any]:
    """What the title record keeps of a plan; the whole plan is at ``plan``."""
    return {
        "analysis_seconds": plan.analysis_seconds,
        "trial_preset": plan.trial_preset,
        "trials": len(plan.trials),
        "excerpts": [asdict(e) for e in plan.excerpts],
        "chosen": [
            {"height": p.height, "bitrate": p.bitrate, "vmaf": p.quality, "crf": crf_of(p)}
            for p in plan.chosen
        ],
        "plan": report_key(title, version, PLAN),
        "plot": report_key(title, version, "hull.svg"),
    }


def analyse(ctx: JobContext, title: str, version: str) -> PerTitlePlan:
    """Trial-encode the master and choose its ladder; the plan is stored before it is used."""
    record = ctx.catalog.get(title)
    key = report_key(title, version, PLAN)
    if not ctx.store.exists(key):
        with scratch_dir(ctx, title) as scratch:
            plan = plan_per_title(
                local_master(ctx, record),
                base_ladder(ctx.settings),
                per_title_options(ctx.settings),
                ffmpeg=ctx.settings.ffmpeg_exe(),
                workdir=scratch / "trials",
                progress=lambda done: report(ctx, title, "analyse", 100.0 * done),
            )
        ctx.store.put_bytes(report_key(title, version, "hull.svg"), hull_svg(plan, title), "image/svg+xml")
        ctx.store.put_bytes(key, plan.to_json().encode(), "application/json")
    plan = PerTitlePlan.from_json(ctx.store.get_bytes(key).decode())
    job = version_encode_job(ctx, record, version, Path("master"), Path("out"))
    update_title(
        ctx,
        title,
        ladder=[rung_record(r) for r in job.rungs],
        per_title=plan_summary(plan, title, version),
    )
    report(ctx, title, "analyse", 100.0)
    return plan


def _summary(summary: QualitySummary) -> dict[str, Any]:
    data = {"frames": summary.frames, "vmaf": asdict(summary.vmaf), "psnr_y": asdict(summary.psnr_y)}
    if summary.ssim is not None:
        data["ssim"] = asdict(summary.ssim)
    if summary.vmaf_phone is not None:
        data["vmaf_phone"] = asdict(summary.vmaf_phone)
    return {k: _rounded(v) for k, v in data.items()}


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return round(value, 4) if isinstance(value, float) else value


def segment_starts(duration: float, gop: Fraction, segment_seconds: Fraction) -> list[float]:
    """Where the packager starts segments: its own cut plan over the keyframes the encode forces
    every GOP (``gop`` seconds), in seconds."""
    keyframes = [i * gop for i in range(max(1, math.ceil(duration / gop)))]
    timescale = VIDEO_TIMESCALE
    plan = plan_cuts((int(k * timescale) for k in keyframes), timescale, segment_seconds)
    return [float(s) for s in plan.segment_starts]


def measure_title_quality(ctx: JobContext, title: str, version: str) -> dict[str, Any]:
    """VMAF and PSNR (SSIM by setting) of every rung against the master, per title and segment."""
    record = ctx.catalog.get(title)
    key = report_key(title, version, QUALITY)
    if not ctx.store.exists(key):
        settings = ctx.settings
        info = MasterInfo.from_dict(record.probe)
        with scratch_dir(ctx, title) as scratch:
            master = local_master(ctx, record)
            job = version_encode_job(ctx, record, version, master, scratch)
            width, height = scoring_size(source_media(master, info).geometry)
            gop = Fraction(gop_frames(job)) / job.frame_rate
            starts = segment_starts(info.duration, gop, settings.segment_seconds)
            rungs, frames = [], {}
            renditions = video_renditions(job)
            for done, (rendition, rung) in enumerate(zip(renditions, job.rungs, strict=True), 1):
                ctx.store.download(rendition_key(title, version, rendition.path.name), rendition.path)
                quality = QualityJob(
                    rendition.path, master, width, height, scratch / f"vmaf-{rung.name}.json",
                    n_subsample=settings.quality_subsample, threads=ctx.ffmpeg_threads or host_threads(),
                    ssim=settings.quality_ssim,
                    phone_model=settings.quality_phone and wants_phone_model(rung.height),
                )  # fmt: skip
                measured = measure_quality(
                    ctx.runner, ctx.settings.ffmpeg_exe(), quality, duration=info.duration,
                    frame_rate=job.frame_rate, segment_starts=starts,
                )  # fmt: skip
                rungs.append(
                    {
                        "id": rung.name,
                        "width": rung.width,
                        "height": rung.height,
                        "bitrate": round(bitstream_bits(rendition.path) / info.duration),
                        **_summary(measured.title),
                        "segments": [_summary(s) for s in measured.segments],
                    }
                )
                frames[rung.name] = [(float(f.frame / job.frame_rate), f.vmaf) for f in measured.frames]
                rendition.path.unlink()
                report(ctx, title, "quality", 100.0 * done / len(renditions))
        summary = {
            "subsample": settings.quality_subsample,
            "segment_starts": starts,
            "rungs": rungs,
            "report": key,
            "plot": report_key(title, version, "quality.svg"),
        }
        plot = quality_svg(rungs, frames, title)
        ctx.store.put_bytes(report_key(title, version, "quality.svg"), plot, "image/svg+xml")
        full = {
            **summary,
            "frames": {k: [[round(t, 4), round(v, 3)] for t, v in f] for k, f in frames.items()},
        }
        ctx.store.put_bytes(key, json.dumps(full, sort_keys=True).encode(), "application/json")
    stored: dict[str, Any] = json.loads(ctx.store.get_bytes(key))
    stored.pop("frames")
    update_title(ctx, title, quality=stored)
    report(ctx, title, "quality", 100.0)
    return stored
