"""/metrics and the access log over real HTTP, after a known mix of requests."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import select
import stat
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from origin import access_log
from origin.access_log import AccessLog, timestamp
from origin.app import make_app
from origin.cache_policy import CachePolicy
from origin.disk_cache import DiskCache
from origin.media import SOURCE_KEY
from origin.metrics import LATENCY_BUCKETS, OriginMetrics, metrics_folder
from origin.observe import Observer, OriginAccessLogger, kind_of
from storage.local import LocalStore
from tests.origin.served import PATHS, ServedApp
from vodpipe.errors import StoreUnavailableError

if TYPE_CHECKING:
    from pathlib import Path

    from aiohttp import web
    from aiohttp.test_utils import TestClient

PLAYLIST = b"#EXTM3U\n#EXT-X-VERSION:7\n" + b"#EXTINF:4.000000,\nseg.m4s\n" * 50
SEGMENT = bytes(range(256)) * 400  # 102,400 bytes: above the held size, so sent with sendfile
BASE = "/media/demo/v1"
LES = [*(str(b) for b in LATENCY_BUCKETS), "+Inf"]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class GatedStore(LocalStore):
    """A local store whose ``stat`` can be held shut (to make requests wait on one load) or fail."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.gate = threading.Event()
        self.gate.set()
        self.down = False

    def stat(self, key: str) -> Any:
        self.gate.wait()
        if self.down:
            raise StoreUnavailableError("store endpoint refused the connection")
        return super().stat(key)


@pytest.fixture
def store(tmp_path: Path) -> GatedStore:
    s = GatedStore(tmp_path / "data")
    s.put_bytes(f"{BASE[1:]}/master.m3u8", PLAYLIST)
    s.put_bytes(f"{BASE[1:]}/video/720p/seg-00001.m4s", SEGMENT)
    s.put_bytes(f"{BASE[1:]}/video/720p/seg-00002.m4s", SEGMENT)
    return s


async def observed(aiohttp_client: Any, app: web.Application, path: str = "aiohttp") -> TestClient[Any, Any]:
    # As `vodpipe serve` runs it: the access-logger hook sees every response once it is sent.
    # (TestServer takes runner arguments in start_server only, not in its constructor.)
    server = TestServer(app) if path == "aiohttp" else ServedApp(app)
    await server.start_server(access_log_class=OriginAccessLogger)
    client: TestClient[Any, Any] = await aiohttp_client(server)
    return client


