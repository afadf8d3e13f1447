"""The pipeline on a real Redis with two real ``vodpipe worker`` processes, on the local store."""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import pytest

from ingest.catalog import Catalog
from ingest.service import ingest_master
from ingest.validate import MasterLimits
from pipeline.celery_app import make_celery
from pipeline.settings import Settings
from player_test.media import decode
from storage.local import LocalStore
from tests.conftest import vodpipe_env
from tests.processes import Server, run_cli
from tests.services import LoggedProcess, start_worker

if TYPE_CHECKING:
    from collections.abc import Iterator

    from celery import Celery

    from tests.conftest import MakeMaster

pytestmark = pytest.mark.integration

FRAMES = 360  # the 12 s master at 30 fps
_databases = itertools.count(1)


@dataclass
class Cluster:
    env: dict[str, str]
    workers: dict[str, LoggedProcess]
    app: Celery

    @property
    def store(self) -> LocalStore:
        return LocalStore(Path(self.env["VODPIPE_DATA_DIR"]))


@pytest.fixture
def cluster(redis_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """Two workers (one task, one FFmpeg thread each) on a Redis database of their own."""
    broker = f"{redis_url.rsplit('/', 1)[0]}/{next(_databases)}"
    env = vodpipe_env(tmp_path) | {
        "VODPIPE_BROKER_URL": broker,
        "VODPIPE_CHUNK_SECONDS": "4",
        "VODPIPE_FFMPEG_THREADS": "1",
        # a dead worker's task comes back after 15 s (every task here takes a few seconds)
        "VODPIPE_VISIBILITY_TIMEOUT": "15",
    }
    workers: dict[str, LoggedProcess] = {}
    app = make_celery(Settings.from_env(env))
    try:
        for name in ("w1", "w2"):
            workers[name] = start_worker(name, env, tmp_path)
        yield Cluster(env, workers, app)
    finally:
        for worker in workers.values():
            worker.stop()
        app.close()
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            for worker in workers.values():
                print(f"--- {worker.log} (kept) ---\n{worker.log.read_text()[-4000:]}")


def queue_ingest(cluster: Cluster, master: Path, title: str) -> str:
    result = run_cli("ingest", str(master), "--title", title, env=cluster.env)
    assert result.returncode == 0, result.stderr
    queued = re.search(r"queued as task (\S+)", result.stderr)
    assert queued, result.stderr
    return queued.group(1)


def audio_samples(data: bytes) -> tuple[int, bool]:
    import io

    total, contiguous, expected = 0, True, None
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(audio=0):
            contiguous &= expected is None or frame.pts == expected
            expected = (frame.pts or 0) + frame.samples
            total += frame.samples
    return total, contiguous


def assert_published_whole(cluster: Cluster, title: str, version: str) -> None:
    """Every rung decodes to exactly the master's frames; the audio has no gap."""
    record = Catalog(cluster.store).get(title)
    assert (record.status, record.published_version, record.error) == ("published", version, None)
    assert record.progress == {"encode": 100.0, "assemble": 100.0, "package": 100.0, "publish": 100.0}
    base = Path(cluster.env["VODPIPE_DATA_DIR"]) / "media" / title / version
    rungs = sorted(p.name for p in (base / "video").iterdir())
    assert rungs == ["240p", "360p"]
    for rung in rungs:
        folder = base / "video" / rung
        segments = [p.read_bytes() for p in sorted(folder.glob("seg-*.m4s"))]
        assert len(segments) == 3
        assert decode((folder / "init.mp4").read_bytes(), segments).frames == FRAMES
    (audio,) = (base / "audio").iterdir()  # the master's one English track
    data = (audio / "init.mp4").read_bytes() + b"".join(
        p.read_bytes() for p in sorted(audio.glob("seg-*.m4s"))
    )
    samples, contiguous = audio_samples(data)
    assert contiguous
    # the master's 576,000 samples, give or take the AAC encoder's priming and last-frame padding
    assert 12 * 48_000 <= samples <= 12 * 48_000 + 2 * 1024
    assert not list(cluster.store.list(f"work/{title}/"))  # intermediates are cleaned up


def chunk_tasks(log: str) -> list[str]:
    return re.findall(r"Task vodpipe\.encode_chunk\[([0-9a-f-]+)\] received", log)


def test_a_title_is_encoded_in_chunks_across_both_workers(cluster: Cluster, make_master: MakeMaster) -> None:
    master = make_master("distributed-12s.mp4", seconds=12, size="640x360")
    task_id = queue_ingest(cluster, master, "spread")
    outcome: dict[str, Any] = cluster.app.AsyncResult(task_id).get(timeout=300)
    assert outcome["status"] == "published"
    assert cluster.app.AsyncResult(task_id).state == "SUCCESS"  # the job's state, in Redis
    logs = {name: w.log.read_text() for name, w in cluster.workers.items()}
    per_worker = {name: chunk_tasks(log) for name, log in logs.items()}
    assert all(per_worker.values()), per_worker  # both workers encoded chunks
    assert sum(len(ids) for ids in per_worker.values()) == 3
    assert_published_whole(cluster, "spread", outcome["version"])


def test_a_worker_killed_mid_encode_loses_nothing(cluster: Cluster, make_master: MakeMaster) -> None:
    master = make_master("distributed-12s.mp4", seconds=12, size="640x360")
    task_id = queue_ingest(cluster, master, "survivor")
    victim, survivor = cluster.workers["w1"], cluster.workers["w2"]
    killed = victim.wait_for(r"Task vodpipe\.encode_chunk\[([0-9a-f-]+)\] received").group(1)
    victim.wait_for(r"encode survivor ")  # its FFmpeg is running and has reported progress
    victim.kill()  # SIGKILL to the worker, its pool process and FFmpeg
    outcome: dict[str, Any] = cluster.app.AsyncResult(task_id).get(timeout=300)
    assert outcome["status"] == "published"
    # Redis gave the unacknowledged chunk to the other worker, which encoded it again
    assert killed in chunk_tasks(survivor.log.read_text())
    assert_published_whole(cluster, "survivor", outcome["version"])


def test_a_bad_master_fails_its_title_with_the_reason_and_is_not_retried(
    cluster: Cluster, make_master: MakeMaster
) -> None:
    master = make_master("distributed-12s.mp4", seconds=12, size="640x360")
    store = cluster.store
    record = ingest_master(store, master, "broken", MasterLimits()).record
    stored = store.local_path(record.master_key)
    assert stored is not None
    stored.write_bytes(b"this is not a video " * 5000)  # the stored master went bad after ingest
    result = cluster.app.send_task("vodpipe.process_title", args=["broken"])
    with pytest.raises(Exception, match="Invalid data found when processing input"):
        result.get(timeout=120)
    failed = Catalog(store).get("broken")
    assert failed.status == "failed"
    assert failed.error is not None
    assert failed.error.startswith("ffmpeg failed (exit status")
    assert "Invalid data found when processing input" in failed.error
    logs = "".join(w.log.read_text() for w in cluster.workers.values())
    ids = chunk_tasks(logs)
    assert len(ids) == len(set(ids))  # no chunk was run twice
    assert " retry: " not in logs
    assert not (Path(cluster.env["VODPIPE_DATA_DIR"]) / "media").exists()
    assert json.loads(store.get_bytes("catalog/titles/broken.json"))["status"] == "failed"


def test_a_titles_codecs_chosen_over_the_api_are_encoded_by_the_workers(
    cluster: Cluster, make_master: MakeMaster
) -> None:
    """The workers' settings say H.264; the title, created over the API, says HEVC alone."""
    import urllib.request

    master = make_master("distributed-codecs-2s.mp4", seconds=2, size="480x270")
    data = master.read_bytes()
    key = "studio-key-0123456789abcdef"
    api = Server(["api", "--port", "0"], cluster.env | {"VODPIPE_API_KEYS": f"studio:{key}"})
    try:
        base = api.wait_for("api: ").split("/v1/")[0]
        body = {"title": "hevc-only", "filename": master.name, "length": len(data), "codecs": ["hevc"]}
        auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        created = urllib.request.Request(f"{base}/v1/titles", json.dumps(body).encode(), auth, method="POST")
        with urllib.request.urlopen(created, timeout=30) as response:
            upload = json.loads(response.read())["upload"]["url"]
        patch = {**auth, "Tus-Resumable": "1.0.0", "Upload-Offset": "0"}
        patch["Content-Type"] = "application/offset+octet-stream"
        sent = urllib.request.Request(f"{base}{upload}", data, patch, method="PATCH")
        with urllib.request.urlopen(sent, timeout=60) as response:
            assert response.status == 204  # the master is in; the job is on the broker
    finally:
        api.stop()
    catalog = Catalog(cluster.store)
    for _ in range(1200):  # polled: the job runs on the workers, not here
        record = catalog.get("hevc-only")
        if record.status in ("published", "failed"):
            break
        time.sleep(0.1)
    assert (record.status, record.error, record.video_codecs) == ("published", None, ["hevc"])
    base_dir = Path(cluster.env["VODPIPE_DATA_DIR"]) / "media" / "hevc-only" / str(record.published_version)
    rungs = sorted((base_dir / "video").iterdir())
    assert rungs
    assert all(r.name.endswith("-hevc") and b"hvcC" in (r / "init.mp4").read_bytes() for r in rungs), rungs


def test_a_worker_without_a_broker_is_one_line(cli_env: dict[str, str]) -> None:
    result = run_cli("worker", env=cli_env, timeout=60)
    assert (result.returncode, result.stderr.strip()) == (
        1,
        "vodpipe: error: a worker needs a broker: set VODPIPE_BROKER_URL (e.g. redis://localhost:6379/0)",
    )
