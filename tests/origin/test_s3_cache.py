"""Serving from a remote store: one store request per object however many clients miss at once,
and a store outage serves what is cached (from memory or from disk) and 503s the rest, never 500."""

from __future__ import annotations

import asyncio
import json
import os
from typing import TYPE_CHECKING, Any

import pytest

from origin.app import make_app
from origin.cache_policy import CachePolicy
from origin.disk_cache import DiskCache
from storage.local import LocalStore

if TYPE_CHECKING:
    from pathlib import Path

    from storage.base import ObjectStore
    from tests.s3_server import S3Server

pytestmark = pytest.mark.integration
BASE = "/media/demo/v1"
SEGMENT = os.urandom(600_000)
PLAYLIST = b"#EXTM3U\n#EXT-X-VERSION:7\n" + b"#EXTINF:4.000000,\nseg.m4s\n" * 50
OBJECTS = {
    "media/demo/v1/master.m3u8": PLAYLIST,
    "media/demo/v1/video/720p/seg-00001.m4s": SEGMENT,
    "media/demo/v1/video/720p/seg-00002.m4s": SEGMENT[::-1],
}
SEG = f"{BASE}/video/720p/seg-00001.m4s"


class RemoteLookingStore(LocalStore):
    """A local folder that says it is remote (no local path), counting what the origin asks of it."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: list[str] = []

    def local_path(self, key: str) -> None:
        return None

    def stat(self, key: str) -> Any:
        self.calls.append("stat")
        return super().stat(key)

    def get_bytes(self, key: str) -> bytes:
        self.calls.append("get_bytes")
        return super().get_bytes(key)

    def download(self, key: str, path: Path) -> None:
        self.calls.append("download")
        super().download(key, path)


def _fill(store: ObjectStore) -> ObjectStore:
    for key, data in OBJECTS.items():
        store.put_bytes(key, data)
    return store


@pytest.mark.parametrize(("path", "body"), [(SEG, SEGMENT), (f"{BASE}/master.m3u8", PLAYLIST)])
async def test_concurrent_misses_make_one_store_request(
    tmp_path: Path, aiohttp_client: Any, path: str, body: bytes
) -> None:
    store = RemoteLookingStore(tmp_path / "data")
    _fill(store)
    store.calls.clear()
    app = make_app(store, CachePolicy(), disk=DiskCache(tmp_path / "cache", 10 << 20))
    client = await aiohttp_client(app)
    headers = {"Accept-Encoding": "identity"}
    responses = await asyncio.gather(*(client.get(path, headers=headers) for _ in range(50)))
    assert [r.status for r in responses] == [200] * 50
    assert {await r.read() for r in responses} == {body}
    assert store.calls.count("stat") == 1
    assert store.calls.count("download") + store.calls.count("get_bytes") == 1


async def test_an_object_too_large_for_the_disk_cache_is_relayed(tmp_path: Path, aiohttp_client: Any) -> None:
    store = RemoteLookingStore(tmp_path / "data")
    _fill(store)
    store.calls.clear()
    client = await aiohttp_client(make_app(store, CachePolicy(), disk=DiskCache(tmp_path / "cache", 1000)))
    response = await client.get(SEG, headers={"Range": "bytes=5-9"})
    assert (response.status, await response.read()) == (206, SEGMENT[5:10])
    assert "download" not in store.calls
    assert not list((tmp_path / "cache").glob("*.data"))


async def test_a_store_outage_serves_cached_objects_and_503s_the_rest(
    own_s3_server: S3Server, tmp_path: Path, aiohttp_client: Any
) -> None:
    store = _fill(own_s3_server.new_store(max_attempts=2))
    disk = tmp_path / "cache"
    warm = await aiohttp_client(make_app(store, CachePolicy(), disk=DiskCache(disk, 10 << 20)))
    manifest = await warm.get(
        f"{BASE}/master.m3u8", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    segment = await warm.get(SEG)
    assert (manifest.status, segment.status, await segment.read()) == (200, 200, SEGMENT)
    own_s3_server.stop()
    # a process that was serving (memory) and one started after the outage began (disk only)
    cold = await aiohttp_client(make_app(store, CachePolicy(), disk=DiskCache(disk, 10 << 20)))
    for client in (warm, cold):
        again = await client.get(SEG, headers={"Range": "bytes=10-19"})
        assert (again.status, await again.read()) == (206, SEGMENT[10:20])
        assert again.headers["ETag"] == segment.headers["ETag"]
        listed = await client.get(
            f"{BASE}/master.m3u8", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
        )
        assert listed.status == 200
        assert await listed.read() == await manifest.read()
        assert listed.headers["ETag"] == manifest.headers["ETag"]
        uncached = await client.get(f"{BASE}/video/720p/seg-00002.m4s")
        assert uncached.status == 503
        assert uncached.headers["Retry-After"] == "5"
        assert json.loads(await uncached.read())["status"] == 503
