"""HLS ``METHOD=AES-128``: whole segments encrypted with AES-128-CBC and PKCS7 padding.

RFC 8216bis §5.2: the key is the 16 bytes at the key URI; the IV is the tag's IV attribute, or
else the segment's Media Sequence Number as a 128-bit big-endian integer.
"""

from __future__ import annotations

from dataclasses import dataclass

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
