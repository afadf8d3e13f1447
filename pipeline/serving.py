"""Running an aiohttp app until SIGINT/SIGTERM: shared by ``serve``, ``demo`` and ``license-server``."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
import sys
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from aiohttp import web

from origin.connection import Connections, FastConnection
from origin.fast import FastPath
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
    ``SHUTDOWN_GRACE`` seconds to finish; then the process ends.
    """
    raise_open_files_limit()
    server = await start_server(app, host, port, reuse_port)
    on_ready(server.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.close()


@dataclass
class OriginServer:
    """A listening app: its port, and how to stop it gracefully."""

    listener: asyncio.Server
    runner: web.AppRunner
    fast: Connections | None  # the connections the fast path still serves

    @property
    def port(self) -> int:
        return int(self.listener.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening; let responses in flight finish (up to ``SHUTDOWN_GRACE``); clean up."""
        self.listener.close()
        if self.fast is not None:
            await self.fast.close(SHUTDOWN_GRACE)
        await self.runner.cleanup()  # aiohttp's connections, including those handed to it


async def start_server(
    app: web.Application,
    host: str,
    port: int,
    reuse_port: bool = False,
    keepalive: float = KEEPALIVE_TIMEOUT,
) -> OriginServer:
    """Listen on ``host:port`` (0: a free port) with the app behind the fast path, when it serves
    media (``origin.connection``); aiohttp serves everything the fast path does not answer.

    aiohttp's access-log hook is replaced by the origin's (metrics, JSON access log).
    """
    runner = web.AppRunner(
        app,
        shutdown_timeout=SHUTDOWN_GRACE,
        access_log_class=OriginAccessLogger,
        keepalive_timeout=keepalive,
    )
    await runner.setup()
    general = runner.server
    assert general is not None  # made by setup()
    fast = FastPath.of(app)
    connections = Connections() if fast is not None else None
    factory: Callable[[], asyncio.Protocol] = general
    if fast is not None and connections is not None:
        factory = partial(FastConnection, fast, general, connections, keepalive)
    loop = asyncio.get_running_loop()
    try:
        listener = await loop.create_server(
            factory, host, port, reuse_port=reuse_port or None, backlog=BACKLOG
        )
    except OSError as exc:
        await runner.cleanup()
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise VodpipeError(f"cannot listen on {host}:{port}: {reason}") from None
    return OriginServer(listener, runner, connections)


def log_audit_to_stderr() -> None:
    """Send the license audit lines (one per license request) to stderr, once per process."""
    audit = logging.getLogger("vodpipe.license.audit")
    if not audit.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        audit.addHandler(handler)
        audit.setLevel(logging.INFO)
