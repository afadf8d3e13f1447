"""Running an aiohttp app until SIGINT/SIGTERM: shared by ``serve``, ``demo`` and ``license-server``."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING

from aiohttp import web

from origin.observe import OriginAccessLogger
from vodpipe.errors import VodpipeError

if TYPE_CHECKING:
    from collections.abc import Callable

SHUTDOWN_GRACE = 60.0  # seconds a segment in flight gets to finish after SIGTERM


async def run_until_signalled(
    app: web.Application, host: str, port: int, on_ready: Callable[[int], None], reuse_port: bool = False
) -> None:
    """Listen on ``host:port`` (0 picks a free port), call ``on_ready(bound_port)``, serve until told.

    On SIGTERM/SIGINT the listening socket closes first and responses in flight are given up to
    ``SHUTDOWN_GRACE`` seconds to finish (aiohttp's graceful shutdown); then the process ends.
    """
    # The access-logger hook runs after each response is sent: metrics and the access log.
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_GRACE, access_log_class=OriginAccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port)
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
