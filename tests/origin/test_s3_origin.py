"""The origin over S3 answers exactly as over a local folder, streams, and fails as a 503."""

from __future__ import annotations

import json
import os
from contextlib import closing
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from origin.app import make_app
from origin.cache_policy import CachePolicy
from storage.base import STREAM_CHUNK
from storage.local import LocalStore
from vodpipe.errors import StoreUnavailableError

if TYPE_CHECKING:
    from collections.abc import Generator
    from pathlib import Path

    from aiohttp.test_utils import TestClient

    from storage.base import ObjectStore
    from storage.s3 import S3Store
    from tests.s3_server import S3Server

pytestmark = pytest.mark.integration
BASE = "/media/demo/v1"
SEGMENT = os.urandom(3 * STREAM_CHUNK + 777)  # several chunks: the relay must not hold it whole
OBJECTS = {
    "media/demo/v1/master.m3u8": b"#EXTM3U\n#EXT-X-VERSION:7\n" + b"#EXTINF:4.000000,\nseg.m4s\n" * 50,
    "media/demo/v1/video/720p/seg-00001.m4s": SEGMENT,
    "media/demo/v1/video/720p/init.mp4": b"init",
    "catalog/titles/demo.json": b'{"secret": true}',
}
SEG = f"{BASE}/video/720p/seg-00001.m4s"
# (name, path, request headers given the representation's ETag and Last-Modified)
CASES: list[tuple[str, str, Any]] = [
    ("whole segment", SEG, lambda tag, lm: {}),
    ("range", SEG, lambda tag, lm: {"Range": "bytes=1000-300000"}),
    ("suffix range", SEG, lambda tag, lm: {"Range": "bytes=-100"}),
    ("open range", SEG, lambda tag, lm: {"Range": f"bytes={len(SEGMENT) - 5}-"}),
    ("unsatisfiable range", SEG, lambda tag, lm: {"Range": f"bytes={len(SEGMENT)}-"}),
    ("if-none-match", SEG, lambda tag, lm: {"If-None-Match": tag}),
    ("if-none-match, other tag", SEG, lambda tag, lm: {"If-None-Match": '"other"'}),
    ("if-match fails", SEG, lambda tag, lm: {"If-Match": '"other"'}),
    ("if-range matches", SEG, lambda tag, lm: {"Range": "bytes=0-9", "If-Range": tag}),
    ("if-range stale", SEG, lambda tag, lm: {"Range": "bytes=0-9", "If-Range": '"old"'}),
    ("if-modified-since", SEG, lambda tag, lm: {"If-Modified-Since": lm}),
    ("gzip manifest", f"{BASE}/master.m3u8", lambda tag, lm: {"Accept-Encoding": "gzip"}),
    ("identity manifest", f"{BASE}/master.m3u8", lambda tag, lm: {"Accept-Encoding": "identity"}),
    ("missing", f"{BASE}/video/720p/seg-00002.m4s", lambda tag, lm: {}),
    ("private prefix", "/media/../catalog/titles/demo.json", lambda tag, lm: {}),
]
VARYING = {"etag", "last-modified", "date"}  # each store's own validators


