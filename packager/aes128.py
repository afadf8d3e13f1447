"""An HLS variant set with ``METHOD=AES-128`` for clients without EME (RFC 8216 §5.2).

Some clients (older set-top boxes, smart TVs, players without Encrypted Media Extensions) cannot
decrypt cenc/cbcs samples, but every HLS client can decrypt whole segments: each file, the init
segment included, is AES-128-CBC encrypted with PKCS7 padding, and the key is fetched from the
``EXT-X-KEY`` URI. The variant set is built from the *clear* CMAF files, under its own folder
(``hls-aes128/video/360p/...``) with its own media playlists and multivariant playlist
(``master-aes128.m3u8``), so the cenc/cbcs presentation is untouched.

Its key is a separate content key: a key used with AES-CBC over whole segments must not also be
used for cbcs or cenc (two modes under one key give an attacker more material per key).

Every file gets its own random IV, written as the tag's IV attribute: §4.3.2.4 requires an IV for
an encrypted EXT-X-MAP, and explicit random IVs keep the init segment and segment N from sharing
the media-sequence default.

I-frame playlists are not offered: their byte ranges address plaintext offsets, which whole-file
CBC encryption does not preserve.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from packager import hls
from packager.model import INIT_NAME, MEDIA_PLAYLIST, segment_name
from vodpipe.errors import PackagingError

if TYPE_CHECKING:
    from pathlib import Path

    from drm.keys import ContentKey, RandomBytes
    from packager.model import Presentation, Rendition

FOLDER = "hls-aes128"
MASTER = "master-aes128.m3u8"


def encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-128-CBC over ``data`` padded with PKCS7 (RFC 5652 §6.3), as RFC 8216 §5.2 requires."""
    if len(key) != 16 or len(iv) != 16:
        raise PackagingError("AES-128 needs a 16-byte key and a 16-byte IV")
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def key_tag(uri: str, iv: bytes) -> str:
    """``EXT-X-KEY`` for one file: the key URI and its explicit IV (§4.3.2.4)."""
    return f'#EXT-X-KEY:METHOD=AES-128,URI="{uri}",IV=0x{iv.hex()}'


def keyed_playlist(clear: str, uri: str, ivs: list[bytes]) -> str:
    """A clear media playlist with a key tag before its EXT-X-MAP and before each segment.

    ``ivs``: the init segment's IV, then one per segment in playlist order.
    """
    lines: list[str] = []
    pending = iter(ivs)
    for line in clear.splitlines():
        if line.startswith(("#EXT-X-MAP:", "#EXTINF:")):
            iv = next(pending, None)
            if iv is None:
                raise PackagingError("fewer IVs than files in the playlist")
            lines.append(key_tag(uri, iv))
        lines.append(line)
    if next(pending, None) is not None:
        raise PackagingError("more IVs than files in the playlist")
    return "\n".join(lines) + "\n"


def variant_master(clear_master: str) -> str:
    """The multivariant playlist pointing into ``FOLDER``, without I-frame streams."""
    lines = []
    for line in clear_master.splitlines():
        if line.startswith("#EXT-X-I-FRAME-STREAM-INF:"):
            continue
        if line.startswith("#EXT-X-MEDIA:"):
            line = re.sub(r'([:,])URI="', rf'\1URI="{FOLDER}/', line)
        elif line and not line.startswith("#"):
            line = f"{FOLDER}/{line}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _encrypt_rendition(
    rendition: Rendition, clear: Path, out: Path, key: ContentKey, uri: str, random_bytes: RandomBytes
) -> None:
    src, dst = clear / rendition.path, out / FOLDER / rendition.path
    dst.mkdir(parents=True, exist_ok=True)
    names = [INIT_NAME, *(segment_name(s.number) for s in rendition.segments)]
    ivs = [random_bytes(16) for _ in names]
    for name, iv in zip(names, ivs, strict=True):
        (dst / name).write_bytes(encrypt(key.key, iv, (src / name).read_bytes()))
    (dst / MEDIA_PLAYLIST).write_text(keyed_playlist(hls.media_playlist(rendition), uri, ivs))


def write_variant(
    presentation: Presentation,
    clear: Path,
    out: Path,
    key: ContentKey,
    key_uri: str,
    start_bitrate: int = hls.DEFAULT_START_BITRATE,
    random_bytes: RandomBytes = secrets.token_bytes,
) -> None:
    """Encrypt the clear CMAF files under ``clear`` into ``out/FOLDER`` and write the playlists.

    ``key_uri`` is the absolute URI of ``key`` at the license server.
    """
    for rendition in (*presentation.video, *presentation.audio):
        _encrypt_rendition(rendition, clear, out, key, key_uri, random_bytes)
    (out / MASTER).write_text(variant_master(hls.master_playlist(presentation, start_bitrate)))
