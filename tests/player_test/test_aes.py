"""HLS AES-128 segment decryption (RFC 8216bis §5.2) on the NIST SP 800-38A CBC vector."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from player_test.aes import decrypt, segment_iv
from player_test.media import MediaError

# NIST SP 800-38A F.2.1 CBC-AES128.Encrypt, first block.
KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
IV = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
PLAIN = bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")
CIPHER = bytes.fromhex("7649abac8119b246cee98e9b12e9197d")


def padded_ciphertext() -> bytes:
    """The NIST block followed by a whole block of PKCS7 padding (16 x 0x10), chained on it."""
    encryptor = Cipher(algorithms.AES(KEY), modes.CBC(CIPHER)).encryptor()
    return CIPHER + encryptor.update(bytes([16]) * 16) + encryptor.finalize()


def test_decrypts_the_nist_vector_and_strips_the_padding() -> None:
    assert decrypt(KEY, IV, padded_ciphertext()) == PLAIN


def test_a_wrong_key_is_bad_padding() -> None:
    with pytest.raises(MediaError, match="bad PKCS7 padding"):
        decrypt(bytes(16), IV, padded_ciphertext())


def test_a_partial_block_is_refused() -> None:
    with pytest.raises(MediaError, match="whole number of AES blocks"):
        decrypt(KEY, IV, CIPHER[:15])


@pytest.mark.parametrize(
    ("attribute", "sequence", "iv"),
    [
        (None, 0, bytes(16)),
        (None, 7, bytes(15) + b"\x07"),  # the media sequence number, big-endian
        ("0x000102030405060708090A0B0C0D0E0F", 7, IV),
    ],
    ids=["sequence-0", "sequence-7", "explicit-iv"],
)
def test_segment_iv(attribute: str | None, sequence: int, iv: bytes) -> None:
    assert segment_iv(attribute, sequence) == iv


def test_a_short_iv_attribute_is_refused() -> None:
    with pytest.raises(MediaError, match="not 128 bits"):
        segment_iv("0x1234", 0)
