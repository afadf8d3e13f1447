"""The key store: content keys at rest in the object store, envelope-encrypted with AES-256-GCM.

Each record ``keys/{kid}.json`` holds one content key encrypted under its own fresh 256-bit data
key, and that data key wrapped by the key-encryption key (KEK) from settings. Why an envelope
rather than the KEK directly:

- rotating the KEK re-wraps 32-byte data keys only; the content-key ciphertext is not touched
  (the test checks it stays byte-identical), so a rotation cannot damage a content key;
- the KEK only ever encrypts random data keys, never content keys, so it can later move into a
  KMS or HSM that offers nothing but wrap/unwrap;
- every GCM key is used for exactly one message, so random 96-bit nonces are far below the
  2^32-invocations bound of NIST SP 800-38D §8.3 for the data keys, whatever the store's size.

The authenticated data of both encryptions names the record format, the KID, the title and the
track class, so a record copied to another KID or title, or edited, fails authentication. The
record names its KEK by a fingerprint (an HMAC of a fixed label, which reveals nothing of the
KEK), so a wrong KEK is reported as such rather than as corruption.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from drm.keys import ContentKey, TrackClass
from vodpipe.errors import ConfigError, KeyNotFoundError, KeyStoreError, ObjectNotFoundError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from storage.base import ObjectStore

PREFIX = "keys/"
FORMAT = "vodpipe-key-v1"
_CLASSES: tuple[TrackClass, ...] = ("all", "audio", "sd", "hd", "uhd", "aes128")


@dataclass(frozen=True)
class StoredKey:
    """A content key and the title it protects."""

    title: str
    key: ContentKey


class KeyStore(Protocol):
    """Where content keys live. Implementations never write a key unencrypted."""

    def put(self, title: str, key: ContentKey) -> None:
        """Store ``key`` for ``title`` (overwrites a record of the same KID)."""

    def get(self, kid: bytes) -> StoredKey:
        """The key named ``kid``; raises ``KeyNotFoundError``."""

    def keys_for_title(self, title: str) -> list[StoredKey]:
        """Every key of ``title``, ordered by KID."""

    def rotate_kek(self, new_kek: bytes) -> int:
        """Re-wrap every record under ``new_kek``; returns how many records were re-wrapped."""


def kek_fingerprint(kek: bytes) -> str:
    """A public name for a KEK: HMAC-SHA256 of a fixed label, truncated (reveals nothing of it)."""
    return hmac.new(kek, b"vodpipe key-encryption key id", hashlib.sha256).hexdigest()[:16]


def _check_kek(kek: bytes | None) -> bytes:
    if kek is None:
        raise ConfigError(
            "no key-encryption key: set VODPIPE_KEY_ENCRYPTION_KEY to 32 bytes (hex or base64), "
            "e.g. from `openssl rand -hex 32`"
        )
    if len(kek) != 32:
        raise ConfigError("the key-encryption key must be 32 bytes (AES-256)")
    return kek


def _aad(kid_hex: str, title: str, track_class: str, part: str) -> bytes:
    return json.dumps([FORMAT, part, kid_hex, title, track_class], separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(record: dict[str, Any], name: str) -> bytes:
    return base64.b64decode(str(record[name]), validate=True)


def seal(kek: bytes, title: str, key: ContentKey) -> dict[str, Any]:
    """The record for ``key``: a fresh data key encrypts it, the KEK wraps the data key."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce, wrap_nonce = secrets.token_bytes(12), secrets.token_bytes(12)
    kid_hex, cls = key.kid.hex(), key.track_class
    wrapped = AESGCM(kek).encrypt(wrap_nonce, data_key, _aad(kid_hex, title, cls, "wrap"))
    return {
        "format": FORMAT,
        "kid": kid_hex,
        "title": title,
        "track_class": cls,
        "kek_id": kek_fingerprint(kek),
        "wrap_nonce": _b64(wrap_nonce),
        "wrapped_data_key": _b64(wrapped),
        "nonce": _b64(nonce),
        "ciphertext": _b64(AESGCM(data_key).encrypt(nonce, key.key, _aad(kid_hex, title, cls, "key"))),
    }


def _fields(record: dict[str, Any], where: str) -> tuple[str, str, TrackClass]:
    kid_hex, title, cls = record.get("kid"), record.get("title"), record.get("track_class")
    if record.get("format") != FORMAT or not isinstance(kid_hex, str) or not isinstance(title, str):
        raise KeyStoreError(f"{where} is not a vodpipe key record ({FORMAT})")
    for known in _CLASSES:
        if cls == known:
            return kid_hex, title, known
    raise KeyStoreError(f"{where} names an unknown track class {cls!r}")


