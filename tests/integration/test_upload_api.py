"""A real ``vodpipe api`` process: a master uploaded through tus, the API restarted part-way,
the client stopped mid-upload, resumed by ``vodpipe upload``, then followed by
``vodpipe status --watch`` until it is published; and a title created with options (cbcs,
signed URLs) published encrypted and served by ``vodpipe serve`` only to signed URLs."""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from pipeline.upload_client import TusClient, UploadState, upload
from player_test.media import decode
from tests.processes import Server, fetch, run_cli

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import MakeMaster
    from tests.s3_server import S3Server

pytestmark = pytest.mark.integration

KEY = "studio-key-0123456789abcdef"
KEK = bytes(range(32)).hex()
SIGNING_KEY = "signing-key-for-the-api-title-test"


def start_api(env: dict[str, str]) -> tuple[Server, str]:
    server = Server(["api", "--port", "0"], env)
    line = server.wait_for("api: ")  # printed once the socket listens: the readiness handshake
    match = re.match(r"(http://\S+)/v1/", line)
    assert match, line
    return server, match.group(1)


def head_offset(api: str, upload_url: str) -> int:
    reply = TusClient(api, KEY).offset(urllib.parse.urljoin(api, upload_url))
    assert reply is not None
    return reply[0]


def run_interrupted_upload(
    env: dict[str, str], master: Path, tmp_path: Path, title: str
) -> tuple[Server, str, str]:
    state = UploadState(tmp_path / "uploads.json")
    env["VODPIPE_UPLOAD_STATE"] = str(state.path)
    env["VODPIPE_API_KEY"] = KEY
    server, api = start_api(env)
    data = master.read_bytes()
    client = TusClient(api, KEY)

    try:
        # 1. Part of the master goes up in one PATCH.
        created, name = client.create(len(data), {"filename": master.name, "title": title})
        assert name == title
        url = urllib.parse.urlsplit(created).path  # the API's port changes when it restarts
        reply = client.patch(created, 0, data[:100_000], lambda n: None)
        assert reply.status == 204

        # 2. The API restarts: the upload lives in the store, not in the process.
        assert server.stop() == 0
        server, api = start_api(env)
        assert head_offset(api, url) == 100_000

        # 3. `vodpipe upload` is stopped (Ctrl-C) after its next chunk leaves.
        state.put(state.fingerprint(master, api), urllib.parse.urljoin(api, url))

        def stop_after_a_chunk(done: int, total: int, resumed: bool) -> None:
            if done >= 100_000 + 2 * 64 * 1024:  # the first chunk went up; the second is cut
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            upload(TusClient(api, KEY), master, title, state, stop_after_a_chunk, chunk_size=64 * 1024)
        stopped_at = head_offset(api, url)
        assert 100_000 < stopped_at < len(data)
    except BaseException:
        server.stop()
        raise
    return server, api, url


@pytest.fixture
def short_master(make_master: MakeMaster) -> Path:
    return make_master("upload-4s.mp4", seconds=4, size="480x270")


def test_an_interrupted_upload_resumes_and_the_title_is_published(
    tmp_path: Path, short_master: Path, cli_env: dict[str, str]
) -> None:
    env = {**cli_env, "VODPIPE_API_KEYS": f"studio:{KEY}"}
    server, api, url = run_interrupted_upload(env, short_master, tmp_path, "trailer")
    try:
        stopped_at = head_offset(api, url)
        # 4. The same command again resumes where the server says, and prints the title id.
        done = run_cli("upload", str(short_master), "--api", api, "--chunk-size", "65536", env=env)
        assert done.returncode == 0, done.stderr
        assert f"resuming {short_master.name} at byte {stopped_at}" in done.stderr
        assert done.stdout.strip() == "trailer"
        assert re.search(r"100\.0%.*MB/s", done.stderr)
        assert json.loads((tmp_path / "uploads.json").read_text()) == {}  # nothing left to resume
        # The master in the store is byte for byte the file.
        record = json.loads((tmp_path / "data/catalog/titles/trailer.json").read_text())
        assert (tmp_path / "data" / record["master_key"]).read_bytes() == short_master.read_bytes()

        # 5. --watch draws each stage until the job publishes the title.
        watched = run_cli("status", "trailer", "--watch", "--api", api, "--interval", "0.2", env=env)
        assert watched.returncode == 0, watched.stderr
        assert watched.stdout.splitlines()[-1] == "status: published"

        view = json.loads(fetch(f"{api}/v1/titles/trailer", {"Authorization": f"Bearer {KEY}"}).body)
        assert view["status"] == "published"
        hls = urllib.parse.urlsplit(view["playback"]["hls"]).path.lstrip("/")
        assert (tmp_path / "data" / hls).is_file()
        video = next(r for r in view["renditions"] if r["kind"] == "video")
        version = view["published_version"]
        init = tmp_path / f"data/media/trailer/{version}/video/{video['id']}/init.mp4"
        segments = sorted(init.parent.glob("seg-*.m4s"))
        decoded = decode(init.read_bytes(), [s.read_bytes() for s in segments])
        assert decoded.frames == 4 * 30  # every frame of the master, none lost to the interruptions
    finally:
        server.stop()


