from __future__ import annotations

import pytest

from origin.cache_policy import CachePolicy
from origin.kinds import (
    AUDIO_INIT,
    DASH_MPD,
    HLS_PLAYLIST,
    SEGMENT,
    TS_SEGMENT,
    VIDEO_INIT,
    CacheClass,
    Kind,
    classify,
)
from vodpipe.errors import ObjectNotFoundError


def test_segments_are_immutable_for_a_year() -> None:
    headers = CachePolicy().for_content(CacheClass.IMMUTABLE)
    assert headers == {
        "Cache-Control": "public, max-age=31536000, immutable",
        "CDN-Cache-Control": "public, max-age=31536000",
    }


def test_manifests_are_short_lived_and_may_be_served_stale() -> None:
    headers = CachePolicy(manifest_max_age=10, manifest_edge_max_age=60).for_content(CacheClass.MANIFEST)
    assert headers["Cache-Control"] == "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400"
    assert (
        headers["CDN-Cache-Control"] == "public, max-age=60, stale-while-revalidate=30, stale-if-error=86400"
    )


@pytest.mark.parametrize(
    ("status", "value"),
    [(404, "public, max-age=10"), (400, "no-store"), (416, "no-store"), (500, "no-store")],
)
def test_errors_are_cached_briefly_or_not_at_all(status: int, value: str) -> None:
    headers = CachePolicy().for_error(status)
    assert headers == {"Cache-Control": value, "CDN-Cache-Control": value}


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("media/t/v/master.m3u8", HLS_PLAYLIST),
        ("media/t/v/video/720p/index.m3u8", HLS_PLAYLIST),
        ("media/t/v/manifest.mpd", DASH_MPD),
        ("media/t/v/video/720p/init.mp4", VIDEO_INIT),
        ("media/t/v/audio/en/init.mp4", AUDIO_INIT),
        ("media/t/v/audio/en/seg-00001.m4s", SEGMENT),
        ("media/t/v/stream_0/data00.ts", TS_SEGMENT),  # classic HLS from other packagers
    ],
)
def test_content_types(key: str, kind: Kind) -> None:
    assert classify(key) == kind


def test_ts_segments_are_immutable_mpeg_ts() -> None:
    assert (TS_SEGMENT.content_type, TS_SEGMENT.cache) == ("video/mp2t", CacheClass.IMMUTABLE)


@pytest.mark.parametrize("key", ["media/t/v/notes.txt", "media/t/v/enc.key", "media/t/v/stream.keyinfo"])
def test_other_files_are_not_served(key: str) -> None:
    with pytest.raises(ObjectNotFoundError):
        classify(key)


def test_notes_are_not_served() -> None:
    with pytest.raises(ObjectNotFoundError):
        classify("media/t/v/notes.txt")