class StreamSpy:
    """Wraps a store and records how the origin read it."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.calls: list[str] = []
        self.chunks: list[int] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.store, name)

    def get_stream(self, key: str, start: int = 0, end: int | None = None) -> Generator[bytes, None, None]:
        self.calls.append("get_stream")
        for chunk in self.store.get_stream(key, start, end):
            self.chunks.append(len(chunk))
            yield chunk


def _fill(store: ObjectStore) -> ObjectStore:
    for key, data in OBJECTS.items():
        store.put_bytes(key, data)
    return store


async def _ask(client: TestClient[Any, Any], method: str, path: str, headers: Any) -> tuple[Any, bytes]:
    head = await client.head(path, headers={"Accept-Encoding": headers({}, {}).get("Accept-Encoding", "")})
    tag, modified = head.headers.get("ETag", ""), head.headers.get("Last-Modified", "")
    response = await client.request(
        method, path, headers=headers(tag, modified), skip_auto_headers=["Accept-Encoding"]
    )
    body = await response.read()
    return response, body.replace(tag.strip('"').encode(), b"TAG") if tag else body  # 412 names it


def _fixed(response: Any) -> dict[str, str]:
    fixed = {k.lower(): v for k, v in response.headers.items() if k.lower() not in VARYING}
    if response.status == 412:  # its problem body names the ETag, whose length differs by store
        fixed.pop("content-length")
    return fixed


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_s3_answers_as_the_local_store_does(
    method: str, s3_server: S3Server, tmp_path: Path, aiohttp_client: Any
) -> None:
    local = await aiohttp_client(make_app(_fill(LocalStore(tmp_path / "data")), CachePolicy()))
    remote = await aiohttp_client(make_app(_fill(s3_server.new_store()), CachePolicy()))
    for name, path, headers in CASES:
        a, body_a = await _ask(local, method, path, headers)
        b, body_b = await _ask(remote, method, path, headers)
        assert (name, b.status, body_b) == (name, a.status, body_a)
        assert (name, _fixed(b)) == (name, _fixed(a))
        assert ("ETag" in b.headers) == ("ETag" in a.headers)
        assert ("Last-Modified" in b.headers) == ("Last-Modified" in a.headers)


async def test_a_segment_is_relayed_in_chunks(s3_server: S3Server, aiohttp_client: Any) -> None:
    spy = StreamSpy(_fill(s3_server.new_store()))
    client = await aiohttp_client(make_app(spy, CachePolicy()))  # type: ignore[arg-type]
    response = await client.get(SEG)
    assert await response.read() == SEGMENT
    assert "get_stream" in spy.calls
    assert not {"get_bytes", "get_range", "download"} & set(spy.calls)
    assert len(spy.chunks) >= 4
    assert max(spy.chunks) <= STREAM_CHUNK  # never more than one chunk held at a time

    spy.chunks.clear()
    response = await client.get(SEG, headers={"Range": "bytes=10-19"})
    assert (response.status, await response.read()) == (206, SEGMENT[10:20])
    assert spy.chunks == [10]  # only the range was read from S3


async def test_a_store_outage_is_a_503_with_retry_after(own_s3_server: S3Server, aiohttp_client: Any) -> None:
    store: S3Store = _fill(own_s3_server.new_store(max_attempts=2))  # type: ignore[assignment]
    client = await aiohttp_client(make_app(store, CachePolicy()))
    assert (await client.get(SEG)).status == 200
    own_s3_server.stop()
    for path in (SEG, f"{BASE}/master.m3u8"):
        response = await client.get(path)
        assert response.status == 503
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["Retry-After"] == "5"
        assert response.headers["Cache-Control"] == "no-store"
        problem = json.loads(await response.read())
        assert problem["status"] == 503
        assert problem["type"] == "https://vodpipe.dev/problems/store-unavailable"
        assert problem["detail"] == "the object store is unavailable; retry later"
        assert own_s3_server.endpoint_url.split("//")[1] not in json.dumps(problem)  # nothing internal leaks
        assert store.bucket not in json.dumps(problem)


class FailingMidway(LocalStore):
    """A remote-looking store whose stream breaks after its first chunk."""

    def local_path(self, key: str) -> None:
        return None

    def get_stream(self, key: str, start: int = 0, end: int | None = None) -> Generator[bytes, None, None]:
        stream = super().get_stream(key, start, end)

        def broken() -> Generator[bytes, None, None]:
            with closing(stream):
                yield next(stream)
                raise StoreUnavailableError("connection reset by the store")

        return broken()


async def test_a_store_failing_mid_body_cuts_the_response_short(tmp_path: Path, aiohttp_client: Any) -> None:
    client = await aiohttp_client(make_app(_fill(FailingMidway(tmp_path)), CachePolicy()))
    response = await client.get(SEG)
    assert response.status == 200  # the status line was already sent
    assert response.headers["Content-Length"] == str(len(SEGMENT))
    with pytest.raises(aiohttp.ClientPayloadError):  # fewer bytes than promised: the client knows
        await response.read()
    again = await client.get(f"{BASE}/master.m3u8")  # and the origin carries on
    assert again.status == 200
