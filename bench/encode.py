"""``vodpipe bench encode``: the pipeline's ladder encode against one plain FFmpeg command.

The peer is what an engineer would type by hand for the same ladder: one FFmpeg process, a split
filter, the same x264 preset, bitrates and GOP, plain MP4 outputs and no progress pipe. Runs
alternate between the two so that both see the same machine; the medians are compared.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import describe_ladder, describe_master, probe_master, wall_summary
from encoder.encode import plan_job, run_job
from encoder.ffmpeg_args import EncodeJob, gop_frames
from encoder.ladder import load_ladder
from encoder.runner import SubprocessRunner
from pipeline.demo import make_demo_master
from pipeline.job import source_media

if TYPE_CHECKING:
    from pipeline.settings import Settings


def plain_ffmpeg_args(ffmpeg_exe: str, job: EncodeJob, out: Path) -> list[str]:
    """The hand-written equivalent, independent of vodpipe's argument builder."""
    n = len(job.rungs)
    labels = "".join(f"[s{i}]" for i in range(n))
    graph = f"[0:v:0]split={n}{labels};" + ";".join(
        f"[s{i}]scale={r.width}:{r.height},setsar=1,format=yuv420p[v{i}]" for i, r in enumerate(job.rungs)
    )
    gop = gop_frames(job)
    quiet = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    args = [ffmpeg_exe, *quiet, "-i", str(job.master), "-filter_complex", graph]
    for i, r in enumerate(job.rungs):
        args += [
            "-map",
            f"[v{i}]",
            "-c:v",
            "libx264",
            "-preset",
            job.preset,
            "-profile:v",
            job.profile,
            "-b:v",
            str(r.bitrate),
            "-maxrate",
            str(r.maxrate),
            "-bufsize",
            str(r.bufsize),
            "-g",
            str(gop),
            "-keyint_min",
            str(gop),
            "-sc_threshold",
            "0",
            str(out / f"{r.name}.mp4"),
        ]
    for a in job.audio:
        args += [
            "-map",
            f"0:a:{a.stream}",
            "-c:a",
            "aac",
            "-b:a",
            str(job.audio_settings.bitrate),
            "-ac",
            str(job.audio_settings.channels),
            str(out / f"audio-{a.id}.mp4"),
        ]
    return args


def _summary(walls: list[float], frames: int, duration: float) -> dict[str, Any]:
    return {"fps": round(frames / statistics.median(walls), 1), **wall_summary(walls, duration)}


def bench_encode(settings: Settings, master: Path | None, runs: int) -> dict[str, Any]:
    ffmpeg_exe = settings.ffmpeg_exe()
    runner = SubprocessRunner()
    with tempfile.TemporaryDirectory(prefix="vodpipe-bench-", dir=settings.scratch_dir) as tmp:
        work = Path(tmp)
        if master is None:
            master = make_demo_master(runner, ffmpeg_exe, work / "master.mp4", seconds=10)
        info = probe_master(master)
        assert info.video is not None
        ladder = load_ladder(settings.ladder)
        ours: list[float] = []
        peer: list[float] = []
        for i in range(max(1, runs)):
            job = plan_job(source_media(master, info), ladder, work / f"ours-{i}")
            started = time.perf_counter()
            run_job(runner, ffmpeg_exe, job, info.duration)
            ours.append(time.perf_counter() - started)

            out = work / f"peer-{i}"
            out.mkdir()
            started = time.perf_counter()
            subprocess.run(plain_ffmpeg_args(ffmpeg_exe, job, out), check=True)
            peer.append(time.perf_counter() - started)
        frames = info.video.frame_count
        return {
            "benchmark": "encode",
            "master": describe_master(master, info),
            "ladder": describe_ladder(job),
            "preset": job.preset,
            "runs": len(ours),
            "vodpipe": _summary(ours, frames, info.duration),
            "plain_ffmpeg": _summary(peer, frames, info.duration),
            "ratio_wall_vodpipe_over_ffmpeg": round(statistics.median(ours) / statistics.median(peer), 3),
        }
