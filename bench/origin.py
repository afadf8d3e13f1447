"""``vodpipe bench origin``: vodpipe's origin against nginx on the same published files.

Both serve the data folder of the settings (a local store), one side at a time on a free
loopback port, with the same number of worker processes (1, then 2); ``wrk`` loads each with the
same connections and threads, per object kind: a media segment, the HLS master playlist and the
DASH MPD. The peer is a plain static nginx as an engineer would configure it (sendfile on,
access log off, no compression: wrk asks for identity, so neither side compresses).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from origin.play import latest_version
from pipeline.store import make_store
from vodpipe.errors import ConfigError, VodpipeError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from pipeline.settings import Settings

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}
_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
MIME = {
    "m3u8": "application/vnd.apple.mpegurl",
    "mpd": "application/dash+xml",
    "m4s": "video/iso.segment",
    "mp4": "video/mp4",
}


def nginx_config(data_dir: Path, prefix: Path, port: int, workers: int) -> str:
    """A static nginx serving ``data_dir/media`` at ``/media/`` on ``127.0.0.1:port``."""
    types = "".join(f"        {mime} {ext};\n" for ext, mime in MIME.items())
    return f"""daemon off;
master_process on;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    types {{
{types}    }}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port} reuseport;
        location /media/ {{ root {data_dir}; }}
    }}
}}
"""


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/s, p50/p99 in ms, and errors (non-2xx/3xx answers and socket errors) of ``wrk --latency``."""
    rate = _RATE.search(output)
    total = _TOTAL.search(output)
    if rate is None or total is None:
        raise VodpipeError(f"wrk printed no result: {output.strip()[-300:]}")
    latency = {p: round(float(v) * _UNITS[u], 3) for p, v, u in _LATENCY.findall(output)}
    non_2xx = _NON_2XX.search(output)
    sockets = _SOCKET.search(output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return {
        "requests_per_s": round(float(rate.group(1))),
        "requests": int(total.group(1)),
        "p50_ms": latency.get("50"),
        "p99_ms": latency.get("99"),
        "errors": errors,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_listening(port: int, proc: subprocess.Popen[str]) -> None:
    """Connect until the server accepts (a readiness probe), or fail if it exited."""
    while proc.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.05)
    raise VodpipeError(f"the server under test exited ({proc.returncode})")


@contextlib.contextmanager
def _running(args: Sequence[str], port: int, env: dict[str, str] | None = None) -> Iterator[None]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        _wait_listening(port, proc)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _wrk(url: str, seconds: int, connections: int, threads: int) -> dict[str, Any]:
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    return parse_wrk(done.stdout)


def objects(settings: Settings, title: str) -> dict[str, str]:
    """The keys loaded per kind: the largest media segment, the master playlist, the MPD."""
    store = make_store(settings)
    version = latest_version(store, title)
    root = f"media/{title}/{version}"
    segments = [k for k in store.list(f"{root}/") if k.endswith(".m4s")]
    if not segments:
        raise VodpipeError(f"{title} {version} has no .m4s segments")
    segment = max(segments, key=lambda k: store.stat(k).size)
    return {"segment": segment, "master.m3u8": f"{root}/master.m3u8", "manifest.mpd": f"{root}/manifest.mpd"}


def bench_origin(
    settings: Settings, title: str, seconds: int, connections: int, threads: int, workers: Sequence[int]
) -> dict[str, Any]:
    if settings.store != "local":
        raise ConfigError("bench origin serves the local data folder: unset VODPIPE_STORE")
    keys = objects(settings, title)
    data_dir = settings.data_dir.resolve()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="vodpipe-bench-origin-", dir=settings.scratch_dir) as tmp:
        for count in workers:
            sides: dict[str, dict[str, Any]] = {}
            port = _free_port()
            env = {**os.environ, "VODPIPE_DATA_DIR": str(data_dir)}
            serve = [
                sys.executable,
                "-m",
                "pipeline.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            with _running([*serve, "--workers", str(count)], port, env):
                sides["vodpipe"] = {
                    kind: _wrk(f"http://127.0.0.1:{port}/{key}", seconds, connections, threads)
                    for kind, key in keys.items()
                }
            prefix = Path(tmp) / f"nginx-{count}"
            prefix.mkdir()
            port = _free_port()
            conf = prefix / "nginx.conf"
            conf.write_text(nginx_config(data_dir, prefix, port, count))
            with _running(["nginx", "-c", str(conf), "-p", str(prefix)], port):
                sides["nginx"] = {
                    kind: _wrk(f"http://127.0.0.1:{port}/{key}", seconds, connections, threads)
                    for kind, key in keys.items()
                }
            results[f"workers_{count}"] = {
                kind: {
                    "vodpipe": sides["vodpipe"][kind],
                    "nginx": sides["nginx"][kind],
                    "ratio_rps_vodpipe_over_nginx": round(
                        sides["vodpipe"][kind]["requests_per_s"]
                        / max(1, sides["nginx"][kind]["requests_per_s"]),
                        3,
                    ),
                }
                for kind in keys
            }
    return {
        "benchmark": "origin",
        "title": title,
        "objects": keys,
        "load": {"tool": "wrk", "seconds": seconds, "connections": connections, "threads": threads},
        "cpu_count": os.cpu_count(),
        "results": results,
    }
