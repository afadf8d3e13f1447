"""``vodpipe api``, ``vodpipe upload`` and ``vodpipe status --watch``: the distributed front door."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ingest.api import ApiConfig, make_api
from ingest.catalog import Catalog, parse_ladder_mode, validate_title
from ingest.options import TitleOptions
from ingest.uploads import Uploads
from ingest.validate import MasterLimits
from pipeline.bars import stage_lines, transfer_line
from pipeline.bench_commands import codecs_arg
from pipeline.serving import run_until_signalled
from pipeline.status_view import status_lines
from pipeline.store import make_store
from pipeline.title_options import SettingsOptions, add_encryption_argument
from pipeline.upload_client import TusClient, UploadState, upload
from vodpipe.errors import ConfigError, VodpipeError

if TYPE_CHECKING:
    from collections.abc import Callable

    from pipeline.settings import Settings

log = logging.getLogger("vodpipe.api")
TERMINAL = ("published", "failed")


def job_queue(settings: Settings) -> Callable[[str], None]:
    """Start a title's job: on the Celery broker, or (embedded) on one background thread, so
    the PATCH that completes an upload does not wait for the encode."""
    from pipeline.tasks import process_title  # imports Celery only for the commands that use it

    if settings.broker_url:
        return lambda title: process_title.delay(title)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vodpipe-job")

    def run(title: str) -> None:
        try:
            process_title.delay(title)  # eager: runs here; a failure is in the title record
        except Exception:
            log.exception("job of %s failed", title)

    def submit(title: str) -> None:
        pool.submit(run, title)

    return submit


async def _serve_api(settings: Settings, host: str, port: int) -> None:
    if settings.api_keys is None:
        raise ConfigError("the API needs keys: set VODPIPE_API_KEYS=team:key,... (keys of 16+ characters)")
    # The API's own lines (uploads opened and finished, deletions; never a key) go to stderr;
    # per-request access lines are left to a proxy in front, which logs them anyway.
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    store = make_store(settings)
    config = ApiConfig(
        store=store,
        keys=settings.api_keys,
        queue=job_queue(settings),
        limits=MasterLimits(),
        origin_url=settings.base_url(),
        max_size=settings.upload_max_size,
        uploads=Uploads(store, settings.scratch_dir),
        options=SettingsOptions(settings, store),
    )

    teams = ", ".join(settings.api_keys.teams)

    def announce(bound: int) -> None:
        print(f"api: http://{host}:{bound}/v1/ (teams: {teams})", flush=True)

    await run_until_signalled(make_api(config), host, port, announce)


def cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    port = settings.api_port if args.port is None else args.port
    asyncio.run(_serve_api(settings, args.host or settings.host, port))
    return 0


def cmd_upload(settings: Settings, args: argparse.Namespace) -> int:
    file = Path(args.file)
    key = args.key or settings.api_key
    state_path = settings.upload_state or Path("~/.cache/vodpipe/uploads.json").expanduser()
    client = TusClient(args.api, key)
    started = time.monotonic()
    first: list[int] = []
    tty = sys.stderr.isatty()
    last_decile = -1

    def show(done: int, total: int, resumed: bool) -> None:
        nonlocal last_decile
        if not first:
            first.append(done)
        line = transfer_line(file.name, done, total, done - first[0], time.monotonic() - started)
        if tty:
            sys.stderr.write("\r" + line)
        elif (decile := (10 * done // total if total else 10)) != last_decile:
            last_decile = decile
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    title = upload(
        client,
        file,
        args.title,
        UploadState(state_path),
        show,
        args.chunk_size,
        say=lambda text: print(text, file=sys.stderr),
        options=TitleOptions(args.encryption, args.signed_urls, args.ladder, args.codecs).to_metadata(),
    )
    if tty:
        sys.stderr.write("\n")
    print(title)
    return 0


def _fetch_view(settings: Settings, args: argparse.Namespace) -> Callable[[], dict[str, Any]]:
    title = validate_title(args.title)
    if args.api:
        url = f"{args.api.rstrip('/')}/v1/titles/{title}"
        key = args.key or settings.api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}

        def from_api() -> dict[str, Any]:
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
                    view: dict[str, Any] = json.loads(r.read())
                    return view
            except urllib.error.HTTPError as error:
                with error:
                    detail = json.loads(error.read() or b"{}").get("detail", error.reason)
                raise VodpipeError(f"{url}: {error.code} {detail}") from None

        return from_api
    catalog = Catalog(make_store(settings))
    return lambda: asdict(catalog.get(title))


def watch(fetch: Callable[[], dict[str, Any]], out: TextIO, interval: float = 1.0) -> dict[str, Any]:
    """Redraw a bar per stage until the title is published or failed; returns its last view."""
    drawn = 0
    shown: list[str] = []
    while True:
        view = fetch()
        lines = stage_lines(view)
        if out.isatty():
            out.write(f"\x1b[{drawn}F" if drawn else "")
            out.write("".join(f"\x1b[2K{line}\n" for line in lines))
            drawn = len(lines)
        elif lines != shown:
            out.write("\n".join(lines) + "\n")
        shown = lines
        out.flush()
        if view.get("status") in TERMINAL:
            return view
        time.sleep(interval)


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    fetch = _fetch_view(settings, args)
    if not args.watch:
        view = fetch()
        if args.json:
            print(json.dumps(view, indent=2, sort_keys=True))
        else:
            print("\n".join(status_lines(view)))
        return 0
    view = watch(fetch, sys.stdout, args.interval)
    return 0 if view.get("status") == "published" else 1


def add_api_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("api", help="run the upload and catalog API (tus uploads, titles, OpenAPI)")
    p.add_argument("--host")
    p.add_argument("--port", type=int, help="default: VODPIPE_API_PORT (8090)")
    p.set_defaults(func=cmd_api)

    p = sub.add_parser("upload", help="upload a master to the API (tus; resumes after an interruption)")
    p.add_argument("file")
    p.add_argument("--api", required=True, help="the API's base URL, e.g. http://localhost:8090")
    p.add_argument("--title", help="title id (default: from the file name)")
    p.add_argument("--key", help="API key (default: VODPIPE_API_KEY; the environment keeps it out of ps)")
    p.add_argument("--chunk-size", type=int, default=8 << 20, help="bytes per PATCH (default 8 MiB)")
    # The title's options, as `vodpipe ingest` takes them; sent when the upload is created.
    add_encryption_argument(p)
    p.add_argument(
        "--signed-urls", action=argparse.BooleanOptionalAction, help="serve it only to signed URLs"
    )
    p.add_argument("--ladder", type=parse_ladder_mode, help="fixed or per-title (default: the API's setting)")
    p.add_argument(
        "--codecs", type=codecs_arg, help="video codecs, e.g. h264,av1 (default: the API's setting)"
    )
    p.set_defaults(func=cmd_upload)

    p = sub.add_parser("status", help="show a title: renditions, quality, reports; or --watch its job")
    p.add_argument("title")
    p.add_argument("--json", action="store_true", help="print the whole title record as JSON")
    p.add_argument("--watch", action="store_true", help="live progress bars until published or failed")
    p.add_argument("--api", help="ask this API instead of reading the catalog")
    p.add_argument("--key", help="API key for --api (default: VODPIPE_API_KEY)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default 1)")
    p.set_defaults(func=cmd_status)