def _unwrap(kek: bytes, record: dict[str, Any], where: str) -> bytes:
    kid_hex, title, cls = _fields(record, where)
    if record.get("kek_id") != kek_fingerprint(kek):
        raise KeyStoreError(
            f"{where} was sealed with key-encryption key {record.get('kek_id')}, not the configured "
            f"{kek_fingerprint(kek)}: set VODPIPE_KEY_ENCRYPTION_KEY to the key that wrote it"
        )
    try:
        aad = _aad(kid_hex, title, cls, "wrap")
        return AESGCM(kek).decrypt(_unb64(record, "wrap_nonce"), _unb64(record, "wrapped_data_key"), aad)
    except (InvalidTag, KeyError, ValueError):
        raise KeyStoreError(f"{where} fails authentication: it was altered or moved") from None


def open_record(kek: bytes, record: dict[str, Any], where: str) -> StoredKey:
    """The key a record holds; ``KeyStoreError`` if the KEK is wrong or the record was altered."""
    data_key = _unwrap(kek, record, where)
    kid_hex, title, cls = _fields(record, where)
    try:
        aad = _aad(kid_hex, title, cls, "key")
        key = AESGCM(data_key).decrypt(_unb64(record, "nonce"), _unb64(record, "ciphertext"), aad)
    except (InvalidTag, KeyError, ValueError):
        raise KeyStoreError(f"{where} fails authentication: it was altered or moved") from None
    return StoredKey(title, ContentKey(bytes.fromhex(kid_hex), key, cls))


def rewrap(old_kek: bytes, new_kek: bytes, record: dict[str, Any], where: str) -> dict[str, Any]:
    """The record with its data key wrapped by ``new_kek``; the content-key ciphertext is kept."""
    data_key = _unwrap(old_kek, record, where)
    kid_hex, title, cls = _fields(record, where)
    wrap_nonce = secrets.token_bytes(12)
    wrapped = AESGCM(new_kek).encrypt(wrap_nonce, data_key, _aad(kid_hex, title, cls, "wrap"))
    return record | {
        "kek_id": kek_fingerprint(new_kek),
        "wrap_nonce": _b64(wrap_nonce),
        "wrapped_data_key": _b64(wrapped),
    }


def record_key(kid: bytes) -> str:
    return f"{PREFIX}{kid.hex()}.json"


class ObjectKeyStore:
    """A :class:`KeyStore` over an ``ObjectStore``, one record per KID at ``keys/{kid}.json``."""

    def __init__(self, store: ObjectStore, kek: bytes | None) -> None:
        self._store = store
        self._kek = _check_kek(kek)

    def put(self, title: str, key: ContentKey) -> None:
        record = seal(self._kek, title, key)
        self._store.put_bytes(record_key(key.kid), _dump(record), "application/json")

    def _read(self, key: str) -> dict[str, Any]:
        try:
            record = json.loads(self._store.get_bytes(key))
        except ValueError:
            raise KeyStoreError(f"{key} is not JSON") from None
        if not isinstance(record, dict):
            raise KeyStoreError(f"{key} is not a vodpipe key record ({FORMAT})")
        return record

    def get(self, kid: bytes) -> StoredKey:
        key = record_key(kid)
        try:
            record = self._read(key)
        except ObjectNotFoundError:
            raise KeyNotFoundError(f"no content key with KID {kid.hex()}") from None
        stored = open_record(self._kek, record, key)
        if stored.key.kid != kid:
            raise KeyStoreError(f"{key} holds another KID: it was moved")
        return stored

    def _records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for key in self._store.list(PREFIX):
            if key.endswith(".json") and key.count("/") == 1:
                yield key, self._read(key)

    def keys_for_title(self, title: str) -> list[StoredKey]:
        # The title is stored in the clear (and authenticated), so only matching records are opened.
        found = [open_record(self._kek, r, k) for k, r in self._records() if r.get("title") == title]
        return sorted(found, key=lambda s: s.key.kid)

    def _rewrap(self, new_kek: bytes, record: dict[str, Any], where: str) -> dict[str, Any]:
        if record.get("kek_id") == kek_fingerprint(new_kek):  # an interrupted rotation, rerun
            open_record(new_kek, record, where)
            return record
        return rewrap(self._kek, new_kek, record, where)

    def rotate_kek(self, new_kek: bytes) -> int:
        """Re-wrap every record. All are checked first, so a wrong old KEK changes nothing; records
        an interrupted rotation already re-wrapped are verified and kept, so a rerun completes it."""
        new_kek = _check_kek(new_kek)
        rewrapped = [(k, self._rewrap(new_kek, r, k)) for k, r in self._records()]
        for key, record in rewrapped:
            self._store.put_bytes(key, _dump(record), "application/json")
        self._kek = new_kek
        return len(rewrapped)


def _dump(record: dict[str, Any]) -> bytes:
    return json.dumps(record, indent=2, sort_keys=True).encode() + b"\n"
