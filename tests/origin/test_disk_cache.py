"""The disk cache: bounded in bytes, least recently used out, written atomically, found again."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from origin.disk_cache import DiskCache, victims
from storage.base import ObjectInfo

if TYPE_CHECKING:
    from pathlib import Path

MODIFIED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _info(key: str, size: int) -> ObjectInfo:
    return ObjectInfo(key, size, "cd" * 32, MODIFIED, "video/iso.segment")


def _fill(cache: DiskCache, key: str, data: bytes) -> Path:
    return cache.fill(_info(key, len(data)), lambda tmp: tmp.write_bytes(data))


@pytest.mark.parametrize(
    ("sizes", "bound", "out"),
    [
        pytest.param({"a": 5, "b": 5}, 10, [], id="fits"),
        pytest.param({"a": 5, "b": 5, "c": 1}, 10, ["a"], id="oldest-first"),
        pytest.param({"a": 1, "b": 9, "c": 9}, 10, ["a", "b"], id="until-it-fits"),
    ],
)
def test_victims(sizes: dict[str, int], bound: int, out: list[str]) -> None:
    assert victims(OrderedDict(sizes), bound) == out


def test_the_bound_holds_and_the_least_recently_used_goes(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=4000)
    for name in "abcd":
        _fill(cache, f"media/t/v1/{name}.m4s", name.encode() * 1000)
    assert cache.used() == 4000
    assert cache.lookup("media/t/v1/a.m4s") is not None  # a is now the most recently used
    _fill(cache, "media/t/v1/e.m4s", b"e" * 1000)
    assert cache.used() <= 4000
    assert cache.lookup("media/t/v1/b.m4s") is None
    found = cache.lookup("media/t/v1/a.m4s")
    assert found is not None
    assert found[1].read_bytes() == b"a" * 1000
    on_disk = sum(p.stat().st_size for p in tmp_path.glob("*.data"))
    assert on_disk <= 4000
    assert not list(tmp_path.glob(".tmp-*"))  # nothing half-written is left


def test_a_later_process_finds_what_an_earlier_one_cached(tmp_path: Path) -> None:
    _fill(DiskCache(tmp_path, max_bytes=1 << 20), "media/t/v1/a.m4s", b"x" * 10)
    found = DiskCache(tmp_path, max_bytes=1 << 20).lookup("media/t/v1/a.m4s")
    assert found is not None
    info, path = found
    assert (info.size, info.etag, info.last_modified) == (10, "cd" * 32, MODIFIED)
    assert path.read_bytes() == b"x" * 10


def test_a_failed_write_leaves_no_entry(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=1 << 20)

    def broken(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError("store connection reset")

    with pytest.raises(OSError, match="reset"):
        cache.fill(_info("media/t/v1/a.m4s", 10), broken)
    assert cache.lookup("media/t/v1/a.m4s") is None
    assert list(tmp_path.iterdir()) == []


def test_objects_too_large_for_the_cache_are_not_accepted(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, max_bytes=4000)
    assert cache.accepts(1000)
    assert not cache.accepts(1001)
