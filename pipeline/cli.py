"""The ``vodpipe`` command line. Errors print one line and exit non-zero; never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from drm.keystore import ObjectKeyStore
from drm.license import LicenseService
from ingest.catalog import title_from_filename, validate_title
from ingest.service import ingest_master
from ingest.validate import MasterLimits
from origin.app import make_app
from origin.cache_policy import CachePolicy
from origin.play import PlayerAssets
from pipeline.api_commands import add_api_commands
from pipeline.drm_commands import add_drm_commands
from pipeline.serving import log_audit_to_stderr, run_until_signalled
from pipeline.settings import Settings, current_settings
from pipeline.store import make_store
from vodpipe.errors import RequestError, VodpipeError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from storage.base import ObjectStore


def _urls(settings: Settings, title: str, version: str, base: str | None = None) -> dict[str, str]:
    root = f"{base or settings.base_url()}/media/{title}/{version}"
    return {"hls": f"{root}/master.m3u8", "dash": f"{root}/manifest.mpd"}


def ingest_and_process(settings: Settings, path: Path, title: str | None) -> tuple[str, str | None]:
    """Ingest, then run the job (in-process on the embedded default). Returns title and version."""
    from pipeline.tasks import process_title  # imports Celery only for commands that use it

    store = make_store(settings)
    name = validate_title(title) if title else title_from_filename(path.name)
    outcome = ingest_master(store, path, name, MasterLimits())
    if not outcome.is_new and outcome.record.status == "published":
        print(f"{name}: these bytes are already published; nothing to do", file=sys.stderr)
        return name, outcome.record.published_version
    result = process_title.delay(name)
    if settings.broker_url:
        print(f"{name}: queued as task {result.id}", file=sys.stderr)
        return name, None
    return name, result.get()["version"]


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    name, version = ingest_and_process(settings, Path(args.path), args.title)
    if version:
        for kind, url in _urls(settings, name, version).items():
            print(f"{kind}: {url}")
    return 0


def license_service(settings: Settings, store: ObjectStore) -> LicenseService | None:
    """The license routes' service, when both the key-encryption key and token secret are set."""
    if settings.key_encryption_key is None or settings.token_secret is None:
        return None
    keys = ObjectKeyStore(store, settings.key_encryption_key.reveal())
    return LicenseService(keys, settings.token_secret.reveal())


async def _serve(
    settings: Settings,
    host: str,
    port: int,
    title_version: tuple[str, str] | None = None,
) -> None:
    store = make_store(settings)
    policy = CachePolicy(settings.manifest_max_age, settings.manifest_edge_max_age)
    players = PlayerAssets(settings.players_dir) if settings.players_dir else None
    licenses = license_service(settings, store)
    if licenses is not None:
        log_audit_to_stderr()

    def announce(bound: int) -> None:
        base = settings.public_url or f"http://{host}:{bound}"
        source = f"s3://{settings.s3_bucket}" if settings.store == "s3" else str(settings.data_dir)
        print(f"origin: serving {source}/media at {base}/media/", flush=True)
        if licenses is not None:
            print(f"license: {base}/license/clearkey", flush=True)
        if title_version:
            print(f"player: {base}/play/{title_version[0]}", flush=True)
            for kind, url in _urls(settings, *title_version, base=base).items():
                print(f"{kind}: {url}", flush=True)

    await run_until_signalled(make_app(store, policy, players, licenses), host, port, announce)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(
        _serve(settings, args.host or settings.host, settings.port if args.port is None else args.port)
    )
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from encoder.runner import SubprocessRunner
    from pipeline.demo import make_demo_master

    if args.master:
        master = Path(args.master)
    else:
        master = settings.data_dir / "demo" / "test-master-30s.mp4"
        if not master.exists():
            print("demo: generating a 30 s 1080p test master with FFmpeg", file=sys.stderr)
            make_demo_master(SubprocessRunner(), settings.ffmpeg_exe(), master)
    name, version = ingest_and_process(settings, master, args.title)
    if version is None:
        raise VodpipeError("the demo runs in-process; unset VODPIPE_BROKER_URL")
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    asyncio.run(_serve(settings, host, port, title_version=(name, version)))
    return 0


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    from bench.encode import bench_encode

    report = bench_encode(settings, Path(args.master) if args.master else None, args.runs)
    print(json.dumps(report, indent=2))
    return 0


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    from player_test.check import check  # verification tooling: loaded only by this command

    if not re.fullmatch(r"https?://[^/\s]+/\S*", args.url):
        raise RequestError(f"not an http(s) URL: {args.url!r}")
    report = check(args.url, args.token)
    print(report.to_json() if args.json else report.table())
    if args.abr:
        from player_test.abr import simulate_report

        print(simulate_report(report, args.url, args.abr, Path(args.plot_dir), as_json=args.json))
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vodpipe", description="Master in, adaptive title out.")
    parser.add_argument("--traceback", action="store_true", help="show the traceback of an internal error")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="validate and store a master, then encode, package, publish")
    p.add_argument("path")
    p.add_argument("--title", help="title slug (default: from the file name)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("serve", help="run the origin")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="generate a master (or take one), publish it, serve it")
    p.add_argument("master", nargs="?")
    p.add_argument("--title", default="demo")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("check", help="check that an HLS or DASH title plays: rules, decode, ABR")
    p.add_argument("url", help="a master .m3u8 or an .mpd")
    p.add_argument("--token", help="bearer token for protected origins and license servers")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--abr", nargs="+", metavar="TRACE", help="bandwidth trace CSVs to replay (player_test/traces/)"
    )
    p.add_argument("--plot-dir", default=".", help="where the ABR plots go (default: here)")
    p.set_defaults(func=cmd_check)

    add_api_commands(sub)

    add_drm_commands(sub)

    p = sub.add_parser("bench", help="benchmarks that print JSON")
    bench = p.add_subparsers(dest="bench", required=True)
    b = bench.add_parser("encode", help="our ladder encode against one plain FFmpeg command")
    b.add_argument("--master", help="master to encode (default: a generated 10 s 1080p master)")
    b.add_argument("--runs", type=int, default=3)
    b.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(current_settings(), args)
        return status
    except VodpipeError as exc:
        print(f"vodpipe: error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("vodpipe: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.traceback:
            raise
        print(
            f"vodpipe: internal error: {type(exc).__name__}: {exc} (rerun with --traceback)", file=sys.stderr
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
