"""Common encryption of one sample (ISO/IEC 23001-7 §9 ``cenc`` and §10.4 ``cbcs``): pure functions.

A sample is a run of subsamples, each some clear bytes then some protected bytes; a sample
without subsamples is protected whole. AES runs in a few large OpenSSL calls per sample, and
one :class:`SampleCipher` (one AES context) serves every sample of a track:

- ``cenc`` (§9.1): AES-128-CTR. The protected bytes of all subsamples form one key stream that
  starts from the sample's IV (8 bytes, then a 64-bit block counter from zero): the context is
  given the sample's counter block, then each protected range runs through it in turn.
- ``cbcs`` (§10.4): AES-128-CBC with a pattern of ``crypt`` encrypted 16-byte blocks then
  ``skip`` clear ones over each subsample's protected range; the chain restarts from the constant
  IV at every subsample and runs only through the encrypted blocks (§9.6), and a trailing partial
  block stays clear. Each subsample's encrypted blocks are gathered with a few strided copies,
  encrypted in one call and scattered back. A 0:0 pattern encrypts every whole block (audio, §10.4.1).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

Scheme = Literal["cenc", "cbcs"]
SCHEMES: tuple[Scheme, ...] = ("cenc", "cbcs")
BLOCK = 16
# §10.4.1: the pattern that cbcs video uses everywhere (1 encrypted block in 10).
VIDEO_PATTERN = (1, 9)
NO_PATTERN = (0, 0)
CENC_IV_SIZE = 8


class Subsample(NamedTuple):
    """§7.2.2 senc subsample entry: clear bytes, then protected bytes (a tuple: one is made per
    NAL unit run, and a tuple is quick to make and to pack)."""

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


_WORD = 8  # the widest memoryview item: a block is two of them


def crypt_pattern(
    region: memoryview, crypt: int, skip: int, transform: Callable[[bytearray], bytes]
) -> None:
    """Run the blocks that a crypt:skip pattern encrypts in ``region`` through ``transform``
    (all of them in one call, one after another), and put its output back in their place.

    A block is two 8-byte memoryview items, so each item column of the encrypted runs moves in
    one strided copy (2 for 1:9), never a Python step per block. §10.4.2: a trailing partial
    block, and whole blocks after the last encrypted run, stay as they are.
    """
    period = crypt + skip
    rows, extra = divmod(len(region) // BLOCK, period)
    extra = min(crypt, extra)  # whole blocks encrypted after the last full period
    if extra == crypt:  # a full encrypted run: one more row
        rows, extra = rows + 1, 0
    run = crypt * BLOCK
    gathered = bytearray(rows * run + extra * BLOCK)
    columns, stride = run // _WORD, period * BLOCK // _WORD
    rest = rows * period * BLOCK  # where the extra blocks start
    if rows:
        # From the first row's start to the last row's encrypted end.
        blocks = region[: (rows - 1) * period * BLOCK + run].cast("Q")
        into = memoryview(gathered)[: rows * run].cast("Q")
        for j in range(columns):
            into[j::columns] = blocks[j::stride]
    if extra:
        gathered[rows * run :] = region[rest : rest + extra * BLOCK]
    crypted = memoryview(transform(gathered))
    if rows:
        back = crypted[: rows * run].cast("Q")
        for j in range(columns):
            blocks[j::stride] = back[j::columns]
    if extra:
        region[rest : rest + extra * BLOCK] = crypted[rows * run :]


def _xor_block(a: bytes | bytearray | memoryview, b: bytes, c: bytes) -> bytes:
    return (
        int.from_bytes(a, "big") ^ int.from_bytes(b, "big") ^ int.from_bytes(c, "big")
    ).to_bytes(BLOCK, "big")


class SampleCipher:
    """Encrypts (or decrypts) sample after sample under one key, scheme and pattern.

    Making an AES context costs more than encrypting a typical sample, so one context serves
    them all. ``cenc``: the CTR context is given each sample's counter block (reset_nonce), and
    a sample's protected ranges run through it in turn, one key stream. ``cbcs``: each
    subsample's chain must start from the IV (§10.4.2) while a CBC context chains from the last
    ciphertext block it saw; since CBC xors that block into the first plaintext block, xoring
    (last block ^ IV) into the first block as well makes the chain start from the IV, exactly.
    """

    def __init__(
        self, key: bytes, scheme: Scheme, pattern: tuple[int, int] = NO_PATTERN, *, decrypt: bool = False
    ) -> None:
        self.scheme = scheme
        self.crypt, self.skip = pattern
        self.decrypt = decrypt
        self._aes = algorithms.AES(key)
        self._ctr = Cipher(self._aes, modes.CTR(bytes(BLOCK))).encryptor()  # CTR is its own inverse
        self._cbc: CipherContext | None = None
        self._chain = b""  # the last ciphertext block that the CBC context chained from

    def transform_into(
        self, iv: bytes, data: bytes | memoryview, subsamples: Sequence[Subsample] | None, out: memoryview
    ) -> None:
        """Write the sample, its protected ranges encrypted (or decrypted), into ``out``."""
        if len(out) != len(data):
            raise ValueError(f"the output holds {len(out)} bytes, the sample has {len(data)}")
        ranges = _ranges(len(data), subsamples)
        source = memoryview(data)
        if self.scheme == "cenc":
            counter = iv + bytes(BLOCK - CENC_IV_SIZE) if len(iv) == CENC_IV_SIZE else iv
            if len(counter) != BLOCK:
                raise ValueError(f"a cenc IV is 8 or 16 bytes, got {len(iv)}")
            self._ctr.reset_nonce(counter)
            if ranges != [(0, len(data))]:
                out[:] = source
            for a, b in ranges:
                if b > a:
                    self._ctr.update_into(source[a:b], out[a:b])
            return
        if len(iv) != BLOCK:
            raise ValueError(f"a cbcs IV is 16 bytes, got {len(iv)}")
        out[:] = source
        for a, b in ranges:
            if b - a >= BLOCK:  # §10.4.2: a trailing partial block is left clear
                self._cbc_range(iv, out[a:b])

    def _cbc_range(self, iv: bytes, region: memoryview) -> None:
        """CBC over a subsample's protected range, in place, with the chain starting from ``iv``."""
        if self._cbc is None:
            cipher = Cipher(self._aes, modes.CBC(iv))
            self._cbc = cipher.decryptor() if self.decrypt else cipher.encryptor()
            self._chain = iv
        previous = self._chain
        restart = previous != iv
        context = self._cbc

        def chain(blocks: bytearray | memoryview) -> bytes:
            if restart and not self.decrypt:
                blocks[:BLOCK] = _xor_block(blocks[:BLOCK], previous, iv)
            result = context.update(blocks)
            self._chain = bytes(blocks[-BLOCK:]) if self.decrypt else result[-BLOCK:]
            return result

        if self.skip and not self.crypt:  # 0:N encrypts no block at all
            return
        if self.skip:
            crypt_pattern(region, self.crypt, self.skip, chain)
        else:  # 0:0 or N:0: every whole block, one contiguous run
            whole = len(region) // BLOCK * BLOCK
            region[:whole] = chain(region[:whole])
        if restart and self.decrypt:
            region[:BLOCK] = _xor_block(region[:BLOCK], previous, iv)


def _transform(
    key: bytes,
    iv: bytes,
    data: bytes,
    subsamples: Sequence[Subsample] | None,
    scheme: Scheme,
    pattern: tuple[int, int],
    decrypt: bool,
) -> bytes:
    out = bytearray(len(data))
    SampleCipher(key, scheme, pattern, decrypt=decrypt).transform_into(iv, data, subsamples, memoryview(out))
    return bytes(out)


def encrypt_sample(
    key: bytes,
    iv: bytes,
    data: bytes,
    subsamples: Sequence[Subsample] | None,
    scheme: Scheme,
    pattern: tuple[int, int] = NO_PATTERN,
) -> bytes:
    """The sample with its protected ranges encrypted (``pattern`` is cbcs's crypt:skip)."""
    return _transform(key, iv, data, subsamples, scheme, pattern, decrypt=False)


def decrypt_sample(
    key: bytes,
    iv: bytes,
    data: bytes,
    subsamples: Sequence[Subsample] | None,
    scheme: Scheme,
    pattern: tuple[int, int] = NO_PATTERN,
) -> bytes:
    """The inverse of :func:`encrypt_sample` (CTR is its own inverse)."""
    return _transform(key, iv, data, subsamples, scheme, pattern, decrypt=True)