def samples(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(client: TestClient[Any, Any], **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert response.headers["Cache-Control"] == "no-store"
    return samples(await response.text())


def count(found: Samples, name: str, **labels: str) -> float:
    return found.get((f"vodpipe_origin_{name}", tuple(sorted(labels.items()))), 0.0)


@pytest.mark.parametrize("path", PATHS)
async def test_metrics_count_a_known_request_mix(store: GatedStore, aiohttp_client: Any, path: str) -> None:
    app = make_app(store, CachePolicy(), observer=Observer(OriginMetrics()))
    client = await observed(aiohttp_client, app, path)
    sent: dict[str, int] = {"manifest": 0, "segment": 0, "other": 0}
    etag = ""
    for _ in range(3):
        response = await client.get(f"{BASE}/master.m3u8", headers={"Accept-Encoding": "br"})
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "br"  # bytes sent: the compressed body
        etag = response.headers["ETag"]
        sent["manifest"] += int(response.headers["Content-Length"])
        assert await response.read() == PLAYLIST
    for spec in ("bytes=0-999", "bytes=1000-50999"):
        response = await client.get(f"{BASE}/video/720p/seg-00001.m4s", headers={"Range": spec})
        assert response.status == 206
        sent["segment"] += len(await response.read())
    assert sent["segment"] == 1000 + 50000
    response = await client.get(
        f"{BASE}/master.m3u8", headers={"If-None-Match": etag, "Accept-Encoding": "br"}
    )
    assert response.status == 304
    for path, kind in ((f"{BASE}/video/720p/seg-09999.m4s", "segment"), (f"{BASE}/notes.txt", "other")):
        response = await client.get(path)
        assert response.status == 404
        sent[kind] += len(await response.read())

    found = await scrape(client)
    requests = {
        (dict(labels)["status"], dict(labels)["kind"]): value
        for (name, labels), value in found.items()
        if name == "vodpipe_origin_requests_total" and dict(labels)["kind"] != "metrics"
    }
    assert requests == {
        ("200", "manifest"): 3,
        ("206", "segment"): 2,
        ("304", "manifest"): 1,
        ("404", "segment"): 1,
        ("404", "other"): 1,
    }
    for kind, total in sent.items():
        assert count(found, "response_bytes_total", kind=kind) == total
    assert count(found, "request_duration_seconds_count", kind="manifest") == 4
    assert count(found, "request_duration_seconds_count", kind="segment") == 3
    assert count(found, "request_duration_seconds_bucket", kind="segment", le="+Inf") == 3
    buckets = [count(found, "request_duration_seconds_bucket", kind="manifest", le=le) for le in LES]
    assert buckets == sorted(buckets)  # cumulative, as the exposition format has them
    assert buckets[-1] == 4
    assert 0 < count(found, "request_duration_seconds_sum", kind="manifest") < 4 * 5.0
    # Memory: the manifest and segment missed once each (and the absent segment), then hit.
    assert count(found, "cache_lookups_total", tier="hot", result="hit") == 4
    assert count(found, "cache_lookups_total", tier="hot", result="miss") == 3
    assert count(found, "cache_lookups_total", tier="disk", result="hit") == 0  # a local store: no disk tier
    assert count(found, "store_errors_total") == 0

    # The scrape itself is counted once it is sent: the next scrape shows it.
    again = await scrape(client)
    assert count(again, "requests_total", status="200", kind="metrics") == 1


async def test_coalesced_waits_and_store_outages_are_counted(store: GatedStore, aiohttp_client: Any) -> None:
    app = make_app(store, CachePolicy(), observer=Observer(OriginMetrics()))
    client = await observed(aiohttp_client, app)
    loads = app[SOURCE_KEY].loads
    store.gate.clear()  # the first load blocks in the store until every request has joined it
    waiting = [
        asyncio.ensure_future(client.get(f"{BASE}/video/720p/seg-00001.m4s", headers={"Range": "bytes=0-9"}))
        for _ in range(5)
    ]
    while loads.coalesced < 4:  # a handshake with the coalescer, not a timed wait
        await asyncio.sleep(0)
    store.gate.set()
    assert [r.status for r in await asyncio.gather(*waiting)] == [206] * 5

    store.down = True
    response = await client.get(f"{BASE}/video/720p/seg-00002.m4s")
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"

    found = await scrape(client)
    assert count(found, "coalesced_waits_total") == 4
    assert count(found, "store_errors_total") == 1
    assert count(found, "requests_total", status="503", kind="segment") == 1
    assert count(found, "cache_lookups_total", tier="hot", result="miss") == 6


async def test_metrics_token_is_required_when_set(store: GatedStore, aiohttp_client: Any) -> None:
    token = "m" * 40
    app = make_app(store, CachePolicy(), observer=Observer(OriginMetrics(), metrics_token=token.encode()))
    client = await observed(aiohttp_client, app)
    bare = await client.get("/metrics")
    assert bare.status == 401
    assert bare.headers["WWW-Authenticate"] == 'Bearer realm="vodpipe"'
    assert bare.headers["Content-Type"] == "application/problem+json"
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
    assert wrong.status == 401
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    found = await scrape(client, Authorization=f"Bearer {token}")
    assert count(found, "requests_total", status="401", kind="metrics") == 2


async def test_metrics_off_has_no_route(store: GatedStore, aiohttp_client: Any) -> None:
    client = await observed(aiohttp_client, make_app(store, CachePolicy(), observer=Observer()))
    assert (await client.get("/metrics")).status == 404
    assert (await client.get(f"{BASE}/master.m3u8")).status == 200


@pytest.mark.parametrize("served", PATHS)
async def test_access_log_lines_are_json_with_cmcd(
    store: GatedStore, aiohttp_client: Any, tmp_path: Path, served: str
) -> None:
    path = tmp_path / "access.log"
    app = make_app(store, CachePolicy(), observer=Observer(access_log=AccessLog(str(path))))
    client = await observed(aiohttp_client, app, served)
    sid = "6e2fb550-c457-11e9-bb97-0800200c9a66"
    cmcd = f'bl=21300,br=3200,mtp=25400,ot=v,sf=h,sid="{sid}",st=v,su,d=4004,rtp=15000'
    response = await client.get(
        f"{BASE}/video/720p/seg-00001.m4s",
        params={"CMCD": cmcd, "sig": "secret-signature"},
        headers={"Range": "bytes=0-99", "User-Agent": "test-player/1.0"},
    )
    assert response.status == 206
    headers = {"CMCD-Session": f'sid="{sid}",cid="demo"', "CMCD-Request": "bl=8000,nor=\"seg-00002.m4s\""}
    assert (await client.get(f"{BASE}/master.m3u8", headers=headers)).status == 200
    assert (await client.get(f"{BASE}/master.m3u8", params={"CMCD": "bl=oops"})).status == 200
    await client.close()  # the app's cleanup flushes the log

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 3
    segment, manifest, malformed = lines
    assert segment["method"] == "GET"
    assert segment["path"] == f"{BASE}/video/720p/seg-00001.m4s"  # no query: no signature logged
    assert "secret-signature" not in path.read_text()
    assert segment["status"] == 206
    assert segment["bytes"] == 100
    assert segment["kind"] == "segment"
    assert segment["cache"] == "miss"
    assert segment["range"] == "bytes=0-99"
    assert segment["ua"] == "test-player/1.0"
    assert segment["client"] == "127.0.0.1"
    assert segment["ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", segment["time"])  # RFC 3339, UTC
    assert segment["cmcd"] == {
        "sid": sid, "bl": 21300, "mtp": 25400, "br": 3200, "d": 4004, "ot": "v",
        "sf": "h", "st": "v", "su": True, "rtp": 15000,
    }  # fmt: skip
    assert manifest["cmcd"] == {"sid": sid, "cid": "demo", "bl": 8000, "nor": "seg-00002.m4s"}
    assert manifest["cache"] == "miss"
    assert malformed["status"] == 200  # a player's bad CMCD never fails its request
    assert malformed["cache"] == "hot"
    assert "cmcd" not in malformed
    assert "'bl'" in malformed["cmcd_invalid"]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/media/t/v1/master.m3u8", "manifest"),
        ("/media/t/v1/video/720p/playlist.m3u8", "manifest"),
        ("/media/t/v1/manifest.mpd", "manifest"),
        ("/media/t/v1/video/720p/init.mp4", "init"),
        ("/media/t/v1/audio/en/init.mp4", "init"),
        ("/media/t/v1/video/720p/seg-00001.m4s", "segment"),
        ("/media/t/v1/ts/seg-00001.ts", "segment"),
        ("/media/t/v1/notes.txt", "other"),
        ("/play/demo", "player"),
        ("/license/clearkey", "license"),
        ("/healthz", "health"),
        ("/metrics", "metrics"),
        ("/", "other"),
    ],
)
def test_kind_labels(path: str, kind: str) -> None:
    assert kind_of(path) == kind


