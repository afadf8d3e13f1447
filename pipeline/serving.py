"""Running an aiohttp app until SIGINT/SIGTERM: shared by ``serve``, ``demo`` and ``license-server``."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
import sys
from typing import TYPE_CHECKING

from aiohttp import web

from origin.observe import OriginAccessLogger
from vodpipe.errors import VodpipeError

if TYPE_CHECKING:
    from collections.abc import Callable

SHUTDOWN_GRACE = 60.0  # seconds a segment in flight gets to finish after SIGTERM
# The accept queue: a premiere's thousand players connecting at once must not overflow it (the
# kernel caps it at net.core.somaxconn). aiohttp's default of 128 drops connections at -c1000.
BACKLOG = 4096
# An idle keep-alive connection is closed after this long (an AppRunner's default is an hour);
# players and edges ask again within a segment duration, so this only frees the sockets of the gone.
KEEPALIVE_TIMEOUT = 75.0


def raise_open_files_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit: each connection is a descriptor,
    and a segment in flight is two. Returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def run_until_signalled(
    app: web.Application, host: str, port: int, on_ready: Callable[[int], None], reuse_port: bool = False
) -> None:
    """Listen on ``host:port`` (0 picks a free port), call ``on_ready(bound_port)``, serve until told.

    On SIGTERM/SIGINT the listening socket closes first and responses in flight are given up to
    ``SHUTDOWN_GRACE`` seconds to finish (aiohttp's graceful shutdown); then the process ends.
    aiohttp's own access-log formatter is replaced by the origin's hook (metrics, JSON access log).
    """
    raise_open_files_limit()
    # The access-logger hook runs after each response is sent: metrics and the access log.
    runner = web.AppRunner(
        app,
        shutdown_timeout=SHUTDOWN_GRACE,
        access_log_class=OriginAccessLogger,
        keepalive_timeout=KEEPALIVE_TIMEOUT,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port, backlog=BACKLOG)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise VodpipeError(f"cannot listen on {host}:{port}: {reason}") from None
    on_ready(runner.addresses[0][1] if runner.addresses else port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def log_audit_to_stderr() -> None:
    """Send the license audit lines (one per license request) to stderr, once per process."""
    audit = logging.getLogger("vodpipe.license.audit")
    if not audit.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        audit.addHandler(handler)
        audit.setLevel(logging.INFO)