def test_a_bad_master_upload_fails_with_the_reason(tmp_path: Path, cli_env: dict[str, str]) -> None:
    env = {**cli_env, "VODPIPE_API_KEYS": f"studio:{KEY}", "VODPIPE_API_KEY": KEY}
    env["VODPIPE_UPLOAD_STATE"] = str(tmp_path / "uploads.json")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all " * 5000)
    server, api = start_api(env)
    try:
        result = run_cli("upload", str(junk), "--api", api, env=env)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines()[-1].startswith("vodpipe: error: master")
        assert "Traceback" not in result.stderr
        assert fetch(f"{api}/v1/titles/junk", {"Authorization": f"Bearer {KEY}"}).status == 404
    finally:
        server.stop()


def test_the_same_upload_over_a_real_s3_server(
    tmp_path: Path, short_master: Path, cli_env: dict[str, str], s3_server: S3Server
) -> None:
    store = s3_server.new_store()
    env = {**cli_env, **s3_server.env(store.bucket), "VODPIPE_API_KEYS": f"studio:{KEY}"}
    server, api, _ = run_interrupted_upload(env, short_master, tmp_path, "s3-trailer")
    try:
        # The parts of the unfinished upload are in the bucket, not on the API's disk.
        assert any(key.startswith("uploads/") for key in store.list("uploads/"))
        done = run_cli("upload", str(short_master), "--api", api, "--chunk-size", "65536", env=env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "s3-trailer"
        watched = run_cli("status", "s3-trailer", "--watch", "--api", api, "--interval", "0.2", env=env)
        assert watched.stdout.splitlines()[-1] == "status: published", watched.stderr
        record = json.loads(store.get_bytes("catalog/titles/s3-trailer.json"))
        assert store.get_bytes(record["master_key"]) == short_master.read_bytes()
        version = record["published_version"]
        assert store.exists(f"media/s3-trailer/{version}/master.m3u8")
        assert list(store.list("uploads/")) == []
    finally:
        server.stop()


def post_json(url: str, body: dict[str, object]) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_a_title_created_with_cbcs_and_signed_urls_is_published_encrypted_and_signed_only(
    tmp_path: Path, short_master: Path, cli_env: dict[str, str]
) -> None:
    env = {
        **cli_env,
        "VODPIPE_API_KEYS": f"studio:{KEY}",
        "VODPIPE_API_KEY": KEY,
        "VODPIPE_KEY_ENCRYPTION_KEY": KEK,
        "VODPIPE_URL_SIGNING_KEY": SIGNING_KEY,
    }
    data = short_master.read_bytes()
    server, api = start_api(env)
    try:
        new = {"title": "secret", "filename": short_master.name, "length": len(data)}
        status, view = post_json(f"{api}/v1/titles", {**new, "encryption": "cbcs", "signed_urls": True})
        assert status == 201
        chosen = {"encryption": "cbcs", "signed_urls": True, "ladder": None, "codecs": None}
        assert view["options"] == chosen
        upload_url = urllib.parse.urljoin(api, view["upload"]["url"])
        assert TusClient(api, KEY).patch(upload_url, 0, data, lambda n: None).status == 204
        watched = run_cli("status", "secret", "--watch", "--api", api, "--interval", "0.2", env=env)
        assert watched.stdout.splitlines()[-1] == "status: published", watched.stderr
        view = json.loads(fetch(f"{api}/v1/titles/secret", {"Authorization": f"Bearer {KEY}"}).body)
        assert view["options"] == chosen
    finally:
        server.stop()

    # Encrypted: every video init segment signals the cbcs scheme (ISO/IEC 23001-7 §4.2, schm).
    version = view["published_version"]
    inits = sorted((tmp_path / f"data/media/secret/{version}/video").glob("*/init.mp4"))
    assert inits
    assert all(b"schm\x00\x00\x00\x00cbcs" in init.read_bytes() for init in inits)

    origin = Server(["serve", "--port", "0"], env)
    try:
        line = origin.wait_for("origin: serving ")
        base = re.search(r"at (http://\S+)/media/", line)
        assert base, line
        rung = inits[0].parent.name
        for path in ("master.m3u8", f"video/{rung}/init.mp4"):
            unsigned = fetch(f"{base.group(1)}/media/secret/{version}/{path}")
            assert unsigned.status == 403, (path, unsigned.status)
        signed = run_cli("sign", f"{base.group(1)}/media/secret/{version}/master.m3u8", env=env)
        assert signed.returncode == 0, signed.stderr
        answer = fetch(signed.stdout.strip())
        assert answer.status == 200
        assert b"#EXTM3U" in answer.body
    finally:
        origin.stop()


def test_upload_options_the_job_would_refuse_are_refused_before_a_byte_is_sent(
    tmp_path: Path, short_master: Path, cli_env: dict[str, str]
) -> None:
    env = {
        **cli_env,
        "VODPIPE_API_KEYS": f"studio:{KEY}",
        "VODPIPE_API_KEY": KEY,
        "VODPIPE_KEY_ENCRYPTION_KEY": KEK,
    }
    env["VODPIPE_UPLOAD_STATE"] = str(tmp_path / "uploads.json")
    server, api = start_api(env)
    try:
        args = ["upload", str(short_master), "--api", api, "--encryption", "cbcs", "--codecs", "h264,av1"]
        result = run_cli(*args, env=env)
        assert result.returncode == 1
        assert "(400): codecs: AV1 cannot be encrypted yet" in result.stderr
        assert not (tmp_path / "data/uploads").exists()  # no upload was opened
    finally:
        server.stop()
