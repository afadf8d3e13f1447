"""Served from memory: a second request for an object never reaches the store, and every
conditional and range answer is the same as on the first (uncached) request."""

from __future__ import annotations

import asyncio
import errno
import gzip
import os
from typing import TYPE_CHECKING, Any

import brotli
import pytest

from origin.app import make_app
from origin.cache_policy import CachePolicy
from storage.local import LocalStore
from tests.origin.served import PATHS, serve
from tests.origin.test_app import raw_request, traversal_paths

if TYPE_CHECKING:
    from pathlib import Path

    from aiohttp.test_utils import TestClient

BASE = "/media/demo/v1"
PLAYLIST = b"#EXTM3U\n#EXT-X-VERSION:7\n" + b"#EXTINF:4.000000,\nseg.m4s\n" * 50
SEGMENT = bytes(range(256)) * 400
OBJECTS = {
    "media/demo/v1/master.m3u8": PLAYLIST,
    "media/demo/v1/video/720p/init.mp4": b"init" * 100,
    "media/demo/v1/video/720p/seg-00001.m4s": SEGMENT,
}


class CountingStore(LocalStore):
    """Records every store method the origin calls (the seam the hot path must not cross)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        if name in {"stat", "get_bytes", "get_stream", "local_path", "download", "exists"}:
            object.__getattribute__(self, "calls").append(name)
        return object.__getattribute__(self, name)


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    s = CountingStore(tmp_path / "data")
    for key, data in OBJECTS.items():
        s.put_bytes(key, data)
    s.calls.clear()
    return s


@pytest.fixture(params=PATHS)
async def client(
    store: CountingStore, aiohttp_client: Any, request: pytest.FixtureRequest
) -> TestClient[Any, Any]:
    return await serve(aiohttp_client, make_app(store, CachePolicy()), request.param)


@pytest.mark.parametrize("path", ["master.m3u8", "video/720p/init.mp4", "video/720p/seg-00001.m4s"])
async def test_a_hit_does_not_touch_the_store(
    client: TestClient[Any, Any], store: CountingStore, path: str
) -> None:
    first = await client.get(f"{BASE}/{path}")
    assert first.status == 200
    assert store.calls  # the miss asked the store
    store.calls.clear()
    for _ in range(3):
        again = await client.get(f"{BASE}/{path}")
        assert again.status == 200
        assert await again.read() == await first.read()
        assert again.headers["ETag"] == first.headers["ETag"]
    assert store.calls == []


@pytest.mark.parametrize(
    ("accept", "coding", "decode"),
    [
        pytest.param("gzip", "gzip", gzip.decompress, id="gzip"),
        pytest.param("br", "br", brotli.decompress, id="br"),
        pytest.param("gzip;q=0.5, br", "br", brotli.decompress, id="br-preferred"),
        pytest.param("gzip, br", "gzip", gzip.decompress, id="tie-goes-to-gzip"),
    ],
)
async def test_compressed_bodies_decode_to_the_original(
    client: TestClient[Any, Any], accept: str, coding: str, decode: Any
) -> None:
    for _ in range(2):  # made on the miss, served from memory on the hit: the same bytes
        response = await client.get(
            f"{BASE}/master.m3u8", headers={"Accept-Encoding": accept}, auto_decompress=False
        )
        assert response.headers["Content-Encoding"] == coding
        assert response.headers["ETag"].endswith(f'-{coding}"')
        assert decode(await response.read()) == PLAYLIST
        assert response.headers["Content-Length"] == str(len(await response.read()))


async def test_conditional_and_range_answers_come_from_the_cache(
    client: TestClient[Any, Any], store: CountingStore
) -> None:
    first = await client.get(f"{BASE}/master.m3u8", headers={"Accept-Encoding": "identity"})
    tag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    store.calls.clear()
    not_modified = await client.get(
        f"{BASE}/master.m3u8", headers={"If-None-Match": tag, "Accept-Encoding": "identity"}
    )
    assert not_modified.status == 304
    assert not_modified.headers["ETag"] == tag
    assert "Content-Type" not in not_modified.headers
    since = await client.get(f"{BASE}/master.m3u8", headers={"If-Modified-Since": modified})
    assert since.status == 304
    failed = await client.get(f"{BASE}/master.m3u8", headers={"If-Match": '"other"'})
    assert failed.status == 412
    assert failed.headers["Content-Type"] == "application/problem+json"
    partial = await client.get(
        f"{BASE}/master.m3u8", headers={"Range": "bytes=8-20", "Accept-Encoding": "gzip"}
    )
    assert partial.status == 206  # a range is of the identity representation (§14.2)
    assert await partial.read() == PLAYLIST[8:21]
    assert partial.headers["Content-Range"] == f"bytes 8-20/{len(PLAYLIST)}"
    assert "Content-Encoding" not in partial.headers
    unsatisfiable = await client.get(f"{BASE}/master.m3u8", headers={"Range": f"bytes={len(PLAYLIST)}-"})
    assert unsatisfiable.status == 416
    assert unsatisfiable.headers["Content-Range"] == f"bytes */{len(PLAYLIST)}"
    stale_if_range = await client.get(
        f"{BASE}/master.m3u8", headers={"Range": "bytes=0-3", "If-Range": '"old"'}
    )
    assert stale_if_range.status == 200
    assert store.calls == []


async def test_a_deleted_local_object_is_a_miss_then_404(
    client: TestClient[Any, Any], store: CountingStore
) -> None:
    path = f"{BASE}/video/720p/seg-00001.m4s"
    assert (await client.get(path)).status == 200
    store.delete("media/demo/v1/video/720p/seg-00001.m4s")
    assert (await client.get(path)).status == 404


async def test_without_sendfile_a_segment_is_copied_in_chunks(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """TLS transports, uvloop and some file systems have no sendfile: the file is then written a
    chunk at a time, whole."""

    def refused(*args: Any) -> int:
        raise OSError(errno.EINVAL, "sendfile not supported")

    async def unsupported(*args: Any, **kwargs: Any) -> int:
        raise NotImplementedError

    monkeypatch.setattr(os, "sendfile", refused)
    monkeypatch.setattr(asyncio.BaseEventLoop, "sendfile", unsupported)
    monkeypatch.setattr("origin.sendfile.STREAM_CHUNK", 1000)
    whole = await client.get(f"{BASE}/video/720p/seg-00001.m4s")
    assert await whole.read() == SEGMENT
    ranged = await client.get(f"{BASE}/video/720p/seg-00001.m4s", headers={"Range": "bytes=2500-4999"})
    assert (ranged.status, await ranged.read()) == (206, SEGMENT[2500:5000])


@pytest.mark.parametrize("path", ["master.m3u8", "video/720p/init.mp4", "video/720p/seg-00001.m4s"])
@pytest.mark.parametrize("accept", [None, "gzip, br", "br"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_the_fast_path_answers_as_the_general_path_does(
    client: TestClient[Any, Any], path: str, accept: str | None, method: str
) -> None:
    """A plain hit (fast path) and the same request carrying a precondition that holds (general
    path) get the same status, fields and body; only Date may differ."""
    headers = {"Accept-Encoding": accept or "identity"}
    await client.request(method, f"{BASE}/{path}", headers=headers)  # the miss fills the cache
    fast = await client.request(method, f"{BASE}/{path}", headers=headers, auto_decompress=False)
    general = await client.request(
        method,
        f"{BASE}/{path}",
        headers={**headers, "If-None-Match": '"no-such-tag"'},
        auto_decompress=False,
    )
    assert fast.status == general.status == 200
    assert await fast.read() == await general.read()
    fields = sorted((k, v) for k, v in fast.headers.items() if k != "Date")
    assert fields == sorted((k, v) for k, v in general.headers.items() if k != "Date")
    assert len(fast.headers.getall("Date")) == 1
    assert fast.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["master.m3u8", "video/720p/seg-00001.m4s"])
async def test_paths_that_are_not_cached_keys_are_judged_by_the_general_path(
    client: TestClient[Any, Any], path: str
) -> None:
    """The fast path looks a path up as a key; an escaped or dotted spelling of a cached key is
    not one, so it gets the general path's 404 even while the key itself is cached."""
    assert (await client.get(f"{BASE}/{path}")).status == 200
    escaped = path.replace(".", "%2E")
    for spelling in (f"{BASE}/{escaped}", f"{BASE}/./{path}", f"/media//demo/v1/{path}", f"{BASE}/{path}%00"):
        status, headers, _ = await raw_request(client.server, spelling.encode())
        assert (status, headers["Content-Type"]) == (404, "application/problem+json"), spelling
    query = await client.get(f"{BASE}/{path}?session=1")  # a query is not part of the key
    assert (query.status, await query.read()) == (200, await (await client.get(f"{BASE}/{path}")).read())


@pytest.mark.parametrize("raw", list(traversal_paths()))
async def test_paths_leaving_media_are_404_with_a_warm_cache(
    client: TestClient[Any, Any], store: CountingStore, raw: bytes
) -> None:
    for path in OBJECTS:
        assert (await client.get(f"/{path}")).status == 200
    store.calls.clear()
    status, headers, _ = await raw_request(client.server, raw)
    assert (status, headers["Content-Type"]) == (404, "application/problem+json")
    assert store.calls == []


async def test_a_segment_the_socket_takes_in_part_is_finished_by_the_loop(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the socket buffer takes only part of a segment at once, the rest is sent with the
    loop's sendfile (waiting for the socket to drain), in order, every byte once."""
    offsets: list[int] = []
    original = os.sendfile

    def partial(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
        offsets.append(offset or 0)
        return original(out_fd, in_fd, offset, min(count, 4096))  # as a full buffer would

    monkeypatch.setattr(os, "sendfile", partial)
    response = await client.get(f"{BASE}/video/720p/seg-00001.m4s")
    assert await response.read() == SEGMENT
    assert offsets == list(range(0, len(SEGMENT), 4096))