async def test_latencies_fall_in_the_buckets_prometheus_would_put_them_in() -> None:
    metrics = OriginMetrics()
    for seconds in (0.0005, 0.003, 0.003, 7.0):  # on a bound (le includes it), between, past 5 s
        metrics.record(200, "segment", 10, seconds, None)
    found = samples(metrics.exposition().decode())
    cumulative = {le: count(found, "request_duration_seconds_bucket", kind="segment", le=le) for le in LES}
    assert cumulative["0.0005"] == 1
    assert cumulative["0.0025"] == 1
    assert cumulative["0.005"] == 3
    assert cumulative["5.0"] == 3
    assert cumulative["+Inf"] == 4
    assert count(found, "request_duration_seconds_sum", kind="segment") == pytest.approx(7.0065)
    assert count(found, "response_bytes_total", kind="segment") == 40


def test_access_log_timestamps_are_rfc3339_utc_with_milliseconds() -> None:
    assert timestamp(0.5) == "1970-01-01T00:00:00.500Z"
    assert timestamp(86399.9994) == "1970-01-01T23:59:59.999Z"
    assert timestamp(1_795_629_233.042) == "2026-11-25T17:53:53.042Z"


def test_access_log_writes_whole_lines_within_pipe_buf(monkeypatch: pytest.MonkeyPatch) -> None:
    # Workers share one file or pipe: every write must be whole lines, at most PIPE_BUF bytes.
    writes: list[bytes] = []
    monkeypatch.setattr(access_log.os, "write", lambda fd, data: writes.append(bytes(data)) or len(data))
    writer = access_log._Writer(99)
    lines = [f'{{"n":{i},"pad":"{"x" * (i % 300)}"}}' for i in range(200)]
    for line in lines:
        writer.emit(logging.LogRecord("vodpipe.access", logging.INFO, __file__, 0, line, None, None))
    writer.flush()
    assert len(writes) > 1
    assert all(w.endswith(b"\n") and len(w) <= select.PIPE_BUF for w in writes)
    assert b"".join(writes).decode().splitlines() == lines


