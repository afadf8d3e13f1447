"""A title through the whole pipeline into S3 (a real moto server), served by ``vodpipe serve``
reading S3: manifests and segments whole, ranged and conditional, a rendition decoded, the
independent checker passing, and a 503 with Retry-After while the store is down."""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

import m3u8
import pytest

from tests.conftest import vodpipe_env
from tests.integration.test_end_to_end import load_rendition
from tests.processes import Server, fetch, run_cli
from tests.s3_server import S3Server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from storage.s3 import S3Store
    from tests.conftest import MakeMaster

pytestmark = pytest.mark.integration


@dataclass
class S3Title:
    base: str  # http://origin/media/{title}/{version}
    server: Server
    s3: S3Server
    store: S3Store
    env: dict[str, str]
    data_dir: Path


@pytest.fixture(scope="module")
def s3_title(tmp_path_factory: pytest.TempPathFactory, make_master: MakeMaster) -> Iterator[S3Title]:
    root = tmp_path_factory.mktemp("s3-title")
    s3 = S3Server(root / "moto.log")  # its own server: the last test stops it
    s3.start()
    server = None
    try:
        store = s3.new_store()
        env = vodpipe_env(root) | s3.env(store.bucket) | {"VODPIPE_S3_MAX_ATTEMPTS": "2"}
        master = make_master("master-6s-360p.mp4", seconds=6, size="640x360")
        result = run_cli("ingest", str(master), "--title", "s3film", env=env)
        assert result.returncode == 0, result.stderr
        hls = re.search(r"^hls: (\S+)$", result.stdout, re.M)
        assert hls
        version = hls.group(1).split("/")[-2]
        server = Server(["serve", "--port", "0"], env)
        line = server.wait_for("origin: ")
        assert line.startswith(f"serving s3://{store.bucket}/media at ")
        origin = line.split(" at ")[1].removesuffix("/media/")
        yield S3Title(f"{origin}/media/s3film/{version}", server, s3, store, env, root / "data")
    finally:
        if server is not None:
            assert server.stop() == 0
        s3.stop()


def test_the_title_lives_in_s3_only(s3_title: S3Title) -> None:
    keys = list(s3_title.store.list(""))
    version = s3_title.base.rsplit("/", 1)[1]
    assert f"media/s3film/{version}/master.m3u8" in keys
    assert f"media/s3film/{version}/manifest.mpd" in keys
    assert any(k.startswith("masters/s3film/") for k in keys)
    assert not s3_title.data_dir.exists()  # nothing fell back to the local folder
    status = run_cli("status", "s3film", "--json", env=s3_title.env)
    assert status.returncode == 0, status.stderr
    record = json.loads(status.stdout)
    assert (record["status"], record["published_version"]) == ("published", version)


def test_segments_whole_ranged_and_conditional(s3_title: S3Title) -> None:
    master = fetch(f"{s3_title.base}/master.m3u8")
    assert master.status == 200
    assert master.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    playlist = m3u8.loads(master.body.decode())
    media = f"{s3_title.base}/{playlist.playlists[0].uri}"
    rendition = load_rendition(media)  # fetches the init and every segment, then decodes them
    assert rendition.decoded.frames == 180  # 6 s at 30 fps: every frame of the master
    segment_url = f"{media.rsplit('/', 1)[0]}/{m3u8.loads(fetch(media).body.decode()).segments[0].uri}"
    whole = fetch(segment_url)
    assert whole.body == rendition.segments[0]
    assert whole.headers["Content-Length"] == str(len(whole.body))
    assert whole.headers["Accept-Ranges"] == "bytes"
    etag = whole.headers["ETag"]

    ranged = fetch(segment_url, {"Range": "bytes=100-1099"})
    assert ranged.status == 206
    assert ranged.body == whole.body[100:1100]
    assert ranged.headers["Content-Range"] == f"bytes 100-1099/{len(whole.body)}"
    assert fetch(segment_url, {"If-None-Match": etag}).status == 304
    assert fetch(segment_url, {"If-Range": etag, "Range": "bytes=0-3"}).body == whole.body[:4]
    assert fetch(segment_url, {"If-Match": '"stale"'}).status == 412
    gone = fetch(f"{s3_title.base}/video/none/seg-00001.m4s")
    assert gone.status == 404
    assert gone.headers["Content-Type"] == "application/problem+json"


def test_the_checker_passes_the_s3_title(s3_title: S3Title) -> None:
    result = run_cli("check", f"{s3_title.base}/master.m3u8", "--json", env=s3_title.env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    result = run_cli("check", f"{s3_title.base}/manifest.mpd", "--json", env=s3_title.env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


def test_a_store_outage_serves_the_cached_title_and_503s_the_rest(s3_title: S3Title) -> None:
    # runs last: stops S3. The checker above fetched the manifests: cached, so still served.
    before = {path: fetch(f"{s3_title.base}/{path}") for path in ("master.m3u8", "manifest.mpd")}
    s3_title.s3.stop()
    for path, earlier in before.items():
        during = fetch(f"{s3_title.base}/{path}")
        assert (during.status, during.body) == (200, earlier.body)
    for path in ("video/none/seg-00001.m4s", "video/none/seg-00002.m4s"):  # never cached
        response = fetch(f"{s3_title.base}/{path}")
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
        assert response.headers["Content-Type"] == "application/problem+json"
        assert json.loads(response.body)["type"] == "https://vodpipe.dev/problems/store-unavailable"
    assert fetch(f"{s3_title.base.split('/media/')[0]}/healthz").status == 200  # the origin stays up


def test_an_unreachable_store_is_one_line(tmp_path: Path, make_master: MakeMaster) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once the socket is closed
    env = vodpipe_env(tmp_path) | {
        "VODPIPE_STORE": "s3",
        "VODPIPE_S3_BUCKET": "vod",
        "VODPIPE_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "VODPIPE_S3_REGION": "us-east-1",
        "VODPIPE_S3_ACCESS_KEY_ID": "id",
        "VODPIPE_S3_SECRET_ACCESS_KEY": "very-secret-value",
        "VODPIPE_S3_MAX_ATTEMPTS": "2",
    }
    master = make_master("master-6s-360p.mp4", seconds=6, size="640x360")
    for args in (["status", "film"], ["ingest", str(master), "--title", "film"]):
        result = run_cli(*args, env=env)
        assert result.returncode == 1
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("vodpipe: error: S3 store unreachable for catalog/titles/film.json: ")
        assert "very-secret-value" not in result.stderr + result.stdout
    assert not (tmp_path / "data").exists()
