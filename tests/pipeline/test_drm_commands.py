"""``vodpipe keys``, ``vodpipe token``: in-process through ``main``, settings injected."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from drm.cpix import export_cpix
from drm.keys import new_content_key
from drm.keystore import ObjectKeyStore, record_key
from drm.tokens import verify_token
from pipeline import cli
from pipeline.settings import Secret, Settings
from storage.local import LocalStore
from tests.drm.test_cpix import VECTORS, make_recipient

if TYPE_CHECKING:
    from pathlib import Path

KEK = bytes(range(32))
NEW_KEK = bytes(range(64, 96))
SECRET = b"command-test-secret-of-32-bytes!"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    value = Settings(data_dir=tmp_path / "data", key_encryption_key=Secret(KEK), token_secret=Secret(SECRET))
    monkeypatch.setattr(cli, "current_settings", lambda: value)
    return value


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_token_prints_a_token_for_the_title(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "token", "demo", "--ttl", "120")
    assert status == 0
    entitlement = verify_token(SECRET, out.strip())
    assert entitlement.title == "demo"


def test_token_without_a_secret_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "current_settings", lambda: Settings(data_dir=tmp_path))
    status, out, err = run(capsys, "token", "demo")
    assert (status, out) == (1, "")
    assert err == "vodpipe: error: no token secret: set VODPIPE_TOKEN_SECRET to at least 32 random bytes\n"


def test_keys_list_shows_kids_and_classes_never_keys(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    key = new_content_key("hd")
    ObjectKeyStore(LocalStore(settings.data_dir), KEK).put("demo", key)
    status, out, _ = run(capsys, "keys", "list", "demo")
    assert status == 0
    assert out == f"{key.kid_hex}  {key.kid_uuid}  hd\n"
    assert key.key.hex() not in out


def test_rotate_kek_reads_the_new_key_from_a_file(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = LocalStore(settings.data_dir)
    key = new_content_key()
    ObjectKeyStore(store, KEK).put("demo", key)
    new_kek_file = tmp_path / "new-kek"
    new_kek_file.write_text(NEW_KEK.hex() + "\n")
    status, out, err = run(capsys, "keys", "rotate-kek", "--new-kek-file", str(new_kek_file))
    assert status == 0
    assert "re-wrapped 1 key records" in err
    assert NEW_KEK.hex() not in out + err
    assert ObjectKeyStore(store, NEW_KEK).get(key.kid).key == key


def test_rotate_kek_refuses_a_bad_new_key_without_echoing_it(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad"
    bad.write_text("abcd" * 8)
    status, _, err = run(capsys, "keys", "rotate-kek", "--new-kek-file", str(bad))
    assert status == 1
    assert err.startswith(f"vodpipe: error: the new key-encryption key in {bad}: must be 32 bytes")
    assert "abcd" * 8 not in err


def test_export_then_import_moves_a_titles_keys_between_stores(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [new_content_key("audio"), new_content_key("sd")]
    for key in keys:
        ObjectKeyStore(LocalStore(settings.data_dir), KEK).put("demo", key)
    # The HLS AES-128 variant's key is served by vodpipe's own license route: never exported.
    aes128_key = new_content_key("aes128")
    ObjectKeyStore(LocalStore(settings.data_dir), KEK).put("demo", aes128_key)
    private_key, cert = make_recipient()
    cert_pem, key_pem = tmp_path / "recipient.pem", tmp_path / "recipient-key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    document = tmp_path / "demo.cpix.xml"
    status, _, err = run(capsys, "keys", "export", "demo", "--cpix", str(cert_pem), "-o", str(document))
    assert status == 0
    assert "wrote 2 keys of demo" in err
    assert aes128_key.kid_uuid not in document.read_text()
    assert all(k.key.hex() not in document.read_text() for k in keys)

    # A second installation (another data folder and KEK) imports them under a title of its own.
    other = Settings(
        data_dir=tmp_path / "other", key_encryption_key=Secret(NEW_KEK), token_secret=Secret(SECRET)
    )
    monkeypatch.setattr(cli, "current_settings", lambda: other)
    status, out, err = run(
        capsys, "keys", "import", str(document), "--key", str(key_pem), "--title", "vendor"
    )
    assert status == 0
    assert "imported 2 keys for vendor" in err
    assert sorted(line.split()[0] for line in out.splitlines()) == sorted(k.kid_hex for k in keys)
    assert all(k.key.hex() not in out for k in keys)
    imported = ObjectKeyStore(LocalStore(other.data_dir), NEW_KEK).keys_for_title("vendor")
    assert sorted(s.key.kid for s in imported) == sorted(k.kid for k in keys)
    assert {s.key.kid: s.key for s in imported} == {k.kid: k for k in keys}


def test_import_refuses_a_kid_of_another_title_and_writes_nothing(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = LocalStore(settings.data_dir)
    key = new_content_key()
    ObjectKeyStore(store, KEK).put("demo", key)
    private_key, cert = make_recipient()
    fresh = new_content_key()
    document = tmp_path / "doc.xml"
    document.write_bytes(export_cpix([fresh, key], cert, content_id="x"))
    key_pem = tmp_path / "k.pem"
    key_pem.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    status, _, err = run(capsys, "keys", "import", str(document), "--key", str(key_pem), "--title", "other")
    assert status == 1
    assert err == f"vodpipe: error: KID {key.kid_hex} already belongs to title 'demo'; nothing was imported\n"
    assert not store.exists(record_key(fresh.kid))


def test_export_of_a_title_without_keys_is_one_error_line(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, cert = make_recipient()
    cert_pem = tmp_path / "r.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out_file = tmp_path / "out.xml"
    status, _, err = run(capsys, "keys", "export", "nothing", "--cpix", str(cert_pem), "-o", str(out_file))
    assert status == 1
    assert err == "vodpipe: error: title 'nothing' has no content keys\n"
    assert not out_file.exists()


def test_import_of_a_tampered_document_is_one_error_line(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, _, _ = pkcs12.load_key_and_certificates((VECTORS / "Cert1.pfx").read_bytes(), b"Cert1")
    assert key is not None
    key_pem = tmp_path / "cert1-key.pem"
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    document = VECTORS / "Invalid_WrongMac.xml"  # the DASH-IF test vector whose MAC was altered
    status, _, err = run(capsys, "keys", "import", str(document), "--key", str(key_pem), "--title", "vendor")
    assert status == 1
    assert err.startswith("vodpipe: error: the MAC of ContentKey ")
    assert err.count("\n") == 1
    assert list(LocalStore(settings.data_dir).list("keys/")) == []
