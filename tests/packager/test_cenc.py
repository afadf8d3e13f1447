from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from packager.cenc import (
    NO_PATTERN,
    VIDEO_PATTERN,
    SampleCipher,
    Scheme,
    Subsample,
    counter_ivs,
    crypt_pattern,
    decrypt_sample,
    encrypt_sample,
)

# NIST SP 800-38A, Appendix F: the AES-128 key and the four plaintext blocks.
NIST_KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
NIST_PLAIN = bytes.fromhex(
    "6bc1bee22e409f96e93d7e117393172a"
    "ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef"
    "f69f2445df4f9b17ad2b417be66c3710"
)


def test_nist_f2_1_cbc_aes128_encrypt() -> None:
    iv = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
    expected = bytes.fromhex(
        "7649abac8119b246cee98e9b12e9197d"
        "5086cb9b507219ee95db113a917678b2"
        "73bed6b8e3c1743b7116e69e22229516"
        "3ff1caa1681fac09120eca307586e1a7"
    )
    # A 0:0 pattern is plain CBC over every whole block.
    assert encrypt_sample(NIST_KEY, iv, NIST_PLAIN, None, "cbcs") == expected
    assert decrypt_sample(NIST_KEY, iv, expected, None, "cbcs") == NIST_PLAIN


def test_nist_f5_1_ctr_aes128_encrypt() -> None:
    counter = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    expected = bytes.fromhex(
        "874d6191b620e3261bef6864990db6ce"
        "9806f66b7970fdff8617187bb9fffdff"
        "5ae4df3edbd5d35e5b4f09020db03eab"
        "1e031dda2fbe03d1792170a0f3009cee"
    )
    assert encrypt_sample(NIST_KEY, counter, NIST_PLAIN, None, "cenc") == expected
    assert decrypt_sample(NIST_KEY, counter, expected, None, "cenc") == NIST_PLAIN


def _ecb(key: bytes, block: bytes) -> bytes:
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(block)


def _reference_cenc(key: bytes, iv: bytes, data: bytes, subsamples: list[Subsample]) -> bytes:
    """ISO/IEC 23001-7 §9.1 written out byte by byte: one key stream across all protected bytes."""
    out = bytearray(data)
    counter = int.from_bytes(iv + bytes(8), "big")
    stream = b""
    pos = 0
    for s in subsamples:
        pos += s.clear
        for i in range(pos, pos + s.protected):
            if not stream:
                stream = _ecb(key, counter.to_bytes(16, "big"))
                counter += 1
            out[i] ^= stream[0]
            stream = stream[1:]
        pos += s.protected
    return bytes(out)


