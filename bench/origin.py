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
from pipeline.serving import BACKLOG
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
    """A static nginx serving ``data_dir/media`` at ``/media/`` on ``127.0.0.1:port``, with the
    same listen backlog as ``vodpipe serve`` (nginx's own default, 511, drops connections at -c1000)."""
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
        listen 127.0.0.1:{port} reuseport backlog={BACKLOG};
        location /media/ {{ root {data_dir}; }}
    }}
}}
"""


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/s, p50/p99 in ms, and errors of ``wrk --latency``: non-2xx/3xx answers and socket
    errors in all, and by kind (a ``timeout`` is a request slower than ``--timeout``, not a failure
    of the server: at 1,000 connections a segment's latency is bounded by the link's bandwidth)."""
    rate = _RATE.search(output)
    total = _TOTAL.search(output)
    if rate is None or total is None:
        raise VodpipeError(f"wrk printed no result: {output.strip()[-300:]}")
    latency = {p: round(float(v) * _UNITS[u], 3) for p, v, u in _LATENCY.findall(output)}
    non_2xx = _NON_2XX.search(output)
    sockets = _SOCKET.search(output)
    counts = tuple(map(int, sockets.groups())) if sockets else (0, 0, 0, 0)
    kinds = dict(zip(("connect", "read", "write", "timeout"), counts, strict=True))
    kinds["non_2xx_3xx"] = int(non_2xx.group(1)) if non_2xx else 0
    return {
        "requests_per_s": round(float(rate.group(1))),
        "requests": int(total.group(1)),
        "p50_ms": latency.get("50"),
        "p99_ms": latency.get("99"),
        "errors": sum(kinds.values()),
        "error_kinds": {kind: n for kind, n in kinds.items() if n},
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
def _running(args: Sequence[str], port: int, env: dict[str, str] | None = None) -> Iterator[int]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        _wait_listening(port, proc)
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _wrk(url: str, seconds: int, connections: int, threads: int, timeout: int) -> dict[str, Any]:
    args = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={timeout}s",
        "--latency",
        url,
    ]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    return parse_wrk(done.stdout)


def stat_cpu_ticks(stat: str) -> tuple[int, int]:
    """(parent pid, user + system clock ticks) from the text of ``/proc/PID/stat`` (proc(5):
    fields 4, 14 and 15; the command name, field 2, may hold spaces and parentheses)."""
    fields = stat.rpartition(")")[2].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def cpu_seconds(root: int) -> float:
    """CPU time used so far by process ``root`` and its live descendants (a supervisor and its
    workers, an nginx master and its workers). On a shared machine this is steadier than
    requests/s: waiting for a core costs time, not CPU."""
    procs: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):  # a process that exited meanwhile
                procs[int(entry.name)] = stat_cpu_ticks((entry / "stat").read_text())
    tree, ticks = {root}, 0
    for pid in sorted(procs):  # children have larger pids than their parent, short of pid wrap
        parent, used = procs[pid]
        if pid == root or parent in tree:
            tree.add(pid)
            ticks += used
    return ticks / os.sysconf("SC_CLK_TCK")


def compare(vodpipe: dict[str, Any], nginx: dict[str, Any]) -> dict[str, Any]:
    """One object kind at one load: both sides and vodpipe's requests/s over nginx's."""
    ratio = vodpipe["requests_per_s"] / max(1, nginx["requests_per_s"])
    result = {"vodpipe": vodpipe, "nginx": nginx, "ratio_rps_vodpipe_over_nginx": round(ratio, 3)}
    if vodpipe.get("cpu_us_per_request") and nginx.get("cpu_us_per_request"):
        # nginx's CPU per request over ours: a ratio like the one of rates, robust to a busy machine
        cpu = nginx["cpu_us_per_request"] / vodpipe["cpu_us_per_request"]
        result["ratio_cpu_nginx_over_vodpipe"] = round(cpu, 3)
    return result


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


def _load_side(
    pid: int, port: int, keys: dict[str, str], seconds: int, loads: Sequence[int], threads: int, timeout: int
) -> dict[int, dict[str, dict[str, Any]]]:
    """wrk on each object kind of one running server, at each connection count, with the
    server's CPU time per request."""
    results: dict[int, dict[str, dict[str, Any]]] = {}
    for connections in loads:
        for kind, key in keys.items():
            before = cpu_seconds(pid)
            result = _wrk(f"http://127.0.0.1:{port}/{key}", seconds, connections, threads, timeout)
            used = cpu_seconds(pid) - before
            result["cpu_us_per_request"] = round(used * 1e6 / max(1, result["requests"]), 1)
            results.setdefault(connections, {})[kind] = result
    return results


def bench_origin(
    settings: Settings,
    title: str,
    seconds: int,
    connections: int,
    threads: int,
    workers: Sequence[int],
    peak_connections: int = 0,
    timeout: int = 30,
) -> dict[str, Any]:
    """Both servers at ``connections`` per kind, then (unless 0) at ``peak_connections``, where
    what matters is that no request fails (wrk counts a request over ``timeout`` as an error)."""
    if settings.store != "local":
        raise ConfigError("bench origin serves the local data folder: unset VODPIPE_STORE")
    keys = objects(settings, title)
    data_dir = settings.data_dir.resolve()
    loads = [connections, peak_connections] if peak_connections else [connections]
    results: dict[str, Any] = {}
    peak: dict[str, Any] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="vodpipe-bench-origin-", dir=settings.scratch_dir) as tmp:
        for count in workers:
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
            with _running([*serve, "--workers", str(count)], port, env) as pid:
                ours = _load_side(pid, port, keys, seconds, loads, threads, timeout)
            prefix = Path(tmp) / f"nginx-{count}"
            prefix.mkdir()
            port = _free_port()
            conf = prefix / "nginx.conf"
            conf.write_text(nginx_config(data_dir, prefix, port, count))
            with _running(["nginx", "-c", str(conf), "-p", str(prefix)], port) as pid:
                theirs = _load_side(pid, port, keys, seconds, loads, threads, timeout)
            results[f"workers_{count}"] = {
                kind: compare(ours[connections][kind], theirs[connections][kind]) for kind in keys
            }
            if peak_connections:
                peak[f"workers_{count}"] = {
                    kind: compare(ours[peak_connections][kind], theirs[peak_connections][kind])
                    for kind in keys
                }
    report: dict[str, Any] = {
        "benchmark": "origin",
        "title": title,
        "objects": keys,
        "load": {
            "tool": "wrk",
            "seconds": seconds,
            "connections": connections,
            "threads": threads,
            "timeout_s": timeout,
        },
        "cpu_count": os.cpu_count(),
        # The machine's load average (1, 5, 15 min) before and after: a shared machine skews
        # both sides, which is why only ratios from one run are compared.
        "loadavg": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        },
        "results": results,
    }
    if peak_connections:
        report["peak"] = {"connections": peak_connections, "results": peak}
    return report
