"""The tus 1.0.0 resumable-upload protocol: header grammar and decisions, no I/O.

Spec: https://tus.io/protocols/resumable-upload (core protocol, and the creation, checksum and
termination extensions). The HTTP handlers in ``ingest.api`` call these functions and only move
bytes; every rule about headers is here, where a unit test can reach it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vodpipe.errors import (
    PayloadTooLargeError,
    RequestError,
    TusVersionError,
    UnsupportedMediaTypeError,
    UploadOffsetError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

TUS_VERSION = "1.0.0"
EXTENSIONS = ("creation", "checksum", "termination")
# Checksum extension: "The Server MUST support at least the SHA1 checksum algorithm."
CHECKSUM_ALGORITHMS = ("sha1", "sha256")
PATCH_CONTENT_TYPE = "application/offset+octet-stream"
_DIGITS = re.compile(r"[0-9]{1,19}")
# Creation extension, Upload-Metadata: "The key SHOULD be ASCII encoded ... MUST NOT contain
# spaces and commas"; the value is Base64-encoded and may be absent.
_META_KEY = re.compile(r"[!-+\--~]+")


def check_version(headers: Mapping[str, str]) -> None:
    """Core, Tus-Resumable: every request but OPTIONS names the version, else 412."""
    version = headers.get("Tus-Resumable")
    if version != TUS_VERSION:
        shown = f"{version!r}" if version is not None else "none"
        raise TusVersionError(f"this server speaks tus {TUS_VERSION}; the request's Tus-Resumable is {shown}")


def _non_negative(name: str, value: str | None) -> int:
    if value is None:
        raise RequestError(f"{name} header is required")
    if not _DIGITS.fullmatch(value.strip()):
        raise RequestError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def parse_length(value: str | None, max_size: int) -> int:
    """Creation, Upload-Length. Deferred lengths are not offered (no creation-defer-length)."""
    length = _non_negative("Upload-Length", value)
    if length > max_size:
        raise PayloadTooLargeError(f"Upload-Length {length} exceeds the maximum of {max_size} bytes")
    return length


def parse_metadata(value: str | None) -> dict[str, str]:
    """Creation, Upload-Metadata: comma-separated ``key base64value`` pairs (value optional)."""
    if value is None or not value.strip():
        return {}
    result: dict[str, str] = {}
    for pair in value.split(","):
        parts = pair.strip().split(" ")
        key = parts[0]
        if not _META_KEY.fullmatch(key) or len(parts) > 2:
            raise RequestError(f"Upload-Metadata pair {pair.strip()!r} is not 'key base64value'")
        if key in result:
            raise RequestError(f"Upload-Metadata names {key!r} twice")  # "keys MUST be unique"
        try:
            raw = base64.b64decode(parts[1], validate=True) if len(parts) == 2 else b""
            result[key] = raw.decode()
        except (binascii.Error, UnicodeDecodeError):
            raise RequestError(f"Upload-Metadata value of {key!r} is not Base64 of UTF-8 text") from None
    return result


def encode_metadata(metadata: Mapping[str, str]) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in metadata.items())


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    digest: bytes

    def matches(self, actual: bytes) -> bool:
        return self.digest == actual


def parse_checksum(value: str | None) -> Checksum | None:
    """Checksum, Upload-Checksum: ``algorithm base64digest``; an unsupported algorithm is 400."""
    if value is None:
        return None
    parts = value.strip().split(" ")
    if len(parts) != 2:
        raise RequestError(f"Upload-Checksum {value!r} is not 'algorithm base64digest'")
    algorithm, encoded = parts
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise RequestError(
            f"Upload-Checksum algorithm {algorithm!r} is not supported (use {', '.join(CHECKSUM_ALGORITHMS)})"
        )
    try:
        digest = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise RequestError("Upload-Checksum digest is not Base64") from None
    if len(digest) != hashlib.new(algorithm).digest_size:
        raise RequestError(f"Upload-Checksum digest has the wrong length for {algorithm}")
    return Checksum(algorithm, digest)


@dataclass(frozen=True)
class Patch:
    """What a valid PATCH may write: from ``offset``, at most ``limit`` bytes, checked by ``checksum``."""

    offset: int
    limit: int
    checksum: Checksum | None


def check_patch(headers: Mapping[str, str], offset: int, length: int) -> Patch:
    """Core, PATCH: the decisions taken before one body byte is read, in the spec's order."""
    content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type != PATCH_CONTENT_TYPE:
        raise UnsupportedMediaTypeError(f"a PATCH body must be {PATCH_CONTENT_TYPE}, not {content_type!r}")
    claimed = _non_negative("Upload-Offset", headers.get("Upload-Offset"))
    if claimed != offset:
        # "If the offsets do not match, the Server MUST respond with the 409 Conflict status".
        raise UploadOffsetError(f"Upload-Offset is {claimed} but the upload is at byte {offset}; HEAD it")
    checksum = parse_checksum(headers.get("Upload-Checksum"))
    remaining = length - offset
    declared = headers.get("Content-Length")
    if declared is not None and _non_negative("Content-Length", declared) > remaining:
        raise PayloadTooLargeError(f"the body would pass Upload-Length: only {remaining} bytes remain")
    return Patch(offset, remaining, checksum)


def capability_headers(max_size: int) -> dict[str, str]:
    """Core, OPTIONS: what this server speaks."""
    return {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": ",".join(EXTENSIONS),
        "Tus-Max-Size": str(max_size),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
    }
