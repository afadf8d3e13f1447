"""Real servers and workers for integration tests: own process group, a log, a handshake.

Each process runs in its own session (so killing its group takes its children, FFmpeg
included), its output is copied line by line to a log file under the test's folder, and
readiness is a line it prints, never a sleep.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

_END = "\0end"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LoggedProcess:
    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._copy, daemon=True)
        self._reader.start()

    def _copy(self) -> None:
        assert self.proc.stdout is not None
        with self.log.open("w") as out:
            for line in self.proc.stdout:
                out.write(line)
                out.flush()
                self.lines.put(line.rstrip("\n"))
        self.lines.put(_END)

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        """The first line from now on that matches ``pattern`` (a handshake on the output)."""
        regex = re.compile(pattern)
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} in {timeout} s; see {self.log}") from None
            if line == _END:
                raise AssertionError(f"process ended before printing {pattern!r}; see {self.log}")
            if match := regex.search(line):
                return match

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signal the whole process group (the worker, its pool and any FFmpeg) and reap it."""
        with contextlib.suppress(ProcessLookupError):  # the group outlives its leader
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._reader.join(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        with contextlib.suppress(ProcessLookupError):  # pool children left by a warm shutdown
            os.killpg(self.proc.pid, signal.SIGKILL)


def start_redis(folder: Path) -> tuple[LoggedProcess, str]:
    """A throwaway redis-server (the Debian package) on a free port, with no persistence."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server; see .ci/run)")
    port = free_port()
    args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = LoggedProcess(args, folder / "redis.log")
    server.wait_for("Ready to accept connections")
    return server, f"redis://127.0.0.1:{port}/0"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One redis-server per test module; each test takes a database of its own."""
    server, url = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield url
    finally:
        server.stop()


def start_worker(name: str, env: dict[str, str], folder: Path) -> LoggedProcess:
    args = [sys.executable, "-m", "pipeline.cli", "worker", "--name", f"{name}@%h", "--concurrency", "1"]
    worker = LoggedProcess(args, folder / f"{name}.log", env)
    worker.wait_for(rf"{name}@\S+ ready\.")
    return worker


class TcpProxy:
    """A TCP forwarder to a local port that can go down and come back on the same port.

    Between ``stop()`` and ``start()`` every connection is refused and the open ones are cut,
    as when a store's endpoint is down, while the server behind it (and its data) stays up.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: the same port again
        listener.settimeout(0.1)  # the accept loop notices stop() within this
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            for sock in self._open:  # the pumps wake from recv() and close them
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open |= {client, upstream}
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for sock in (src, dst):  # either side ending ends the connection both ways
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with self._lock:
            for sock in (src, dst):
                if sock in self._open:
                    self._open.discard(sock)
                    sock.close()
