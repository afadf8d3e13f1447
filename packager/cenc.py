"""Common encryption of one sample (ISO/IEC 23001-7 §9 ``cenc`` and §10.4 ``cbcs``): pure functions.

A sample is a run of subsamples, each some clear bytes then some protected bytes; a sample
without subsamples is protected whole. AES runs in a few large OpenSSL calls per sample:

- ``cenc`` (§9.1): AES-128-CTR. The protected bytes of all subsamples form one key stream that
  starts from the sample's IV (8 bytes, then a 64-bit block counter from zero), so they are
  gathered, encrypted in one call and scattered back.
- ``cbcs`` (§10.4): AES-128-CBC with a pattern of ``crypt`` encrypted 16-byte blocks then
  ``skip`` clear ones over each subsample's protected range; the chain restarts from the constant
  IV at every subsample and runs only through the encrypted blocks (§9.6), and a trailing partial
  block stays clear. Each subsample's encrypted blocks are gathered with strided slices,
  encrypted in one call and scattered back. A 0:0 pattern encrypts every whole block (audio, §10.4.1).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

Scheme = Literal["cenc", "cbcs"]
SCHEMES: tuple[Scheme, ...] = ("cenc", "cbcs")
BLOCK = 16
# §10.4.1: the pattern that cbcs video uses everywhere (1 encrypted block in 10).
VIDEO_PATTERN = (1, 9)
NO_PATTERN = (0, 0)
CENC_IV_SIZE = 8


@dataclass(frozen=True)
class Subsample:
    """§7.2.2 senc subsample entry: clear bytes, then protected bytes."""

    clear: int
    protected: int


IvSource = Callable[[], bytes]


def counter_ivs(start: bytes | None = None) -> IvSource:
    """Per-sample 8-byte ``cenc`` IVs: a random start, then +1 per sample (§9.1: IVs never repeat
    under one key; with 8-byte IVs the low 64 bits of the counter block count blocks)."""
    value = int.from_bytes(start if start is not None else secrets.token_bytes(CENC_IV_SIZE), "big")

    def next_iv() -> bytes:
        nonlocal value
        iv = value.to_bytes(CENC_IV_SIZE, "big")
        value = (value + 1) % (1 << 64)
        return iv

    return next_iv


Key = bytes | algorithms.AES  # a caller encrypting many samples passes the AES object, made once


def _aes(key: Key) -> algorithms.AES:
    return key if isinstance(key, algorithms.AES) else algorithms.AES(key)


def _ranges(size: int, subsamples: Sequence[Subsample] | None) -> list[tuple[int, int]]:
    """(start, end) of each protected range, checked against the sample's size."""
    if not subsamples:
        return [(0, size)]
    out = []
    pos = 0
    for s in subsamples:
        pos += s.clear
        out.append((pos, pos + s.protected))
        pos += s.protected
    if pos != size:
        raise ValueError(f"subsamples cover {pos} bytes, the sample has {size}")
    return out


def _ctr(key: Key, iv: bytes, data: bytes, ranges: list[tuple[int, int]]) -> bytes:
    counter = iv + bytes(BLOCK - len(iv)) if len(iv) == CENC_IV_SIZE else iv
    if len(counter) != BLOCK:
        raise ValueError(f"a cenc IV is 8 or 16 bytes, got {len(iv)}")
    if ranges == [(0, len(data))]:
        return Cipher(_aes(key), modes.CTR(counter)).encryptor().update(data)
    view = memoryview(data)
    stream = b"".join(view[a:b] for a, b in ranges)
    crypted = memoryview(Cipher(_aes(key), modes.CTR(counter)).encryptor().update(stream))
    out = bytearray(data)
    pos = 0
    for a, b in ranges:
        out[a:b] = crypted[pos : pos + b - a]
        pos += b - a
    return bytes(out)


def _pattern_columns(whole: int, crypt: int, skip: int) -> tuple[int, int, int]:
    """Full pattern periods, bytes encrypted per period, and whole blocks encrypted after them."""
    period = crypt + skip
    full = whole // period
    return full, crypt * BLOCK, min(crypt, whole - full * period)


def _cbc(
    key: Key,
    iv: bytes,
    data: bytes,
    ranges: list[tuple[int, int]],
    pattern: tuple[int, int],
    encrypt: bool,
) -> bytes:
    if len(iv) != BLOCK:
        raise ValueError(f"a cbcs IV is 16 bytes, got {len(iv)}")
    crypt, skip = pattern
    algorithm = _aes(key)
    out = bytearray(data)
    for a, b in ranges:
        whole = (b - a) // BLOCK  # §10.4.2: a trailing partial block is left clear
        if whole == 0:
            continue
        cipher = Cipher(algorithm, modes.CBC(iv))
        ctx = cipher.encryptor() if encrypt else cipher.decryptor()
        if not skip:  # 0:0 or N:0: every whole block, one contiguous run
            out[a : a + whole * BLOCK] = ctx.update(bytes(out[a : a + whole * BLOCK]))
            continue
        # Gather the pattern's encrypted blocks with one strided slice per byte column of a
        # period's encrypted run (16 slices for 1:9), not a Python step per block.
        full, run, tail = _pattern_columns(whole, crypt, skip)
        stride = (crypt + skip) * BLOCK
        last = a + stride * (full - 1) + 1
        gathered = bytearray(full * run + tail * BLOCK)
        for j in range(run if full else 0):
            gathered[j : full * run : run] = out[a + j : last + j : stride]
        tail_at = a + full * stride
        gathered[full * run :] = out[tail_at : tail_at + tail * BLOCK]
        crypted = ctx.update(bytes(gathered))
        for j in range(run if full else 0):
            out[a + j : last + j : stride] = crypted[j : full * run : run]
        out[tail_at : tail_at + tail * BLOCK] = crypted[full * run :]
    return bytes(out)


def encrypt_sample(
    key: Key,
    iv: bytes,
    data: bytes,
    subsamples: Sequence[Subsample] | None,
    scheme: Scheme,
    pattern: tuple[int, int] = NO_PATTERN,
) -> bytes:
    """The sample with its protected ranges encrypted (``pattern`` is cbcs's crypt:skip)."""
    ranges = _ranges(len(data), subsamples)
    if scheme == "cenc":
        return _ctr(key, iv, data, ranges)
    return _cbc(key, iv, data, ranges, pattern, encrypt=True)


def decrypt_sample(
    key: Key,
    iv: bytes,
    data: bytes,
    subsamples: Sequence[Subsample] | None,
    scheme: Scheme,
    pattern: tuple[int, int] = NO_PATTERN,
) -> bytes:
    """The inverse of :func:`encrypt_sample` (CTR is its own inverse)."""
    ranges = _ranges(len(data), subsamples)
    if scheme == "cenc":
        return _ctr(key, iv, data, ranges)
    return _cbc(key, iv, data, ranges, pattern, encrypt=False)
