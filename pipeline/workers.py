"""``vodpipe serve --workers N``: N origin processes on one port, under a supervisor.

Each worker listens on the same port with ``SO_REUSEPORT`` (Linux spreads new connections across
the listening sockets by a hash of the connection), so there is no accept lock and no hand-off.
The supervisor reserves the port by binding a socket it never listens on (so port 0 works and
the number is the same for every worker, and the supervisor itself takes no connections),
restarts a worker that dies, and on SIGTERM/SIGINT passes SIGTERM on: each worker stops accepting
and lets its in-flight responses finish (``pipeline.serving``), then the supervisor exits.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import TYPE_CHECKING

from vodpipe.errors import VodpipeError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

# A worker's body: serve on the given port; call the given function once listening.
Worker = Callable[[int, Callable[[], None]], None]


def reserve_port(host: str, port: int) -> socket.socket:
    """A bound, never-listening ``SO_REUSEPORT`` socket: holds the port for the workers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        holder.bind((host, port))
    except OSError as exc:
        holder.close()
        raise VodpipeError(f"cannot listen on {host}:{port}: {os.strerror(exc.errno or 0)}") from None
    return holder


def _run_worker(body: Worker, port: int, ready: Connection) -> None:
    # The fork copied the supervisor's handlers; the worker's event loop installs its own.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    body(port, lambda: ready.send(os.getpid()))


class Supervisor:
    def __init__(
        self, body: Worker, count: int, port: int, on_exit: Callable[[int], None] | None = None
    ) -> None:
        self.body = body
        self.on_exit = on_exit  # told the pid of each worker that died (metrics bookkeeping)
        self.count = count
        self.port = port
        self._ctx = multiprocessing.get_context("fork")  # workers start from this process's imports
        self._ready_r, self._ready_w = self._ctx.Pipe(duplex=False)
        self.workers: list[BaseProcess] = []
        self.stopping = False

    def _start(self) -> BaseProcess:
        process = self._ctx.Process(
            target=_run_worker, args=(self.body, self.port, self._ready_w), daemon=False
        )
        process.start()
        return process

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True
        for process in self.workers:
            if process.pid is not None and process.exitcode is None:
                os.kill(process.pid, signal.SIGTERM)

    def run(self, on_ready: Callable[[], None]) -> None:
        """Start the workers, call ``on_ready`` once all listen, restart the dead until told to stop."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self.workers = [self._start() for _ in range(self.count)]
        waiting = self.count
        while waiting and not self.stopping:
            ready = wait([self._ready_r, *(p.sentinel for p in self.workers)])
            if self._ready_r in ready:
                self._ready_r.recv()
                waiting -= 1
            elif any(p.exitcode is not None for p in self.workers):
                self._stop(signal.SIGTERM, None)
                self._reap()
                raise VodpipeError("an origin worker exited while starting; see its message above")
        on_ready()
        while not self.stopping:
            wait([p.sentinel for p in self.workers] + [self._ready_r])
            while self._ready_r.poll():  # a restarted worker listening again
                print(f"origin: worker {self._ready_r.recv()} ready", file=sys.stderr, flush=True)
            for slot, process in enumerate(self.workers):
                if process.exitcode is not None and not self.stopping:
                    print(
                        f"origin: worker {process.pid} exited ({process.exitcode}); restarting",
                        file=sys.stderr,
                        flush=True,
                    )
                    if self.on_exit is not None and process.pid is not None:
                        self.on_exit(process.pid)
                    process.close()
                    self.workers[slot] = self._start()
        self._reap()

    def _reap(self) -> None:
        for process in self.workers:
            process.join()


def serve_workers(
    body: Worker,
    count: int,
    host: str,
    port: int,
    on_ready: Callable[[int], None],
    on_exit: Callable[[int], None] | None = None,
) -> None:
    holder = reserve_port(host, port)
    bound = holder.getsockname()[1]
    try:
        Supervisor(body, count, bound, on_exit).run(lambda: on_ready(bound))
    finally:
        holder.close()