class RemoteLikeStore(GatedStore):
    """A store with no local files, as S3: the origin copies its objects into the disk cache."""

    def local_path(self, key: str) -> Path | None:
        return None


async def test_disk_cache_hits_and_misses_are_counted_and_logged(tmp_path: Path, aiohttp_client: Any) -> None:
    store = RemoteLikeStore(tmp_path / "data")
    store.put_bytes(f"{BASE[1:]}/master.m3u8", PLAYLIST)
    path = tmp_path / "access.log"
    observer = Observer(OriginMetrics(disk_cache=True), AccessLog(str(path)))
    disk = DiskCache(tmp_path / "disk", 1 << 20)
    app = make_app(store, CachePolicy(), hot_bytes=0, disk=disk, observer=observer)  # nothing held in memory
    client = await observed(aiohttp_client, app)
    for _ in range(2):
        assert (await client.get(f"{BASE}/master.m3u8")).status == 200
    store.down = True  # the disk copy is still served (stale-if-error), the store never asked
    assert (await client.get(f"{BASE}/master.m3u8")).status == 200
    found = await scrape(client)
    assert count(found, "cache_lookups_total", tier="hot", result="miss") == 3
    assert count(found, "cache_lookups_total", tier="disk", result="miss") == 1
    assert count(found, "cache_lookups_total", tier="disk", result="hit") == 2
    assert count(found, "store_errors_total") == 0
    await client.close()
    caches = [json.loads(line)["cache"] for line in path.read_text().splitlines()]
    assert caches == ["miss", "disk", "disk", None]  # the last line: the scrape


def test_a_supervisor_sweeps_the_metrics_folders_of_supervisors_that_are_gone(tmp_path: Path) -> None:
    """A SIGKILLed supervisor never removes its folder; the next one removes it, and only it."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its pid no longer runs
    stale = tmp_path / f"vodpipe-metrics-{gone.pid}-abc"
    stale.mkdir()
    (stale / "counter_1.db").write_bytes(b"x")
    alive = tmp_path / f"vodpipe-metrics-{os.getppid()}-def"  # a supervisor still running
    alive.mkdir()
    other = tmp_path / "vodpipe-metrics-notapid-ghi"
    other.mkdir()
    fresh = metrics_folder(tmp_path)
    assert fresh.name.startswith(f"vodpipe-metrics-{os.getpid()}-")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    assert {p.name for p in tmp_path.iterdir()} == {fresh.name, alive.name, other.name}
