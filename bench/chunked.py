"""``vodpipe bench encode --workers N``: chunked encoding on N workers against one FFmpeg.

Both sides encode the same master into the same ladder. The one-process side is the pipeline's
own single encode (every rung and the audio from one decode, FFmpeg choosing its threads). The
chunked side is what the Celery canvas runs, minus the broker: the master's GOP-aligned chunks
and the whole audio go to N workers (here N threads, each driving its own FFmpeg with a share
of the cores, as ``vodpipe worker`` sizes it), then every rung is joined. Runs alternate so that
both sides see the same machine; medians are compared.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import describe_ladder, describe_master, probe_master, timed, wall_summary
from encoder.chunks import plan_chunks
from encoder.encode import plan_job, run_audio, run_chunk, run_job
from encoder.join import join_chunks
from encoder.ladder import load_ladder
from encoder.runner import SubprocessRunner
from pipeline.demo import make_demo_master
from pipeline.job import source_media

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future

    from encoder.chunks import Chunk
    from encoder.encode import EncodedRendition
    from encoder.ffmpeg_args import EncodeJob
    from pipeline.settings import Settings


def encode_chunked(ffmpeg_exe: str, job: EncodeJob, chunks: tuple[Chunk, ...], workers: int) -> None:
    """Chunks and audio on ``workers`` parallel FFmpegs, then each rung joined."""
    runner = SubprocessRunner()
    # One worker gets FFmpeg's own thread count, as the one-process side does, so that the
    # difference at N = 1 is the cost of chunking alone.
    threads = 0 if workers == 1 else max(1, (os.cpu_count() or 1) // workers)
    with ThreadPoolExecutor(workers) as pool:
        audio = pool.submit(run_audio, runner, ffmpeg_exe, replace(job, out_dir=job.out_dir / "audio"), 0.0)
        parts: list[Future[list[EncodedRendition]]] = [
            pool.submit(
                run_chunk,
                runner,
                ffmpeg_exe,
                replace(job, out_dir=job.out_dir / f"chunk{c.index}", threads=threads),
                c,
            )
            for c in chunks
        ]
        encoded = [p.result() for p in parts]
        audio.result()
    for i, rung in enumerate(job.rungs):
        join_chunks([e[i].path for e in encoded], job.out_dir / f"video_{rung.name}.mp4")


def _timed(run: Callable[[], object], walls: list[float], cpus: list[float]) -> None:
    """Wall time, and the CPU time of the FFmpegs (which a busy machine does not inflate much)."""
    _, timing = timed(run)
    walls.append(timing.wall_seconds)
    cpus.append(timing.cpu_seconds)


def _summary(walls: list[float], cpus: list[float], duration: float) -> dict[str, Any]:
    summary = wall_summary(walls, duration)
    return {**summary, "cpu_seconds": round(statistics.median(cpus), 3)}


def bench_chunked(
    settings: Settings, master: Path | None, runs: int, workers: int, chunk_seconds: float | None
) -> dict[str, Any]:
    ffmpeg_exe = settings.ffmpeg_exe()
    runner = SubprocessRunner()
    with tempfile.TemporaryDirectory(prefix="vodpipe-bench-", dir=settings.scratch_dir) as tmp:
        work = Path(tmp)
        if master is None:
            master = make_demo_master(runner, ffmpeg_exe, work / "master.mp4", seconds=30)
        info = probe_master(master)
        assert info.video is not None
        ladder = load_ladder(settings.ladder)
        job = plan_job(source_media(master, info), ladder, work / "plan")
        # By default, chunks of VODPIPE_CHUNK_SECONDS, short enough for two per worker.
        seconds = chunk_seconds or min(settings.chunk_seconds, info.duration / (2 * workers))
        chunks = plan_chunks(job, info.video.frame_count, seconds)
        single: list[float] = []
        chunked: list[float] = []
        single_cpu: list[float] = []
        chunked_cpu: list[float] = []
        for i in range(max(1, runs)):
            one = replace(job, out_dir=work / f"single-{i}")
            _timed(partial(run_job, runner, ffmpeg_exe, one, info.duration), single, single_cpu)
            split = replace(job, out_dir=work / f"chunked-{i}")
            _timed(partial(encode_chunked, ffmpeg_exe, split, chunks, workers), chunked, chunked_cpu)
        speedup = statistics.median(single) / statistics.median(chunked)
        return {
            "benchmark": "encode-chunked",
            "master": describe_master(master, info),
            "ladder": describe_ladder(job),
            "preset": job.preset,
            "cores": os.cpu_count(),
            "workers": workers,
            "chunks": len(chunks),
            "chunk_frames": chunks[0].frames or info.video.frame_count,
            "runs": len(single),
            "one_process": _summary(single, single_cpu, info.duration),
            "chunked": _summary(chunked, chunked_cpu, info.duration),
            "speedup": round(speedup, 3),
            "efficiency": round(speedup / workers, 3),
            # at N = 1 the chunked side does the same work serially: what cutting and joining cost
            "chunking_overhead": round(1 / speedup - 1, 3) if workers == 1 else None,
            # the same in CPU time, which a loaded machine distorts far less than wall time
            "chunking_cpu_overhead": round(
                statistics.median(chunked_cpu) / statistics.median(single_cpu) - 1, 3
            ),
        }
