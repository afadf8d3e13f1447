"""``vodpipe bench codecs``: the same ladder in H.264, AV1 and HEVC; encode time, bits and VMAF.

Each codec's rungs are those ``VODPIPE_VIDEO_CODECS`` would add (the H.264 ladder's heights at
the codec's bitrate factor), encoded by the pipeline's own encoder, video only. Runs alternate
between the codecs so that each sees the same machine; medians are compared with H.264's as a
ratio. Each rung's delivered bitrate is measured from its samples, and its quality as VMAF
against the master (encoder.quality), so that a cheaper codec is seen to keep the picture.
"""

from __future__ import annotations

import functools
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import probe_master, timed
from encoder.encode import count_samples, plan_job, run_job
from encoder.ladder import load_ladder, with_codecs
from encoder.quality import QualityJob, host_threads, measure_quality
from encoder.runner import SubprocessRunner
from pipeline.demo import make_demo_master
from pipeline.job import source_media

if TYPE_CHECKING:
    from encoder.ffmpeg_args import EncodeJob
    from pipeline.settings import Settings


def _rungs(
    ffmpeg_exe: str, job: EncodeJob, display: tuple[int, int], duration: float, vmaf_every: int
) -> list[dict[str, Any]]:
    """Each rung's target and delivered bitrate, and its mean VMAF (every Nth frame; 0: none)."""
    runner = SubprocessRunner()
    rows = []
    for rung in job.rungs:
        path = job.out_dir / f"video_{rung.name}.mp4"
        row: dict[str, Any] = {
            "rung": rung.name,
            "size": f"{rung.width}x{rung.height}",
            "target_kbps": rung.bitrate // 1000,
            "kbps": round(path.stat().st_size * 8 / duration / 1000),
            "frames": count_samples(path),
        }
        if vmaf_every:
            log = job.out_dir / f"{rung.name}.vmaf.json"
            quality = QualityJob(
                path, job.master, *display, log, n_subsample=vmaf_every, threads=host_threads(), ssim=False
            )
            report = measure_quality(
                runner, ffmpeg_exe, quality, duration=duration, frame_rate=job.frame_rate
            )
            row["vmaf_mean"] = round(report.title.vmaf.mean, 2)
        rows.append(row)
    return rows


def bench_codecs(
    settings: Settings,
    master: Path | None,
    codecs: tuple[str, ...],
    runs: int,
    seconds: float,
    vmaf_every: int,
) -> dict[str, Any]:
    ffmpeg_exe = settings.ffmpeg_exe()
    runner = SubprocessRunner()
    factors = {"av1": settings.av1_bitrate_factor, "hevc": settings.hevc_bitrate_factor}
    base = load_ladder(settings.ladder)
    with tempfile.TemporaryDirectory(prefix="vodpipe-bench-", dir=settings.scratch_dir) as tmp:
        work = Path(tmp)
        if master is None:
            master = make_demo_master(runner, ffmpeg_exe, work / "master.mp4", seconds=seconds)
        info = probe_master(master)
        assert info.video is not None  # probe_master refuses a master without video
        source = source_media(master, info)
        walls: dict[str, list[float]] = {c: [] for c in codecs}
        cpus: dict[str, list[float]] = {c: [] for c in codecs}
        jobs: dict[str, EncodeJob] = {}
        for i in range(max(1, runs)):
            for codec in codecs:
                ladder = with_codecs(base, (codec,), factors)
                job = replace(plan_job(source, ladder, work / f"{codec}-{i}"), audio=())
                _, timing = timed(functools.partial(run_job, runner, ffmpeg_exe, job, info.duration))
                walls[codec].append(timing.wall_seconds)
                cpus[codec].append(timing.cpu_seconds)
                jobs[codec] = job
        width = info.video.width * info.video.sar
        display = (int(width), info.video.height)
        reference = statistics.median(walls[codecs[0]])
        reference_cpu = statistics.median(cpus[codecs[0]])
        report: dict[str, Any] = {
            "benchmark": "codecs",
            "master": {"path": str(master), "duration": info.duration, "size": f"{display[0]}x{display[1]}"},
            "runs": max(1, runs),
            "presets": {"h264": base.preset, "av1": base.av1_preset, "hevc": base.hevc_preset},
            "bitrate_factors": {c: factors.get(c, 1.0) for c in codecs},
            "vmaf_every_nth_frame": vmaf_every,
            "codecs": {},
        }
        for codec in codecs:
            wall = statistics.median(walls[codec])
            rungs = _rungs(ffmpeg_exe, jobs[codec], display, info.duration, vmaf_every)
            report["codecs"][codec] = {
                "wall_seconds": round(wall, 3),
                "runs_wall_seconds": [round(w, 3) for w in walls[codec]],
                f"ratio_wall_over_{codecs[0]}": round(wall / reference, 2),
                # CPU time of the FFmpeg processes: what a busy shared machine distorts far less
                "cpu_seconds": round(statistics.median(cpus[codec]), 3),
                f"ratio_cpu_over_{codecs[0]}": round(statistics.median(cpus[codec]) / reference_cpu, 2),
                "total_kbps": sum(r["kbps"] for r in rungs),
                "rungs": rungs,
            }
        first = report["codecs"][codecs[0]]["total_kbps"]
        for codec in codecs:
            entry = report["codecs"][codec]
            entry[f"ratio_kbps_over_{codecs[0]}"] = round(entry["total_kbps"] / first, 3)
        return report
