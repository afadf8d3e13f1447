"""Content keys and key IDs (ISO/IEC 23001-7 §3: a 16-byte KID names a 16-byte AES-128 key).

Keys come from the operating system's CSPRNG. A key policy says which tracks share a key: one key
for the whole title (the default), or one per track class (audio, SD, HD, UHD video), as studio
security requirements ask for premium content.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from vodpipe.errors import ConfigError

# "aes128": the key of a title's HLS METHOD=AES-128 variant set (packager/aes128.py), never used
# for cenc/cbcs samples, so it is a class of its own.
TrackClass = Literal["all", "audio", "sd", "hd", "uhd", "aes128"]
KeyPolicy = Literal["single", "per-class"]
KEY_POLICIES: tuple[KeyPolicy, ...] = ("single", "per-class")
RandomBytes = Callable[[int], bytes]

# Video height (the short side) at or above which a track is HD, and UHD.
HD_HEIGHT = 720
UHD_HEIGHT = 1440


@dataclass(frozen=True)
class ContentKey:
    """One content key and its KID. ``repr`` never shows the key."""

    kid: bytes
    key: bytes = field(repr=False)
    track_class: TrackClass = "all"

    def __post_init__(self) -> None:
        if len(self.kid) != 16 or len(self.key) != 16:
            raise ConfigError("a content key and its KID are 16 bytes each")

    @property
    def kid_hex(self) -> str:
        """32 lowercase hex digits, as tenc stores it and FFmpeg/Shaka Packager take it."""
        return self.kid.hex()

    @property
    def kid_uuid(self) -> str:
        """The KID as a UUID string, as DASH ``cenc:default_KID`` writes it."""
        return str(uuid.UUID(bytes=self.kid))


def new_content_key(
    track_class: TrackClass = "all", random_bytes: RandomBytes = secrets.token_bytes
) -> ContentKey:
    """A fresh key and KID from the CSPRNG (``random_bytes`` is injected for deterministic tests)."""
    return ContentKey(random_bytes(16), random_bytes(16), track_class)


def track_class(kind: Literal["video", "audio"], height: int = 0) -> TrackClass:
    """The class of a track: audio, or video by its short side (SD < 720 <= HD < 1440 <= UHD)."""
    if kind == "audio":
        return "audio"
    if height >= UHD_HEIGHT:
        return "uhd"
    return "hd" if height >= HD_HEIGHT else "sd"


def parse_policy(value: str) -> KeyPolicy:
    for policy in KEY_POLICIES:
        if value == policy:
            return policy
    raise ConfigError(f"unknown key policy {value!r}: use one of {', '.join(KEY_POLICIES)}")


def keys_for(
    policy: KeyPolicy, classes: set[TrackClass], random_bytes: RandomBytes = secrets.token_bytes
) -> dict[TrackClass, ContentKey]:
    """The keys a title needs: under ``single`` every class maps to one key."""
    if policy == "single":
        key = new_content_key("all", random_bytes)
        return dict.fromkeys(classes, key)
    return {c: new_content_key(c, random_bytes) for c in sorted(classes)}
