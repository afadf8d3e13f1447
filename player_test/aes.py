"""HLS ``METHOD=AES-128``: whole segments encrypted with AES-128-CBC and PKCS7 padding.

RFC 8216bis §5.2: the key is the 16 bytes at the key URI; the IV is the tag's IV attribute, or
else the segment's Media Sequence Number as a 128-bit big-endian integer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from player_test.media import MediaError


@dataclass(frozen=True)
class SegmentKey:
    uri: str  # absolute key URI
    iv: bytes  # 16 bytes


def segment_iv(iv_attribute: str | None, media_sequence: int) -> bytes:
    """The IV of one segment: the tag's hexadecimal IV, else its media sequence number."""
    if iv_attribute:
        digits = iv_attribute.removeprefix("0x").removeprefix("0X")
        if len(digits) != 32:
            raise MediaError(f"EXT-X-KEY IV {iv_attribute!r} is not 128 bits")
        return bytes.fromhex(digits)
    return media_sequence.to_bytes(16, "big")


_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def map_key(playlist: str, url: str) -> SegmentKey | None:
    """The AES-128 key of the first EXT-X-MAP: the EXT-X-KEY in force where the tag stands
    (RFC 8216 §4.3.2.4); its IV attribute is required there (§4.3.2.5), no sequence default."""
    key: dict[str, str] = {}
    for line in playlist.splitlines():
        if line.startswith("#EXT-X-KEY:"):
            key = {name: value.strip('"') for name, value in _ATTRIBUTE.findall(line[len("#EXT-X-KEY:") :])}
        elif line.startswith("#EXT-X-MAP:"):
            break
    else:
        return None
    if key.get("METHOD") != "AES-128" or "URI" not in key:
        return None
    if "IV" not in key:
        raise MediaError("EXT-X-MAP under METHOD=AES-128 without the IV attribute §4.3.2.5 requires")
    return SegmentKey(urljoin(url, key["URI"]), segment_iv(key["IV"], 0))


def decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-128-CBC with PKCS7 padding; a wrong key almost always shows as bad padding."""
    if len(key) != 16:
        raise MediaError(f"the key is {len(key)} bytes, not 16")
    if not data or len(data) % 16:
        raise MediaError(f"{len(data)} bytes is not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        raise MediaError("does not decrypt: bad PKCS7 padding (wrong key or IV?)") from None
