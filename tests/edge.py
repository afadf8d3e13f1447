"""A real nginx edge (Debian's package) for tests, configured by ``vodpipe edge-config``'s code.

Everything it writes (pid, logs, temp files, the cache) stays under the test's folder, so it runs
as any user; readiness is a TCP connect that succeeds (a probe, no sleep), and the access log's
JSON lines tell which requests reached an origin.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from origin.edge_config import EdgeSettings, edge_config
from tests.services import LoggedProcess, free_port

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

NGINX_WORKERS = 2  # more than one: the cache lock must hold across worker processes


@dataclass
class Edge:
    url: str  # http://127.0.0.1:PORT
    folder: Path
    process: LoggedProcess

    @property
    def access_log(self) -> Path:
        return self.folder / "access.log"

    def entries(self, until: Callable[[list[dict[str, Any]]], bool] | None = None) -> list[dict[str, Any]]:
        """The access log's lines; with ``until``, read again until it holds (nginx logs each request
        just after answering it, so a client can be a moment ahead of the log)."""
        for _ in range(500):
            text = self.access_log.read_text() if self.access_log.exists() else ""
            lines = [json.loads(line) for line in text.splitlines()]
            if until is None or until(lines):
                return lines
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.proc.wait(timeout=0.02)  # a pause that also notices nginx dying
        raise AssertionError(f"the edge's access log never matched; see {self.access_log}")

    def stop(self) -> None:
        self.process.stop()


def start_edge(folder: Path, origins: list[str]) -> Edge:
    exe = shutil.which("nginx")
    if exe is None:
        pytest.fail("nginx is not installed (apt-get install nginx; see .ci/run)")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = EdgeSettings(
        tuple(origins),
        listen=f"127.0.0.1:{port}",
        cache_dir=str(folder / "cache"),
        workers=str(NGINX_WORKERS),
        run_dir=str(folder),
        user=getpass.getuser() if os.geteuid() == 0 else None,  # root's workers would be nobody
    )
    conf = folder / "nginx.conf"
    conf.write_text(edge_config(settings))
    process = LoggedProcess([exe, "-c", str(conf), "-p", str(folder), "-e", "stderr"], folder / "nginx.log")
    while process.proc.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return Edge(f"http://127.0.0.1:{port}", folder, process)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.proc.wait(timeout=0.05)
    process.stop()
    raise AssertionError(f"nginx exited ({process.proc.returncode}): {(folder / 'nginx.log').read_text()}")
