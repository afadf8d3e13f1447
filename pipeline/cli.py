"""The ``vodpipe`` command line. Errors print one line and exit non-zero; never a traceback."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from drm.keystore import ObjectKeyStore
from drm.license import LicenseService
from drm.tokens import MAX_TTL, issue_token
from ingest.catalog import parse_encryption, parse_ladder_mode, title_from_filename, validate_title
from ingest.options import TitleOptions
from ingest.service import ingest_master
from ingest.validate import MasterLimits
from origin.access import AccessPolicies
from origin.access_log import AccessLog
from origin.app import make_app
from origin.cache_policy import CachePolicy
from origin.disk_cache import DiskCache
from origin.metrics import OriginMetrics, metrics_folder, worker_exited
from origin.observe import Observer
from origin.play import PlayerAssets
from origin.signed import UrlSigning
from origin.signing import sign_url
from pipeline.api_commands import add_api_commands
from pipeline.bench_commands import add_bench_commands, codecs_arg
from pipeline.drm_commands import add_drm_commands
from pipeline.edge_commands import add_edge_commands
from pipeline.local_secrets import with_local_secrets
from pipeline.serving import log_audit_to_stderr, run_until_signalled
from pipeline.settings import Settings, current_settings, in_use
from pipeline.store import make_store
from pipeline.title_options import add_encryption_argument, apply_title_options, check_title_options
from pipeline.workers import serve_workers
from vodpipe.errors import ConfigError, RequestError, VodpipeError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from aiohttp import web

    from storage.base import ObjectStore


CODECS_HELP = "video codecs, e.g. h264,av1 (default: VODPIPE_VIDEO_CODECS); av1/hevc rungs derive from h264's"


def _urls(settings: Settings, title: str, version: str, base: str | None = None) -> dict[str, str]:
    root = f"{base or settings.base_url()}/media/{title}/{version}"
    return {"hls": f"{root}/master.m3u8", "dash": f"{root}/manifest.mpd"}


def ingest_and_process(
    settings: Settings, path: Path, title: str | None, options: TitleOptions
) -> tuple[str, str | None]:
    """Ingest, then run the job (in-process on the embedded default). Returns title and version.

    In-process, the job runs with these ``settings`` (the demo's local secrets included); a
    worker behind a broker runs with its own. The title's ``options`` are checked before anything
    is stored and recorded as the upload API does (``pipeline.title_options``).
    """
    from pipeline.tasks import process_title  # imports Celery only for commands that use it

    store = make_store(settings)
    name = validate_title(title) if title else title_from_filename(path.name)
    check_title_options(settings, store, options)
    outcome = ingest_master(store, path, name, MasterLimits(), options)
    apply_title_options(store, name, options)
    if not outcome.is_new and outcome.record.status == "published":
        print(f"{name}: these bytes are already published; nothing to do", file=sys.stderr)
        return name, outcome.record.published_version
    with in_use(settings):  # eager (no broker): the tasks run here, with these settings
        result = process_title.delay(name)
    if settings.broker_url:
        print(f"{name}: queued as task {result.id}", file=sys.stderr)
        return name, None
    version: str | None = result.get()["version"]
    return name, version


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    options = TitleOptions(args.encryption, args.signed_urls, args.ladder, args.codecs)
    name, version = ingest_and_process(settings, Path(args.path), args.title, options)
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


def observer(settings: Settings, metrics_dir: Path | None = None) -> Observer:
    """Metrics and access log as the settings ask; ``metrics_dir``: the workers' shared folder."""
    disk = settings.store == "s3"
    metrics = OriginMetrics(metrics_dir, disk_cache=disk) if settings.metrics else None
    access_log = AccessLog(settings.access_log) if settings.access_log != "off" else None
    token = settings.metrics_token.reveal() if settings.metrics_token else None
    return Observer(metrics, access_log, token)


def origin_app(settings: Settings, metrics_dir: Path | None = None) -> web.Application:
    """The origin as the settings describe it: store, caches, players, license routes, metrics."""
    store = make_store(settings)
    policy = CachePolicy(settings.manifest_max_age, settings.manifest_edge_max_age)
    players = PlayerAssets(settings.players_dir) if settings.players_dir else None
    licenses = license_service(settings, store)
    if licenses is not None:
        log_audit_to_stderr()
    disk = None
    if settings.store == "s3":  # a remote store: keep hot objects on local disk too
        disk = DiskCache(settings.origin_disk_cache_dir(), settings.origin_disk_cache_bytes)
    key = settings.url_signing_key.reveal() if settings.url_signing_key else None
    signing = UrlSigning(key, AccessPolicies(store, settings.signed_urls))
    return make_app(
        store,
        policy,
        players,
        licenses,
        hot_bytes=settings.origin_cache_bytes,
        disk=disk,
        signing=signing,
        observer=observer(settings, metrics_dir),
    )


def _announcer(
    settings: Settings,
    host: str,
    title_version: tuple[str, str] | None = None,
    token: str | None = None,
    sign: Callable[[str], str] | None = None,
) -> Callable[[int], None]:
    signed = sign or (lambda url: url)

    def announce(bound: int) -> None:
        base = settings.public_url or f"http://{host}:{bound}"
        source = f"s3://{settings.s3_bucket}" if settings.store == "s3" else str(settings.data_dir)
        print(f"origin: serving {source}/media at {base}/media/", flush=True)
        if settings.key_encryption_key is not None and settings.token_secret is not None:
            print(f"license: {base}/license/clearkey", flush=True)
        if title_version:
            # The token rides in the page's query: the origin never hands tokens out itself.
            query = f"?{urlencode({'token': token})}" if token else ""
            print(f"player: {signed(f'{base}/play/{title_version[0]}{query}')}", flush=True)
            for kind, url in _urls(settings, *title_version, base=base).items():
                print(f"{kind}: {signed(url)}", flush=True)

    return announce


async def _serve(
    settings: Settings,
    host: str,
    port: int,
    title_version: tuple[str, str] | None = None,
    on_ready: Callable[[int], None] | None = None,
    reuse_port: bool = False,
    token: str | None = None,
    sign: Callable[[str], str] | None = None,
    metrics_dir: Path | None = None,
) -> None:
    announce = on_ready or _announcer(settings, host, title_version, token, sign)
    await run_until_signalled(origin_app(settings, metrics_dir), host, port, announce, reuse_port)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise RequestError("--workers must be at least 1")
    if workers == 1:
        asyncio.run(_serve(settings, host, port))
        return 0

    # Every worker's metrics go to one fresh private folder (mkdtemp: mode 0700), summed by any
    # worker's /metrics. prometheus_client reads the variable when a worker imports it, after fork.
    metrics_dir = metrics_folder()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

    def worker(bound: int, ready: Callable[[], None]) -> None:
        asyncio.run(
            _serve(
                settings, host, bound, on_ready=lambda _: ready(), reuse_port=True, metrics_dir=metrics_dir
            )
        )

    announce = _announcer(settings, host)

    def all_ready(bound: int) -> None:
        announce(bound)  # first: scripts wait for the "origin: serving" line
        print(f"origin: {workers} worker processes", flush=True)

    try:
        serve_workers(
            worker, workers, host, port, all_ready, on_exit=lambda pid: worker_exited(metrics_dir, pid)
        )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from encoder.runner import SubprocessRunner
    from pipeline.demo import make_demo_master

    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    # The manifests of an encrypted title name the license server, so the URL they are written
    # with must be the one the origin will listen on.
    settings = dataclasses.replace(settings, host=host, port=port)
    token = None
    if args.encrypt != "none":
        if port == 0 and not (settings.public_url or settings.license_url):
            raise ConfigError("an encrypted demo needs a fixed --port: its manifests name the license URL")
        if not 0 < args.token_ttl <= MAX_TTL:
            raise ConfigError(f"--token-ttl must be 1 to {MAX_TTL} seconds, not {args.token_ttl}")
        settings, notes = with_local_secrets(settings)
        for note in notes:
            print(f"demo: {note}", file=sys.stderr)
    sign = None
    if args.signed_urls:
        settings, notes = with_local_secrets(settings, ("url_signing_key",))
        for note in notes:
            print(f"demo: {note}", file=sys.stderr)
        key = settings.url_signing_key.reveal() if settings.url_signing_key else b""
        sign = _signer(key, args.token_ttl)
    if args.master:
        master = Path(args.master)
    else:
        master = settings.data_dir / "demo" / "test-master-30s.mp4"
        if not master.exists():
            print("demo: generating a 30 s 1080p test master with FFmpeg", file=sys.stderr)
            make_demo_master(SubprocessRunner(), settings.ffmpeg_exe(), master)
    options = TitleOptions(args.encrypt, args.signed_urls or None, args.ladder, args.codecs)
    name, version = ingest_and_process(settings, master, args.title, options)
    if version is None:
        raise VodpipeError("the demo runs in-process; unset VODPIPE_BROKER_URL")
    if args.encrypt != "none":
        secret = settings.token_secret.reveal() if settings.token_secret else None
        token = issue_token(secret, name, args.token_ttl)
    asyncio.run(_serve(settings, host, port, title_version=(name, version), token=token, sign=sign))
    return 0


def _signer(key: bytes, ttl: int) -> Callable[[str], str]:
    return lambda url: sign_url(key, url, ttl, time.time())


def cmd_sign(settings: Settings, args: argparse.Namespace) -> int:
    if settings.url_signing_key is None:
        raise ConfigError("no URL signing key: set VODPIPE_URL_SIGNING_KEY (e.g. `openssl rand -hex 32`)")
    print(sign_url(settings.url_signing_key.reveal(), args.url, args.ttl, time.time(), args.prefix))
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.broker_url:
        raise ConfigError("a worker needs a broker: set VODPIPE_BROKER_URL (e.g. redis://localhost:6379/0)")
    from pipeline.celery_app import celery_app

    concurrency, threads = settings.worker_slots(os.cpu_count() or 1)
    concurrency = args.concurrency or concurrency
    print(f"worker: {concurrency} task(s) at once, {threads} FFmpeg thread(s) each", flush=True)
    argv = ["worker", "--loglevel", args.loglevel, "--concurrency", str(concurrency), "--pool", "prefork"]
    argv += ["--without-mingle", "--without-gossip"]  # nothing to sync: all state is in Redis
    if args.name:
        argv += ["--hostname", args.name]
    celery_app.worker_main(argv)
    return 0


def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    from player_test.check import check  # verification tooling: loaded only by this command

    if not re.fullmatch(r"https?://[^/\s]+/\S*", args.url):
        raise RequestError(f"not an http(s) URL: {args.url!r}")
    report = check(args.url, args.token)
    print(report.to_json(args.strict) if args.json else report.table(args.strict))
    if args.abr:
        from player_test.abr import simulate_report

        print(simulate_report(report, args.url, args.abr, Path(args.plot_dir), as_json=args.json))
    return 0 if report.passes(args.strict) else 1


CHECK_EPILOG = """\
severities:
  error    the stream breaks a MUST of RFC 8216bis, ISO/IEC 23009-1 or CMAF, or a real
           player fails on it; any error makes the check fail (exit status 1)
  warning  a SHOULD or an authoring-spec recommendation is not followed, or a tolerance is
           exceeded a little (e.g. BANDWIDTH less than 10 % below the measured peak);
           reported, but the check passes unless --strict is given

packaging modes checked:
  HLS   fMP4 (EXT-X-MAP) and MPEG-TS segments, whole files or EXT-X-BYTERANGE ranges,
        METHOD=AES-128 (decrypted with the key from its URI), SAMPLE-AES/-CTR signalling;
        audio-only variants and EXT-X-MEDIA audio renditions
  DASH  SegmentTemplate with SegmentTimeline or @duration, SegmentBase with sidx, SegmentList

Each rule's meaning and source (spec clause or player behaviour) is listed in the table.
"""


def _ladder_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--ladder",
        type=parse_ladder_mode,
        metavar="{fixed,per-title}",
        help="fixed ladder, or rungs chosen on this title's measured hull (default: VODPIPE_LADDER_MODE)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vodpipe", description="Master in, adaptive title out.")
    parser.add_argument("--traceback", action="store_true", help="show the traceback of an internal error")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="validate and store a master, then encode, package, publish")
    p.add_argument("path")
    p.add_argument("--title", help="title slug (default: from the file name)")
    add_encryption_argument(p)
    p.add_argument(
        "--signed-urls",
        action=argparse.BooleanOptionalAction,
        help="serve the title only to signed URLs (`vodpipe sign`); --no-signed-urls opens it again",
    )
    _ladder_option(p)
    p.add_argument("--codecs", type=codecs_arg, help=CODECS_HELP)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("serve", help="run the origin")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument(
        "--workers", type=int, help="origin processes sharing the port (default: one per CPU core)"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="generate a master (or take one), publish it, serve it")
    p.add_argument("master", nargs="?")
    p.add_argument("--title", default="demo")
    p.add_argument(
        "--encrypt",
        type=parse_encryption,
        nargs="?",
        const="cbcs",
        default="none",
        metavar="{cbcs,cenc}",
        help="publish the title encrypted (cbcs when no scheme is given), with a local key store",
    )
    p.add_argument(
        "--token-ttl", type=int, default=3600, help="lifetime of the printed token and signed URLs, seconds"
    )
    p.add_argument(
        "--signed-urls", action="store_true", help="serve the title only to signed URLs; print signed ones"
    )
    p.add_argument("--codecs", type=codecs_arg, help=CODECS_HELP)
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    _ladder_option(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "check",
        help="check that an HLS or DASH title plays: rules, decode, ABR",
        description="Check an HLS or DASH title on any origin as a player would fetch it.",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("url", help="a master .m3u8 or an .mpd")
    p.add_argument("--strict", action="store_true", help="fail on warnings too, not only on errors")
    p.add_argument("--token", help="bearer token for protected origins and license servers")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--abr", nargs="+", metavar="TRACE", help="bandwidth trace CSVs to replay (player_test/traces/)"
    )
    p.add_argument("--plot-dir", default=".", help="where the ABR plots go (default: here)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("sign", help="print a signed URL for a title that needs signed URLs")
    p.add_argument("url", help="a URL under /media/TITLE/ (or a /play/TITLE page)")
    p.add_argument("--ttl", type=int, default=3600, help="seconds the URL stays valid (default 3600)")
    p.add_argument("--prefix", help="path prefix the signature covers (default: /media/TITLE/)")
    p.set_defaults(func=cmd_sign)

    add_api_commands(sub)

    add_drm_commands(sub)

    add_edge_commands(sub)

    p = sub.add_parser("worker", help="run a Celery worker that encodes, packages and publishes titles")
    p.add_argument("--name", help="worker name, e.g. encoder1@%%h (default: celery@HOST)")
    p.add_argument("--concurrency", type=int, help="tasks at once (default: VODPIPE_WORKER_CONCURRENCY)")
    p.add_argument("--loglevel", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=cmd_worker)

    add_bench_commands(sub)
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
