"""The whole distributed topology, every piece a real process: redis-server, a moto S3 server,
two ``vodpipe worker``s, ``vodpipe api`` and ``vodpipe serve``, sharing ``VODPIPE_STORE=s3`` and
one broker through their environment. A master goes up through tus with an interruption and a
resume, is encoded in chunks on both workers (one SIGKILLed mid-encode in the second test), and
every rendition is fetched from the origin reading S3 and decoded."""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import m3u8
import pytest

from tests.conftest import vodpipe_env
from tests.integration.test_distributed import FRAMES, audio_samples, chunk_tasks
from tests.integration.test_end_to_end import load_rendition
from tests.integration.test_upload_api import KEY, run_interrupted_upload
from tests.processes import Server, fetch, run_cli
from tests.services import LoggedProcess, TcpProxy, start_worker

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from storage.s3 import S3Store
    from tests.conftest import MakeMaster
    from tests.s3_server import S3Server

pytestmark = pytest.mark.integration

_databases = itertools.count(1)


@dataclass
class Topology:
    env: dict[str, str]
    store: S3Store
    workers: dict[str, LoggedProcess]
    origin: str  # http://127.0.0.1:PORT of `vodpipe serve` over the bucket
    s3_endpoint: TcpProxy  # every process reaches S3 through it: stop() is a storage outage
    servers: list[Server]  # the origin, then the API (each test starts its own)


@pytest.fixture
def topology(
    redis_url: str, s3_server: S3Server, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Topology]:
    """The workers (one task, one FFmpeg thread each) and the origin over a bucket of their own."""
    store = s3_server.new_store()
    endpoint = TcpProxy(s3_server.port)
    endpoint.start()
    env = (
        vodpipe_env(tmp_path)
        | s3_server.env(store.bucket)
        | {
            "VODPIPE_S3_ENDPOINT_URL": f"http://127.0.0.1:{endpoint.port}",
            "VODPIPE_S3_MAX_ATTEMPTS": "2",  # an outage reaches the tasks' own retries quickly
            "VODPIPE_BROKER_URL": f"{redis_url.rsplit('/', 1)[0]}/{next(_databases)}",
            "VODPIPE_ENCODE_WORKERS": "2",
            "VODPIPE_CHUNK_SECONDS": "4",  # three chunks of the 12 s master
            "VODPIPE_FFMPEG_THREADS": "1",
            "VODPIPE_VISIBILITY_TIMEOUT": "15",  # a dead worker's task comes back after 15 s
            "VODPIPE_API_KEYS": f"studio:{KEY}",
        }
    )
    workers: dict[str, LoggedProcess] = {}
    servers: list[Server] = []
    try:
        for name in ("w1", "w2"):
            workers[name] = start_worker(name, env, tmp_path)
        origin_server = Server(["serve", "--port", "0"], env)
        servers.append(origin_server)
        line = origin_server.wait_for("origin: ")
        assert line.startswith(f"serving s3://{store.bucket}/media at "), line
        origin = line.split(" at ")[1].removesuffix("/media/")
        env["VODPIPE_PUBLIC_URL"] = origin  # the API's playback URLs point at this origin
        yield Topology(env, store, workers, origin, endpoint, servers)
    finally:
        for server in servers:  # the origin, and the API once the test has started it
            server.stop()  # a process that already died is only drained (its stderr kept)
        for worker in workers.values():
            worker.stop()
        endpoint.stop()
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            for worker in workers.values():
                print(f"--- {worker.log} (kept) ---\n{worker.log.read_text()[-4000:]}")
            for server in servers:
                output = "\n".join(server.lines[-20:]) + "\n" + server.stderr[-4000:]
                print(f"--- vodpipe {' '.join(map(str, server.proc.args[3:]))} ---\n{output}")
            print(f"--- S3 server log: {s3_server.log}")


def upload_with_a_resume(top: Topology, master: Path, tmp_path: Path, title: str) -> str:
    """Upload through tus: part-way, the API restarted, the client stopped, then resumed."""
    api_server, api, _ = run_interrupted_upload(top.env, master, tmp_path, title)
    top.servers.append(api_server)
    done = run_cli("upload", str(master), "--api", api, "--chunk-size", str(1 << 20), env=top.env)
    assert done.returncode == 0, done.stderr
    assert "resuming " in done.stderr
    assert done.stdout.strip() == title
    return api


def wait_published(top: Topology, api: str, title: str) -> dict[str, Any]:
    watched = run_cli("status", title, "--watch", "--api", api, "--interval", "0.5", env=top.env, timeout=300)
    assert watched.stdout.splitlines()[-1:] == ["status: published"], watched.stdout[-2000:] + watched.stderr
    reply = fetch(f"{api}/v1/titles/{title}", {"Authorization": f"Bearer {KEY}"})
    view: dict[str, Any] = json.loads(reply.body)
    assert view["status"] == "published"
    return view