def _reference_cbcs(
    key: bytes, iv: bytes, data: bytes, subsamples: list[Subsample], crypt: int, skip: int
) -> bytes:
    """§10.4 written out block by block: chain restarts per subsample, partial tail stays clear."""
    out = bytearray(data)
    pos = 0
    for s in subsamples:
        pos += s.clear
        chain = iv
        for n in range(s.protected // 16):
            if crypt + skip and n % (crypt + skip) >= crypt:
                continue
            start = pos + 16 * n
            block = bytes(a ^ b for a, b in zip(out[start : start + 16], chain, strict=True))
            chain = _ecb(key, block)
            out[start : start + 16] = chain
        pos += s.protected
    return bytes(out)


SPLITS = [
    pytest.param([Subsample(0, 100)], id="one-protected-range-with-partial-block"),
    pytest.param([Subsample(5, 32), Subsample(3, 60)], id="two-subsamples"),
    pytest.param([Subsample(7, 0), Subsample(0, 16), Subsample(1, 15)], id="empty-and-short-ranges"),
    pytest.param([Subsample(20, 400), Subsample(2, 17), Subsample(0, 200)], id="long-ranges-many-patterns"),
    pytest.param([Subsample(120, 0)], id="all-clear"),
]


@pytest.mark.parametrize("subsamples", SPLITS)
def test_cenc_matches_reference_and_round_trips(subsamples: list[Subsample]) -> None:
    size = sum(s.clear + s.protected for s in subsamples)
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    iv = bytes.fromhex("0102030405060708")
    crypted = encrypt_sample(NIST_KEY, iv, data, subsamples, "cenc")
    assert crypted == _reference_cenc(NIST_KEY, iv, data, subsamples)
    assert decrypt_sample(NIST_KEY, iv, crypted, subsamples, "cenc") == data


@pytest.mark.parametrize("pattern", [VIDEO_PATTERN, NO_PATTERN, (5, 5)], ids=["1-9", "0-0", "5-5"])
@pytest.mark.parametrize("subsamples", SPLITS)
def test_cbcs_matches_reference_and_round_trips(
    subsamples: list[Subsample], pattern: tuple[int, int]
) -> None:
    size = sum(s.clear + s.protected for s in subsamples)
    data = (bytes(range(251)) * (size // 251 + 1))[:size]
    iv = bytes(range(16))
    crypted = encrypt_sample(NIST_KEY, iv, data, subsamples, "cbcs", pattern)
    assert crypted == _reference_cbcs(NIST_KEY, iv, data, subsamples, *pattern)
    assert decrypt_sample(NIST_KEY, iv, crypted, subsamples, "cbcs", pattern) == data
    if any(s.protected >= 16 for s in subsamples):
        assert crypted != data


@pytest.mark.parametrize("scheme", ["cenc", "cbcs"])
def test_subsamples_must_cover_the_sample(scheme: Scheme) -> None:
    iv = bytes(16) if scheme == "cbcs" else bytes(8)
    with pytest.raises(ValueError, match="cover 10 bytes, the sample has 11"):
        encrypt_sample(NIST_KEY, iv, bytes(11), [Subsample(2, 8)], scheme)


def test_counter_ivs_count_up_from_the_start() -> None:
    ivs = counter_ivs(bytes.fromhex("00000000000000ff"))
    assert [ivs().hex() for _ in range(3)] == ["00000000000000ff", "0000000000000100", "0000000000000101"]
    fresh = counter_ivs()
    assert len(fresh()) == 8


def _pattern_blocks(size: int, crypt: int, skip: int) -> list[int]:
    """Offsets of the blocks that a crypt:skip pattern encrypts in ``size`` bytes, block by block."""
    return [16 * n for n in range(size // 16) if n % (crypt + skip) < crypt]


@pytest.mark.parametrize(("crypt", "skip"), [(1, 9), (5, 5), (2, 1)], ids=["1-9", "5-5", "2-1"])
@pytest.mark.parametrize("size", [0, 15, 16, 100, 160, 161, 1600, 1615, 1632, 5000])
def test_crypt_pattern_transforms_exactly_the_pattern_blocks(size: int, crypt: int, skip: int) -> None:
    data = bytes(i * 7 % 256 for i in range(size))
    offsets = _pattern_blocks(size, crypt, skip)
    seen: list[bytes] = []

    def invert(blocks: bytearray) -> bytes:
        seen.append(bytes(blocks))
        return bytes(b ^ 0xFF for b in blocks)

    out = bytearray(data)
    crypt_pattern(memoryview(out), crypt, skip, invert)
    assert seen == [b"".join(data[o : o + 16] for o in offsets)]  # one call, in order
    expected = bytearray(data)
    for o in offsets:
        expected[o : o + 16] = bytes(b ^ 0xFF for b in data[o : o + 16])
    assert out == expected  # and nothing outside the pattern's blocks changed


SAMPLES = [
    ([Subsample(5, 32), Subsample(3, 60)], 100),
    (None, 100),
    ([Subsample(20, 400), Subsample(2, 17), Subsample(0, 200)], 639),
    ([Subsample(7, 0), Subsample(0, 16), Subsample(1, 15)], 39),
    ([Subsample(0, 1700)], 1700),
]


@pytest.mark.parametrize(
    ("scheme", "pattern"),
    [("cenc", NO_PATTERN), ("cbcs", VIDEO_PATTERN), ("cbcs", NO_PATTERN), ("cbcs", (5, 5))],
    ids=["cenc", "cbcs-1-9", "cbcs-0-0", "cbcs-5-5"],
)
def test_one_cipher_for_many_samples_matches_each_sample_alone(
    scheme: Scheme, pattern: tuple[int, int]
) -> None:
    """The context carried from sample to sample (CTR counter, CBC chain) never leaks into the next."""
    encryptor = SampleCipher(NIST_KEY, scheme, pattern)
    decryptor = SampleCipher(NIST_KEY, scheme, pattern, decrypt=True)
    for n, (subsamples, size) in enumerate(SAMPLES):
        data = bytes((i * 13 + n) % 256 for i in range(size))
        iv = bytes(range(n, n + 16)) if scheme == "cbcs" else n.to_bytes(8, "big")
        crypted = bytearray(size)
        encryptor.transform_into(iv, data, subsamples, memoryview(crypted))
        ranges = subsamples or [Subsample(0, size)]
        if scheme == "cenc":
            assert crypted == _reference_cenc(NIST_KEY, iv, data, ranges)
        else:
            assert crypted == _reference_cbcs(NIST_KEY, iv, data, ranges, *pattern)
        plain = bytearray(size)
        decryptor.transform_into(iv, bytes(crypted), subsamples, memoryview(plain))
        assert plain == data


def test_transform_into_needs_an_output_of_the_sample_size() -> None:
    with pytest.raises(ValueError, match="output holds 10 bytes, the sample has 11"):
        SampleCipher(NIST_KEY, "cenc").transform_into(bytes(8), bytes(11), None, memoryview(bytearray(10)))


def test_a_pattern_without_encrypted_blocks_leaves_samples_clear() -> None:
    data = bytes(range(200))
    for decrypt in (False, True):
        nothing = SampleCipher(NIST_KEY, "cbcs", (0, 9), decrypt=decrypt)
        out = bytearray(200)
        nothing.transform_into(bytes(16), data, None, memoryview(out))
        assert out == data
