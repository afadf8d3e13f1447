"""What every encode benchmark shares: the master it reads, how it describes it, how it times.

Wall time on a shared machine is inflated by whatever else runs; the CPU time of the FFmpeg
children (``RUSAGE_CHILDREN``, counted once each child is waited for) is far less so, and every
benchmark reports both.
"""

from __future__ import annotations

import resource
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ingest.probe import probe
from ingest.validate import MasterLimits, validate

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from encoder.ffmpeg_args import EncodeJob
    from ingest.probe import MasterInfo

T = TypeVar("T")


def probe_master(path: Path) -> MasterInfo:
    """The master's probe, refused as the pipeline would refuse it."""
    info = probe(path)
    validate(info, MasterLimits())
    if info.video is None:  # validate refuses a master without video; this is for the type checker
        raise AssertionError("validated master has no video")
    return info


def describe_master(path: Path, info: MasterInfo) -> dict[str, Any]:
    assert info.video is not None
    return {
        "path": str(path),
        "duration": info.duration,
        "frames": info.video.frame_count,
        "size": f"{info.video.width}x{info.video.height}",
    }


def describe_ladder(job: EncodeJob) -> list[str]:
    return [f"{r.name} {r.width}x{r.height} {r.bitrate // 1000}k" for r in job.rungs]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Timing:
    wall_seconds: float
    cpu_seconds: float  # of the FFmpeg children that ran meanwhile


def timed(run: Callable[[], T]) -> tuple[T, Timing]:
    """``run()``'s result, its wall time, and the CPU time its child processes used."""
    cpu = children_cpu()
    started = time.perf_counter()
    result = run()
    wall = time.perf_counter() - started
    return result, Timing(wall, children_cpu() - cpu)


def wall_summary(walls: Sequence[float], duration: float) -> dict[str, Any]:
    """The median of repeated runs, as times real time, with every run listed."""
    wall = statistics.median(walls)
    return {
        "wall_seconds": round(wall, 3),
        "x_realtime": round(duration / wall, 2),
        "runs_wall_seconds": [round(w, 3) for w in walls],
    }