def assert_served_whole(top: Topology, view: dict[str, Any], title: str) -> None:
    """Every rendition from the origin over S3 decodes whole; the checker passes both manifests;
    the bucket holds one version, no intermediates, no leftover upload."""
    hls, dash = view["playback"]["hls"], view["playback"]["dash"]
    version = view["published_version"]
    assert hls == f"{top.origin}/media/{title}/{version}/master.m3u8"
    master = m3u8.loads(fetch(hls).body.decode(), uri=hls)
    base = hls.rsplit("/", 1)[0]
    videos = sorted(f"{base}/{p.uri}" for p in master.playlists)
    assert len(videos) == 2  # 360p and 240p: the ladder is not scaled above the 640x360 master
    for url in videos:
        assert load_rendition(url).decoded.frames == FRAMES
    audio_uris = {f"{base}/{m.uri}" for m in master.media if m.type == "AUDIO"}
    assert len(audio_uris) == 1
    audio = load_rendition(audio_uris.pop())
    samples, contiguous = audio_samples(audio.init + b"".join(audio.segments))
    assert contiguous
    # the master's 576,000 samples, give or take the AAC encoder's priming and last-frame padding
    assert 12 * 48_000 <= samples <= 12 * 48_000 + 2 * 1024

    for url in (hls, dash):
        checked = run_cli("check", url, "--json", env=top.env)
        assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr

    assert list(top.store.list(f"work/{title}/")) == []  # every chunk and joined rung cleaned up
    assert list(top.store.list("uploads/")) == []
    media = list(top.store.list(f"media/{title}/"))
    assert {key.split("/")[2] for key in media} == {version}  # one version, published once
    segments: dict[str, list[str]] = {}
    for key in media:
        if match := re.fullmatch(rf"media/{title}/{version}/(.+)/seg-(\d+)\.m4s", key):
            segments.setdefault(match.group(1), []).append(match.group(2))
    assert len(segments) == 3  # two video rungs and the audio track
    for rendition, numbers in segments.items():
        # numbered 1..n with no gap and no duplicate: three 4 s segments of the 12 s master
        assert sorted(int(n) for n in numbers) == [1, 2, 3], (rendition, numbers)


@pytest.fixture
def master(make_master: MakeMaster) -> Path:
    return make_master("distributed-12s.mp4", seconds=12, size="640x360")


def test_an_uploaded_title_is_encoded_across_workers_and_served_from_s3(
    topology: Topology, master: Path, tmp_path: Path
) -> None:
    api = upload_with_a_resume(topology, master, tmp_path, "everywhere")
    view = wait_published(topology, api, "everywhere")
    per_worker = {name: chunk_tasks(w.log.read_text()) for name, w in topology.workers.items()}
    assert all(per_worker.values()), per_worker  # both workers encoded chunks
    assert sum(len(ids) for ids in per_worker.values()) == 3
    assert_served_whole(topology, view, "everywhere")


def test_a_worker_killed_mid_encode_still_publishes_every_frame(
    topology: Topology, master: Path, tmp_path: Path
) -> None:
    api = upload_with_a_resume(topology, master, tmp_path, "survivor")
    victim, survivor = topology.workers["w1"], topology.workers["w2"]
    killed = victim.wait_for(r"Task vodpipe\.encode_chunk\[([0-9a-f-]+)\] received").group(1)
    victim.wait_for(r"encode survivor ")  # its FFmpeg is running and has reported progress
    victim.kill()  # SIGKILL to the worker, its pool process and FFmpeg
    view = wait_published(topology, api, "survivor")
    # Redis gave the unacknowledged chunk to the other worker, which encoded it again
    assert killed in chunk_tasks(survivor.log.read_text())
    assert_served_whole(topology, view, "survivor")


def wait_for_logs(top: Topology, pattern: str, timeout: float = 120) -> str:
    """The first group of ``pattern`` in any worker's log, polled briefly until ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in top.workers.values():
            if match := re.search(pattern, worker.log.read_text()):
                return match.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no worker logged {pattern!r} in {timeout} s")


def test_a_storage_outage_mid_job_is_retried_and_the_title_publishes(
    topology: Topology, master: Path, tmp_path: Path
) -> None:
    api = upload_with_a_resume(topology, master, tmp_path, "weathered")
    topology.workers["w1"].wait_for(r"Task vodpipe\.encode_chunk\[[0-9a-f-]+\] received")
    topology.s3_endpoint.stop()  # S3 refuses every connection until a task has been retried
    try:
        retried = wait_for_logs(topology, r"Task (vodpipe\.\w+\[[0-9a-f-]+\]) retry: .*S3 store unreachable")
    finally:
        topology.s3_endpoint.start()
    view = wait_published(topology, api, "weathered")
    logs = "".join(w.log.read_text() for w in topology.workers.values())
    assert f"Task {retried} succeeded" in logs  # the task the outage failed ran again, and did its part
    assert_served_whole(topology, view, "weathered")
