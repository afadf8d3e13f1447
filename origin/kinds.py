"""What kind of object a key names: its Content-Type and its cache class."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from vodpipe.errors import ObjectNotFoundError


class CacheClass(enum.Enum):
    IMMUTABLE = "immutable"  # init and media segments: a republish writes a new version
    MANIFEST = "manifest"


@dataclass(frozen=True)
class Kind:
    content_type: str
    cache: CacheClass
    compressible: bool
    held: bool  # small enough to keep in memory (manifests, init segments); segments are sent from files


HLS_PLAYLIST = Kind("application/vnd.apple.mpegurl", CacheClass.MANIFEST, True, True)
DASH_MPD = Kind("application/dash+xml", CacheClass.MANIFEST, True, True)
VIDEO_INIT = Kind("video/mp4", CacheClass.IMMUTABLE, False, True)
AUDIO_INIT = Kind("audio/mp4", CacheClass.IMMUTABLE, False, True)
SEGMENT = Kind("video/iso.segment", CacheClass.IMMUTABLE, False, False)  # RFC 8216bis / ISO 23000-19
TS_SEGMENT = Kind("video/mp2t", CacheClass.IMMUTABLE, False, False)  # RFC 8216bis §3.2: MPEG-2 TS segments


def classify(key: str) -> Kind:
    """The kind of a ``media/`` key; anything else is not served."""
    name = key.rsplit("/", 1)[-1]
    if name.endswith(".m3u8"):
        return HLS_PLAYLIST
    if name.endswith(".mpd"):
        return DASH_MPD
    if name.endswith(".m4s"):
        return SEGMENT
    if name.endswith(".ts"):
        return TS_SEGMENT
    if name.endswith(".mp4"):
        return AUDIO_INIT if "/audio/" in f"/{key}" else VIDEO_INIT
    raise ObjectNotFoundError(f"{name} is not a kind of object the origin serves")
