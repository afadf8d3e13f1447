from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

import pytest

from drm.keys import new_content_key
from drm.keystore import ObjectKeyStore, kek_fingerprint, record_key, rewrap
from storage.local import LocalStore
from vodpipe.errors import ConfigError, KeyNotFoundError, KeyStoreError

if TYPE_CHECKING:
    from pathlib import Path

KEK = bytes(range(32))
OTHER_KEK = bytes(range(100, 132))


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "data")


def test_a_key_round_trips_with_its_title_and_class(store: LocalStore) -> None:
    keys = ObjectKeyStore(store, KEK)
    key = new_content_key("hd")
    keys.put("demo", key)
    stored = keys.get(key.kid)
    assert stored.title == "demo"
    assert stored.key == key
    assert stored.key.track_class == "hd"
    assert store.exists(f"keys/{key.kid.hex()}.json")
    assert not [k for k in store.list("") if k.startswith("media/")]


def test_the_record_on_disk_holds_no_plaintext_key(store: LocalStore) -> None:
    key = new_content_key()
    ObjectKeyStore(store, KEK).put("demo", key)
    path = store.root / "keys" / f"{key.kid.hex()}.json"
    raw = path.read_bytes()
    for form in [
        key.key,
        key.key.hex().encode(),
        key.key.hex().upper().encode(),
        base64.b64encode(key.key),
        base64.urlsafe_b64encode(key.key).rstrip(b"="),
        KEK,
        KEK.hex().encode(),
        base64.b64encode(KEK),
    ]:
        assert form not in raw
    assert key.kid.hex().encode() in raw  # the KID is public; it names the record


def test_keys_for_title_lists_only_that_title(store: LocalStore) -> None:
    keys = ObjectKeyStore(store, KEK)
    mine = sorted([new_content_key("audio"), new_content_key("sd")], key=lambda k: k.kid)
    for key in mine:
        keys.put("demo", key)
    keys.put("other", new_content_key())
    found = keys.keys_for_title("demo")
    assert [s.key for s in found] == mine
    assert keys.keys_for_title("nothing") == []


def test_unknown_kid_is_key_not_found(store: LocalStore) -> None:
    with pytest.raises(KeyNotFoundError, match="no content key with KID 00000000"):
        ObjectKeyStore(store, KEK).get(bytes(16))


def test_missing_kek_is_a_clear_config_error(store: LocalStore) -> None:
    with pytest.raises(ConfigError, match="set VODPIPE_KEY_ENCRYPTION_KEY"):
        ObjectKeyStore(store, None)


def test_wrong_kek_is_named_not_mistaken_for_corruption(store: LocalStore) -> None:
    key = new_content_key()
    ObjectKeyStore(store, KEK).put("demo", key)
    with pytest.raises(KeyStoreError) as caught:
        ObjectKeyStore(store, OTHER_KEK).get(key.kid)
    message = caught.value.message
    assert "\n" not in message
    assert kek_fingerprint(KEK) in message
    assert "VODPIPE_KEY_ENCRYPTION_KEY" in message
    assert KEK.hex() not in message
    assert OTHER_KEK.hex() not in message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("title", "other", id="moved-to-another-title"),
        pytest.param("track_class", "audio", id="class-changed"),
        pytest.param("ciphertext", base64.b64encode(bytes(32)).decode(), id="ciphertext-replaced"),
        pytest.param("wrapped_data_key", base64.b64encode(bytes(48)).decode(), id="data-key-replaced"),
    ],
)
def test_an_altered_record_fails_authentication(store: LocalStore, field: str, value: str) -> None:
    key = new_content_key()
    ObjectKeyStore(store, KEK).put("demo", key)
    name = record_key(key.kid)
    record = json.loads(store.get_bytes(name))
    store.put_bytes(name, json.dumps(record | {field: value}).encode())
    with pytest.raises(KeyStoreError, match="fails authentication"):
        ObjectKeyStore(store, KEK).get(key.kid)


def test_a_record_copied_to_another_kid_is_refused(store: LocalStore) -> None:
    a, b = new_content_key(), new_content_key()
    keys = ObjectKeyStore(store, KEK)
    keys.put("demo", a)
    store.put_bytes(record_key(b.kid), store.get_bytes(record_key(a.kid)))
    with pytest.raises(KeyStoreError, match="holds another KID"):
        keys.get(b.kid)


def test_rotating_the_kek_rewraps_every_record_and_keeps_the_content_keys(store: LocalStore) -> None:
    keys = ObjectKeyStore(store, KEK)
    originals = [new_content_key() for _ in range(3)]
    for key in originals:
        keys.put("demo", key)
    before = {k.kid: json.loads(store.get_bytes(record_key(k.kid))) for k in originals}

    assert keys.rotate_kek(OTHER_KEK) == 3

    rotated = ObjectKeyStore(store, OTHER_KEK)
    for key in originals:
        after = json.loads(store.get_bytes(record_key(key.kid)))
        assert after["kek_id"] == kek_fingerprint(OTHER_KEK)
        assert after["wrapped_data_key"] != before[key.kid]["wrapped_data_key"]
        # The content key's ciphertext is untouched: only the data key was re-wrapped.
        assert after["ciphertext"] == before[key.kid]["ciphertext"]
        assert after["nonce"] == before[key.kid]["nonce"]
        assert rotated.get(key.kid).key == key
    with pytest.raises(KeyStoreError, match="not the configured"):
        ObjectKeyStore(store, KEK).get(originals[0].kid)


def test_rotation_with_the_wrong_old_kek_changes_nothing(store: LocalStore) -> None:
    key = new_content_key()
    ObjectKeyStore(store, KEK).put("demo", key)
    before = store.get_bytes(record_key(key.kid))
    with pytest.raises(KeyStoreError):
        ObjectKeyStore(store, OTHER_KEK).rotate_kek(bytes(32))
    assert store.get_bytes(record_key(key.kid)) == before


def test_an_interrupted_rotation_completes_when_rerun(store: LocalStore) -> None:
    keys = ObjectKeyStore(store, KEK)
    a, b = new_content_key(), new_content_key()
    keys.put("demo", a)
    keys.put("demo", b)
    # A rotation that stopped after its first record: only a's record is under the new KEK.
    record = json.loads(store.get_bytes(record_key(a.kid)))
    store.put_bytes(record_key(a.kid), json.dumps(rewrap(KEK, OTHER_KEK, record, "a")).encode())

    assert ObjectKeyStore(store, KEK).rotate_kek(OTHER_KEK) == 2
    rotated = ObjectKeyStore(store, OTHER_KEK)
    assert rotated.get(a.kid).key == a
    assert rotated.get(b.kid).key == b
