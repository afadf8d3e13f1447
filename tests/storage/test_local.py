from __future__ import annotations

import hashlib
import os
import stat
from typing import TYPE_CHECKING

import pytest

from storage.local import LocalStore
from vodpipe.errors import ObjectNotFoundError, StorageError

if TYPE_CHECKING:
    from pathlib import Path


def test_put_stat_get(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    info = store.put_bytes("media/t/v1/master.m3u8", b"#EXTM3U\n")
    assert info.size == 8
    assert info.etag == hashlib.sha256(b"#EXTM3U\n").hexdigest()
    assert info.last_modified.tzinfo is not None
    assert store.get_bytes("media/t/v1/master.m3u8") == b"#EXTM3U\n"
    assert store.get_range("media/t/v1/master.m3u8", 1, 3) == b"EXT"
    assert store.stat("media/t/v1/master.m3u8") == info
    assert store.local_path("media/t/v1/master.m3u8") == (tmp_path / "media/t/v1/master.m3u8").resolve()


def test_etag_follows_the_content(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    first = store.put_bytes("a/b", b"one").etag
    second = store.put_bytes("a/b", b"two").etag
    assert first != second == hashlib.sha256(b"two").hexdigest()


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    source = tmp_path / "src.bin"
    source.write_bytes(os.urandom(3 << 20))
    store.put_file("media/x/seg.m4s", source)
    assert store.get_bytes("media/x/seg.m4s") == source.read_bytes()
    assert [p.name for p in (tmp_path / "media/x").iterdir()] == ["seg.m4s"]


def test_a_failed_write_keeps_the_old_object(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("k/v", b"old")
    with pytest.raises(FileNotFoundError):
        store.put_file("k/v", tmp_path / "missing")
    assert store.get_bytes("k/v") == b"old"
    assert [p.name for p in (tmp_path / "k").iterdir()] == ["v"]


def test_list_and_delete(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for key in ("media/t/v1/b", "media/t/v1/a", "media/u/v1/a", "catalog/x"):
        store.put_bytes(key, b"x")
    assert list(store.list("media/t/")) == ["media/t/v1/a", "media/t/v1/b"]
    assert list(store.list("media/")) == ["media/t/v1/a", "media/t/v1/b", "media/u/v1/a"]
    assert list(store.list("nothing/")) == []
    store.delete("media/t/v1/a")
    store.delete("media/t/v1/a")  # deleting twice is fine
    assert not store.exists("media/t/v1/a")
    assert store.exists("media/t/v1/b")


def test_missing_objects(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(ObjectNotFoundError, match="no object at nope/x"):
        store.stat("nope/x")
    with pytest.raises(ObjectNotFoundError):
        store.get_bytes("nope/x")


@pytest.mark.parametrize(
    "key", ["../escape", "a/../../b", "/abs", "a//b", "a\\b", "a/\x00", "", ".hidden", "a/."]
)
def test_keys_cannot_leave_the_root(tmp_path: Path, key: str) -> None:
    with pytest.raises(StorageError, match="invalid object key"):
        LocalStore(tmp_path).put_bytes(key, b"x")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["umask-022", "umask-077"])
def test_published_objects_are_world_readable_and_private_ones_are_not(tmp_path: Path, umask: int) -> None:
    """Another user (nginx, a CDN origin-pull, a backup job) reads media/; nothing else."""
    previous = os.umask(umask)
    try:
        store = LocalStore(tmp_path / "data")
        store.put_bytes("media/t/v1/video/720p/seg-00001.m4s", b"segment")
        source = tmp_path / "master.mp4"
        source.write_bytes(b"master")
        store.put_file("masters/t/abc.mp4", source)
        store.put_bytes("keys/k1.json", b"{}")
        store.put_bytes("catalog/titles/t.json", b"{}")
        store.put_bytes("work/t/job.json", b"{}")
    finally:
        os.umask(previous)
    root = tmp_path / "data"
    assert _mode(root) == 0o755  # others can reach media/ through the root the store made
    assert _mode(root / "media/t/v1/video/720p/seg-00001.m4s") == 0o644
    for folder in ("media", "media/t", "media/t/v1", "media/t/v1/video", "media/t/v1/video/720p"):
        assert _mode(root / folder) == 0o755, folder
    for key in ("masters/t/abc.mp4", "keys/k1.json", "catalog/titles/t.json", "work/t/job.json"):
        assert _mode(root / key) == 0o600, key
    for folder in ("masters", "masters/t", "keys", "catalog", "catalog/titles", "work", "work/t"):
        assert _mode(root / folder) == 0o700, folder


def test_rewriting_an_object_keeps_its_mode(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("media/t/v1/master.m3u8", b"one")
    store.put_bytes("media/t/v1/master.m3u8", b"two")
    store.put_bytes("catalog/titles/t.json", b"one")
    store.put_bytes("catalog/titles/t.json", b"two")
    assert _mode(tmp_path / "media/t/v1/master.m3u8") == 0o644
    assert _mode(tmp_path / "catalog/titles/t.json") == 0o600
