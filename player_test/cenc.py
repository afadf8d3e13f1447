"""Common-encryption decryption for the checker (ISO/IEC 23001-7), independent of vodpipe's packager.

The checker verifies any origin's encrypted titles, vodpipe's first, so it must not share code
with the packager it checks: this module reads tenc, senc and trun with player_test.media's own
box walker and decrypts with OpenSSL's AES (via ``cryptography``):

- ``cenc`` (§10.1): AES-128-CTR; the 8- or 16-byte per-sample IV from senc is the counter block's
  upper half, and the counter runs on across a sample's protected ranges.
- ``cbcs`` (§10.4): AES-128-CBC with a pattern of ``crypt`` encrypted then ``skip`` clear 16-byte
  blocks (1:9 for video, none for audio), only whole blocks, the chain restarting from the
  constant IV (tenc) at every subsample; a protected range's trailing partial block is clear.

What comes out is the same file made clear: samples decrypted in place, the sample entry given its
original format back (frma) and the protection boxes renamed ``free``, so FFmpeg decodes it as it
would the clear title.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from player_test.media import MediaError, boxes, find

BLOCK = 16
_SAMPLE_ENTRY_CHILDREN = {"encv": 78, "enca": 28}  # VisualSampleEntry / AudioSampleEntry sizes
_SUBSAMPLES = 0x2  # senc flag: subsample information present (§7.2.1)


@dataclass(frozen=True)
class TrackEncryption:
    """tenc and schm of an init segment (§8.2)."""

    scheme: str
    kid: bytes
    iv_size: int
    crypt: int
    skip: int
    constant_iv: bytes


@dataclass(frozen=True)
class _Sample:
    offset: int  # in the segment
    size: int
    iv: bytes
    subsamples: tuple[tuple[int, int], ...]  # (clear bytes, protected bytes)


def _sample_entry(data: bytes) -> tuple[str, int, int]:
    stsd = find(data, ["moov", "trak", "mdia", "minf", "stbl", "stsd"])
    if not stsd:
        raise MediaError("no moov/trak/mdia/minf/stbl/stsd box")
    start, end = stsd[0]
    found = boxes(data, start + 8, end)
    if not found:
        raise MediaError("stsd has no sample entry")
    return found[0]


def read_track_encryption(init: bytes) -> TrackEncryption | None:
    """The track's encryption, or ``None`` for a clear sample entry."""
    kind, offset, size = _sample_entry(init)
    if kind not in _SAMPLE_ENTRY_CHILDREN:
        return None
    children = offset + 8 + _SAMPLE_ENTRY_CHILDREN[kind]
    schm = find(init, ["sinf", "schm"], children, offset + size)
    tenc = find(init, ["sinf", "schi", "tenc"], children, offset + size)
    if not schm or not tenc:
        raise MediaError(f"{kind} sample entry without sinf/schm and sinf/schi/tenc")
    scheme = init[schm[0][0] + 4 : schm[0][0] + 8].decode("latin-1")
    at = tenc[0][0]
    version = init[at]
    pattern, protected, iv_size = init[at + 5], init[at + 6], init[at + 7]
    kid = init[at + 8 : at + 24]
    constant_iv = b""
    if protected and iv_size == 0:
        constant_iv = init[at + 25 : at + 25 + init[at + 24]]
    crypt, skip = (pattern >> 4, pattern & 0xF) if version >= 1 else (0, 0)
    if scheme not in ("cenc", "cbcs"):
        raise MediaError(f"protection scheme '{scheme}' is not one the checker decrypts (cenc, cbcs)")
    return TrackEncryption(scheme, kid, iv_size, crypt, skip, constant_iv)


def clear_init(init: bytes) -> bytes:
    """The init segment as its clear original: encv/enca named by frma, sinf renamed ``free``."""
    kind, offset, size = _sample_entry(init)
    if kind not in _SAMPLE_ENTRY_CHILDREN:
        return init
    out = bytearray(init)
    children = offset + 8 + _SAMPLE_ENTRY_CHILDREN[kind]
    frma = find(init, ["sinf", "frma"], children, offset + size)
    if not frma:
        raise MediaError(f"{kind} sample entry has no sinf/frma")
    out[offset + 4 : offset + 8] = init[frma[0][0] : frma[0][0] + 4]
    for name, at, _ in boxes(init, children, offset + size):
        if name == "sinf":
            out[at + 4 : at + 8] = b"free"
    return bytes(out)


def _u32(data: bytes, at: int) -> int:
    value: int = struct.unpack_from(">I", data, at)[0]
    return value


