"""The in-memory cache: entries built once, bounded in bytes, bodies that decode to the original."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import brotli
import pytest

from origin.cache_policy import CachePolicy
from origin.hot import ENTRY_COST, SMALL_MAX, HotCache, HotEntry, build_entry, holds
from origin.kinds import DASH_MPD, HLS_PLAYLIST, SEGMENT, VIDEO_INIT, Kind
from storage.base import ObjectInfo

MODIFIED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
PLAYLIST = b"#EXTM3U\n" + b"#EXTINF:4.000000,\nseg.m4s\n" * 200


def _info(key: str, size: int) -> ObjectInfo:
    return ObjectInfo(key, size, "ab" * 32, MODIFIED, "application/octet-stream")


def _manifest(key: str, data: bytes = PLAYLIST) -> HotEntry:
    return build_entry(_info(key, len(data)), HLS_PLAYLIST, data, None, CachePolicy())


def test_a_manifest_entry_holds_every_coding_decoding_to_the_original() -> None:
    entry = _manifest("media/t/v1/master.m3u8")
    reps = entry.representations
    assert entry.codings == ("gzip", "br", "identity")
    assert reps["identity"].body == PLAYLIST
    assert gzip.decompress(reps["gzip"].body or b"") == PLAYLIST
    assert brotli.decompress(reps["br"].body or b"") == PLAYLIST
    assert len(reps["br"].body or b"") < len(PLAYLIST)
    assert [reps[c].etag for c in entry.codings] == [
        f'"{"ab" * 20}-gzip"',
        f'"{"ab" * 20}-br"',
        f'"{"ab" * 20}"',
    ]
    assert reps["br"].headers["Content-Encoding"] == "br"
    assert reps["identity"].headers["Accept-Ranges"] == "bytes"
    assert "Content-Encoding" not in reps["identity"].headers
    assert reps["gzip"].headers["Last-Modified"] == "Fri, 02 Jan 2026 03:04:05 GMT"
    assert reps["gzip"].headers["Vary"] == "Accept-Encoding"
    assert "Content-Type" not in reps["gzip"].not_modified  # a 304 describes no content
    assert "Content-Encoding" not in reps["gzip"].not_modified


def test_a_segment_entry_holds_no_body_and_offers_identity_only() -> None:
    entry = build_entry(_info("media/t/v1/v/seg-1.m4s", 5_000_000), SEGMENT, None, None, CachePolicy())
    assert entry.codings == ("identity",)
    assert entry.representations["identity"].body is None
    assert "Vary" not in entry.representations["identity"].headers
    assert entry.cost == ENTRY_COST


@pytest.mark.parametrize(
    ("kind", "size", "held"),
    [
        pytest.param(HLS_PLAYLIST, 2_000_000, True, id="large-manifest-held-to-compress-once"),
        pytest.param(DASH_MPD, 4_000, True, id="mpd"),
        pytest.param(VIDEO_INIT, 900, True, id="init"),
        pytest.param(VIDEO_INIT, SMALL_MAX + 1, False, id="huge-init-sent-as-file"),
        pytest.param(SEGMENT, 1_000, False, id="segment-always-sendfile"),
    ],
)
def test_which_bodies_are_held(kind: Kind, size: int, held: bool) -> None:
    assert holds(kind, size) is held


def test_the_cache_never_exceeds_its_byte_bound_and_evicts_the_least_recently_used() -> None:
    one = _manifest("media/t/v1/a.m3u8")
    cost = one.cost
    cache = HotCache(max_bytes=3 * cost)
    for name in "abc":
        cache.put(_manifest(f"media/t/v1/{name}.m3u8"))
    assert cache.used == 3 * cost
    assert cache.get("media/t/v1/a.m3u8") is not None  # a is now the most recently used
    cache.put(_manifest("media/t/v1/d.m3u8"))
    assert cache.used <= cache.max_bytes
    assert "media/t/v1/b.m3u8" not in cache
    assert all(f"media/t/v1/{name}.m3u8" in cache for name in "acd")


def test_an_entry_larger_than_the_cache_is_not_held() -> None:
    cache = HotCache(max_bytes=100)
    cache.put(_manifest("media/t/v1/a.m3u8"))
    assert len(cache) == 0
    assert cache.used == 0


def test_putting_a_key_again_replaces_its_cost() -> None:
    cache = HotCache(max_bytes=10 << 20)
    cache.put(_manifest("media/t/v1/a.m3u8"))
    first = cache.used
    cache.put(_manifest("media/t/v1/a.m3u8", b"#EXTM3U\n"))
    assert len(cache) == 1
    assert cache.used < first
