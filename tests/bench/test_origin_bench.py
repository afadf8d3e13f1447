"""The origin benchmark's pure parts: the nginx configuration and wrk's output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.origin import compare, cpu_seconds, nginx_config, parse_wrk, stat_cpu_ticks
from vodpipe.errors import VodpipeError

WRK = """Running 5s test @ http://127.0.0.1:8080/media/demo/v1/master.m3u8
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02ms  310.12us   9.87ms   91.20%
    Req/Sec    31.50k     2.10k   35.01k    70.00%
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    1.40ms
     99%    2.51ms
  313402 requests in 5.00s, 402.55MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:  62680.41
Transfer/sec:     80.50MB
"""


def test_wrk_output_is_read_into_rates_latencies_and_errors() -> None:
    assert parse_wrk(WRK) == {
        "requests_per_s": 62680,
        "requests": 313402,
        "p50_ms": 0.812,
        "p99_ms": 2.51,
        "errors": 12,
        "error_kinds": {"non_2xx_3xx": 7, "read": 3, "timeout": 2},
    }


def test_latencies_in_seconds_and_a_clean_run() -> None:
    clean = WRK.replace("  Socket errors: connect 0, read 3, write 0, timeout 2\n", "").replace(
        "  Non-2xx or 3xx responses: 7\n", ""
    )
    result = parse_wrk(clean.replace("99%    2.51ms", "99%    1.20s"))
    assert (result["p99_ms"], result["errors"], result["error_kinds"]) == (1200.0, 0, {})


def test_wrk_that_printed_no_result_is_an_error() -> None:
    with pytest.raises(VodpipeError, match="wrk printed no result: unable to connect"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_the_nginx_config_serves_media_from_the_data_folder_with_n_workers() -> None:
    conf = nginx_config(Path("/srv/data"), Path("/tmp/n"), 18080, 2)
    assert "worker_processes 2;" in conf
    assert "listen 127.0.0.1:18080 reuseport backlog=4096;" in conf
    assert "location /media/ { root /srv/data; }" in conf
    assert "application/vnd.apple.mpegurl m3u8;" in conf
    assert "application/dash+xml mpd;" in conf
    assert "video/iso.segment m4s;" in conf
    assert "daemon off;" in conf
    assert "pid /tmp/n/nginx.pid;" in conf
    assert conf.count("{") == conf.count("}")


def test_a_comparison_is_the_ratio_of_request_rates() -> None:
    ours, theirs = parse_wrk(WRK), parse_wrk(WRK.replace("62680.41", "125360.82"))
    assert compare(ours, theirs) == {"vodpipe": ours, "nginx": theirs, "ratio_rps_vodpipe_over_nginx": 0.5}
    costed = compare({**ours, "cpu_us_per_request": 120.0}, {**theirs, "cpu_us_per_request": 30.0})
    assert costed["ratio_cpu_nginx_over_vodpipe"] == 0.25
    stalled = {**theirs, "requests_per_s": 0}
    assert compare(ours, stalled)["ratio_rps_vodpipe_over_nginx"] == 62680.0  # never a division by zero


def test_a_stat_line_gives_the_parent_and_the_cpu_ticks() -> None:
    """proc(5): the name (field 2) may hold spaces and parentheses; ppid is field 4,
    utime and stime fields 14 and 15."""
    line = "4242 (nginx: worker (x) ) S 4241 4241 4241 0 -1 4194560 1 0 0 0 120 35 0 0 20 0 1 0\n"
    assert stat_cpu_ticks(line) == (4241, 155)


BURN = (
    "x = 0\n"
    "for i in range(4 * 10**6): x += i\n"
    "import os, sys\n"
    "t = os.times()\n"
    "print(t.user + t.system, flush=True)\n"
    "sys.stdin.read()\n"
)
PARENT = (
    "import subprocess, sys\n"
    f"g = subprocess.Popen([sys.executable, '-c', {BURN!r}], stdout=subprocess.PIPE, text=True)\n"
    "print(g.stdout.readline(), end='', flush=True)\n"
    "sys.stdin.read()\n"
    "g.wait()\n"
)


def test_cpu_seconds_count_the_live_descendants() -> None:
    """A supervisor that does nothing and a worker that burns CPU: the worker's time is counted."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    assert parent.stdin is not None
    try:
        burned = float(parent.stdout.readline())  # the worker's own account, then it waits
        measured = cpu_seconds(parent.pid)
    finally:
        parent.stdin.close()
        parent.wait(timeout=30)
        parent.stdout.close()
    assert burned > 0
    assert burned <= measured < burned + 1.0  # plus the idle supervisor's start-up