def _traf_samples(data: bytes, moof: int, traf: tuple[int, int], enc: TrackEncryption) -> list[_Sample]:
    """Each sample's place (tfhd/trun, ISO/IEC 14496-12 §8.8.7, §8.8.8) with its senc entry."""
    parts = {name: (at, size) for name, at, size in boxes(data, *traf)}
    if "senc" not in parts:
        raise MediaError("an encrypted track's fragment has no senc")
    tfhd = parts["tfhd"][0] + 8
    tf_flags = _u32(data, tfhd) & 0xFFFFFF
    pos = tfhd + 8
    base = moof
    if tf_flags & 0x1:
        base = struct.unpack_from(">Q", data, pos)[0]
        pos += 8
    pos += 4 if tf_flags & 0x2 else 0
    pos += 4 if tf_flags & 0x8 else 0
    default_size = _u32(data, pos) if tf_flags & 0x10 else 0
    sizes: list[int] = []
    offsets: list[int] = []
    for name, at, _ in boxes(data, *traf):
        if name != "trun":
            continue
        p = at + 8
        flags, count = _u32(data, p) & 0xFFFFFF, _u32(data, p + 4)
        p += 8
        start = base + (struct.unpack_from(">i", data, p)[0] if flags & 0x1 else 0)
        p += (4 if flags & 0x1 else 0) + (4 if flags & 0x4 else 0)
        for _ in range(count):
            p += 4 if flags & 0x100 else 0
            size = _u32(data, p) if flags & 0x200 else default_size
            p += (4 if flags & 0x200 else 0) + (4 if flags & 0x400 else 0) + (4 if flags & 0x800 else 0)
            offsets.append(start)
            sizes.append(size)
            start += size
    senc = parts["senc"][0] + 8
    flags, count = _u32(data, senc) & 0xFFFFFF, _u32(data, senc + 4)
    if count != len(sizes):
        raise MediaError(f"senc has {count} entries for {len(sizes)} samples")
    p = senc + 8
    samples = []
    for offset, size in zip(offsets, sizes, strict=True):
        iv = data[p : p + enc.iv_size] if enc.iv_size else enc.constant_iv
        p += enc.iv_size
        subsamples: tuple[tuple[int, int], ...] = ((0, size),)
        if flags & _SUBSAMPLES:
            (n,) = struct.unpack_from(">H", data, p)
            subsamples = tuple(struct.unpack_from(">HI", data, p + 2 + 6 * i) for i in range(n))
            p += 2 + 6 * n
        if sum(c + e for c, e in subsamples) != size:
            raise MediaError(f"senc subsamples cover {sum(c + e for c, e in subsamples)} of {size} bytes")
        samples.append(_Sample(offset, size, iv, subsamples))
    return samples


def _decrypt_cenc(key: bytes, out: bytearray, sample: _Sample) -> None:
    ranges, pos = [], sample.offset
    for clear, protected in sample.subsamples:
        ranges.append((pos + clear, pos + clear + protected))
        pos += clear + protected
    counter = sample.iv.ljust(BLOCK, b"\0")  # an 8-byte IV is the counter block's upper half
    plain = (
        Cipher(algorithms.AES(key), modes.CTR(counter))
        .decryptor()
        .update(b"".join(out[a:b] for a, b in ranges))
    )
    at = 0
    for a, b in ranges:
        out[a:b] = plain[at : at + b - a]
        at += b - a


def _decrypt_cbcs(key: bytes, out: bytearray, sample: _Sample, enc: TrackEncryption) -> None:
    pos = sample.offset
    period = enc.crypt + enc.skip
    for clear, protected in sample.subsamples:
        start = pos + clear
        pos += clear + protected
        blocks = protected // BLOCK
        chosen = [i for i in range(blocks) if not period or i % period < enc.crypt]
        if not chosen:
            continue
        cipher = b"".join(out[start + i * BLOCK : start + (i + 1) * BLOCK] for i in chosen)
        plain = Cipher(algorithms.AES(key), modes.CBC(sample.iv)).decryptor().update(cipher)
        for n, i in enumerate(chosen):
            out[start + i * BLOCK : start + (i + 1) * BLOCK] = plain[n * BLOCK : (n + 1) * BLOCK]


def clear_segment(segment: bytes, enc: TrackEncryption, key: bytes) -> bytes:
    """A media segment decrypted in place, its senc/saiz/saio renamed ``free``."""
    out = bytearray(segment)
    for name, moof, size in boxes(segment):
        if name != "moof":
            continue
        for traf in find(segment, ["traf"], moof + 8, moof + size):
            for sample in _traf_samples(segment, moof, traf, enc):
                if sample.offset + sample.size > len(segment):
                    raise MediaError("a sample runs past the end of the segment")
                if enc.scheme == "cenc":
                    _decrypt_cenc(key, out, sample)
                else:
                    _decrypt_cbcs(key, out, sample, enc)
            for part, at, _ in boxes(segment, *traf):
                if part in ("senc", "saiz", "saio"):
                    out[at + 4 : at + 8] = b"free"
    return bytes(out)
