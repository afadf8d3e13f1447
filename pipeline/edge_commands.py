"""``vodpipe edge-config``: the nginx configuration of an edge cache tier (origin/edge_config.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from origin.edge_config import DEFAULT_CACHE_DIR, EdgeSettings, edge_config
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    import argparse

    from pipeline.settings import Settings


def cmd_edge_config(settings: Settings, args: argparse.Namespace) -> int:
    edge = EdgeSettings(
        origins=tuple(args.origin),
        listen=args.listen,
        cache_dir=args.cache_dir,
        max_size=args.max_size,
        inactive=args.inactive,
        workers=args.workers,
        run_dir=args.run_dir,
        access_log=args.access_log,
        user=args.user,
    )
    text = edge_config(edge)  # raises ConfigError before anything is written
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text)
    except OSError as exc:
        raise ConfigError(f"cannot write {args.output}: {exc.strerror}") from None
    return 0


def add_edge_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "edge-config",
        help="write an nginx configuration for a cache tier in front of vodpipe origins",
        description="Print (or write with -o) a whole nginx.conf for an edge cache tier: "
        "check it with `nginx -t -c FILE`, run it with `nginx -c FILE`.",
    )
    p.add_argument(
        "--origin", action="append", required=True, metavar="URL", help="http://host:port; repeat for several"
    )
    p.add_argument("--listen", default="8080", help="PORT or HOST:PORT (default 8080)")
    p.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR, help=f"default {DEFAULT_CACHE_DIR}")
    p.add_argument("--max-size", default="10g", help="cache size bound, nginx units (default 10g)")
    p.add_argument("--inactive", default="7d", help="drop objects nobody asked for in this long (default 7d)")
    p.add_argument("--workers", default="auto", help="nginx worker processes (default auto: one per core)")
    p.add_argument(
        "--run-dir", help="put pid, logs and temp files here and stay in the foreground (runs without root)"
    )
    p.add_argument("--access-log", help="JSON access log (default: RUN_DIR/access.log or /var/log/nginx/)")
    p.add_argument("--user", help="user the nginx workers run as when started by root")
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_edge_config)
