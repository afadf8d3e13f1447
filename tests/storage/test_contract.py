"""The ``ObjectStore`` contract, run over every store (``store`` is parametrised in conftest)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from storage.base import STREAM_CHUNK
from vodpipe.errors import ObjectNotFoundError, StorageError, WriteConflictError

if TYPE_CHECKING:
    from pathlib import Path

    from storage.base import ObjectStore

pytestmark = pytest.mark.integration  # the S3 half talks to a real server process


def test_put_stat_get_range(store: ObjectStore) -> None:
    info = store.put_bytes("media/t/v1/master.m3u8", b"#EXTM3U\n", "application/vnd.apple.mpegurl")
    assert (info.key, info.size) == ("media/t/v1/master.m3u8", 8)
    assert info.etag
    assert '"' not in info.etag
    assert info.last_modified.tzinfo is not None
    assert store.stat("media/t/v1/master.m3u8") == info
    assert store.get_bytes("media/t/v1/master.m3u8") == b"#EXTM3U\n"
    assert store.get_range("media/t/v1/master.m3u8", 1, 3) == b"EXT"
    assert store.get_range("media/t/v1/master.m3u8", 7, 7) == b"\n"


def test_etag_follows_the_content(store: ObjectStore) -> None:
    first = store.put_bytes("a/b", b"one").etag
    second = store.put_bytes("a/b", b"two").etag
    assert first != second
    assert store.put_bytes("c/d", b"two").etag == second  # a digest of the content


def test_put_file_and_download(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "src.bin"
    source.write_bytes(os.urandom(300_000))
    info = store.put_file("media/x/seg-00001.m4s", source)
    assert info.size == 300_000
    store.download("media/x/seg-00001.m4s", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
    with pytest.raises(FileNotFoundError):
        store.put_file("media/x/other", tmp_path / "missing")
    assert not store.exists("media/x/other")


def test_streams_in_bounded_chunks(store: ObjectStore) -> None:
    data = os.urandom(2 * STREAM_CHUNK + 1000)
    store.put_bytes("media/t/v1/seg.m4s", data)
    whole = list(store.get_stream("media/t/v1/seg.m4s"))
    assert b"".join(whole) == data
    assert len(whole) >= 3
    assert all(len(chunk) <= STREAM_CHUNK for chunk in whole)
    start, end = STREAM_CHUNK - 10, 2 * STREAM_CHUNK + 5
    assert b"".join(store.get_stream("media/t/v1/seg.m4s", start, end)) == data[start : end + 1]
    assert b"".join(store.get_stream("media/t/v1/seg.m4s", len(data) - 3)) == data[-3:]


def test_a_stream_can_be_closed_early(store: ObjectStore) -> None:
    store.put_bytes("k/big", os.urandom(3 * STREAM_CHUNK))
    stream = store.get_stream("k/big")
    assert len(next(stream)) == STREAM_CHUNK
    stream.close()
    assert store.get_range("k/big", 0, 0)  # the store still answers


def test_list_and_delete(store: ObjectStore) -> None:
    for key in ("media/t/v1/b", "media/t/v1/a", "media/u/v1/a", "catalog/x"):
        store.put_bytes(key, b"x")
    assert list(store.list("media/t/")) == ["media/t/v1/a", "media/t/v1/b"]
    assert list(store.list("media/")) == ["media/t/v1/a", "media/t/v1/b", "media/u/v1/a"]
    assert list(store.list("nothing/")) == []
    store.delete("media/t/v1/a")
    store.delete("media/t/v1/a")  # deleting twice is fine
    assert not store.exists("media/t/v1/a")
    assert store.exists("media/t/v1/b")


def test_missing_objects(store: ObjectStore) -> None:
    for read in (store.stat, store.get_bytes, store.read_versioned, store.get_stream):
        with pytest.raises(ObjectNotFoundError, match="no object at nope/x"):
            read("nope/x")  # get_stream raises on the call, before any chunk is asked for
    with pytest.raises(ObjectNotFoundError):
        store.get_range("nope/x", 0, 1)
    assert not store.exists("nope/x")


def test_compare_and_swap(store: ObjectStore) -> None:
    created = store.put_if("catalog/t.json", b'{"n": 1}', None, "application/json")
    with pytest.raises(WriteConflictError):
        store.put_if("catalog/t.json", b'{"n": 9}', None)  # create only if absent
    data, etag = store.read_versioned("catalog/t.json")
    assert (data, etag) == (b'{"n": 1}', created.etag)
    updated = store.put_if("catalog/t.json", b'{"n": 2}', etag)
    assert updated.etag != etag
    with pytest.raises(WriteConflictError):
        store.put_if("catalog/t.json", b'{"n": 3}', etag)  # stale: someone wrote since
    assert store.get_bytes("catalog/t.json") == b'{"n": 2}'
    assert list(store.list("catalog/")) == ["catalog/t.json"]  # no lock files in listings


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "/abs", "a//b", "a\\b", "", ".hidden", "a/."])
def test_keys_are_validated(store: ObjectStore, key: str) -> None:
    with pytest.raises(StorageError, match="invalid object key"):
        store.put_bytes(key, b"x")
    with pytest.raises(StorageError, match="invalid object key"):
        store.stat(key)
