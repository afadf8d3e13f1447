"""``vodpipe bench``: the benchmarks (``bench/``), each printing one JSON object."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.catalog import validate_title
from pipeline.settings import parse_codecs
from vodpipe.errors import ConfigError, RequestError

if TYPE_CHECKING:
    from pipeline.settings import Settings


def codecs_arg(value: str) -> tuple[str, ...]:
    """``--codecs h264,av1`` as argparse's type: a bad list is a usage error."""
    try:
        return parse_codecs(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    master = Path(args.master) if args.master else None
    if args.workers is not None:
        from bench.chunked import bench_chunked

        if args.workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {args.workers}")
        report = bench_chunked(settings, master, args.runs, args.workers, args.chunk_seconds)
    else:
        from bench.encode import bench_encode

        report = bench_encode(settings, master, args.runs)
    print(json.dumps(report, indent=2))
    return 0


def cmd_bench_codecs(settings: Settings, args: argparse.Namespace) -> int:
    from bench.codecs import bench_codecs

    master = Path(args.master) if args.master else None
    report = bench_codecs(settings, master, args.codecs, args.runs, args.seconds, args.vmaf_every)
    print(json.dumps(report, indent=2))
    return 0


def cmd_bench_package(settings: Settings, args: argparse.Namespace) -> int:
    from bench.package import bench_package

    report = bench_package(settings, Path(args.master) if args.master else None, args.runs, args.seconds)
    print(json.dumps(report, indent=2))
    return 0


def cmd_bench_origin(settings: Settings, args: argparse.Namespace) -> int:
    from bench.origin import bench_origin

    if min(args.seconds, args.connections, args.threads, args.timeout, *args.workers) < 1:
        raise RequestError("--seconds, --connections, --threads, --timeout and --workers must be at least 1")
    if args.peak_connections < 0:
        raise RequestError("--peak-connections must be 0 (no peak run) or more")
    report = bench_origin(
        settings,
        validate_title(args.title),
        args.seconds,
        args.connections,
        args.threads,
        args.workers,
        args.peak_connections,
        args.timeout,
    )
    print(json.dumps(report, indent=2))
    return 0


def cmd_bench_ladder(settings: Settings, args: argparse.Namespace) -> int:
    from bench.ladder import bench_ladder, per_title_planner, switch_codec
    from encoder.ladder import load_ladder
    from pipeline.job import per_title_options

    def log(line: str) -> None:
        print(f"bench ladder: {line}", file=sys.stderr, flush=True)

    ffmpeg_exe = settings.ffmpeg_exe()
    report = bench_ladder(
        ffmpeg_exe=ffmpeg_exe,
        base=load_ladder(settings.ladder),
        masters=[Path(m) for m in args.master or ()],
        codecs=args.codecs,
        planner=per_title_planner(per_title_options(settings), ffmpeg_exe),
        with_codec=switch_codec,
        out_dir=Path(args.out),
        scratch=settings.scratch_dir,
        vmaf_every=args.vmaf_every,
        log=log,
    )
    print(json.dumps(report, indent=2))
    log(f"plot: {report['plot']}")
    return 0


def add_bench_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bench", help="benchmarks that print JSON")
    bench = p.add_subparsers(dest="bench", required=True)
    b = bench.add_parser("encode", help="our ladder encode against one plain FFmpeg command")
    b.add_argument("--master", help="master to encode (default: a generated 10 s 1080p master)")
    b.add_argument("--runs", type=int, default=3)
    b.add_argument(
        "--workers",
        type=int,
        help="measure chunked encoding on N workers against one FFmpeg (default master: 30 s 1080p)",
    )
    b.add_argument(
        "--chunk-seconds",
        type=float,
        help="chunk length (default: VODPIPE_CHUNK_SECONDS, short enough for two chunks a worker)",
    )
    b.set_defaults(func=cmd_bench)
    b = bench.add_parser("codecs", help="the ladder in H.264, AV1 and HEVC: encode time, bitrate, VMAF")
    b.add_argument("--master", help="master to encode (default: a generated demo master)")
    b.add_argument("--seconds", type=float, default=10, help="length of the generated master (default 10)")
    b.add_argument(
        "--codecs", type=codecs_arg, default=("h264", "av1", "hevc"), help="the first is the reference"
    )
    b.add_argument("--runs", type=int, default=1)
    b.add_argument("--vmaf-every", type=int, default=5, help="score every Nth frame; 0: no VMAF")
    b.set_defaults(func=cmd_bench_codecs)
    b = bench.add_parser("package", help="our packager against Shaka Packager: clear, cenc and cbcs")
    b.add_argument("--master", help="master to encode and package (default: a generated demo master)")
    b.add_argument("--seconds", type=float, default=30, help="length of the generated master (default 30)")
    b.add_argument("--runs", type=int, default=5)
    b.set_defaults(func=cmd_bench_package)
    b = bench.add_parser("origin", help="vodpipe serve against nginx on a published title, loaded by wrk")
    b.add_argument("--title", default="demo", help="a published title in the local store (default: demo)")
    b.add_argument("--seconds", type=int, default=5, help="wrk run per object kind and side")
    b.add_argument("--connections", type=int, default=64)
    b.add_argument("--threads", type=int, default=2, help="wrk threads")
    b.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker processes per side")
    b.add_argument(
        "--peak-connections", type=int, default=1000, help="a second run at this many connections (0: none)"
    )
    b.add_argument("--timeout", type=int, default=30, help="seconds after which wrk counts a request failed")
    b.set_defaults(func=cmd_bench_origin)
    b = bench.add_parser(
        "ladder", help="per-title against the fixed ladder, and other codecs against the first: BD-rate"
    )
    b.add_argument(
        "--master", nargs="+", action="extend", help="masters to compare on (default: the generated four)"
    )
    b.add_argument(
        "--codecs",
        type=codecs_arg,
        default=("h264", "av1"),
        help="the fixed ladder in each; the first is the reference and per-title's (default: h264,av1)",
    )
    b.add_argument("--out", default=".", help="folder for ladder-bench.json and .png (default: .)")
    b.add_argument("--vmaf-every", type=int, default=3, help="score every Nth frame (default 3)")
    b.set_defaults(func=cmd_bench_ladder)
