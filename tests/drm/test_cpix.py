"""CPIX export and import: our round trip, the algorithms read back by hand, and DASH-IF test vectors.

``tests/resources/cpix/`` holds documents from the DASH-IF CPIX test vectors
(github.com/Dash-Industry-Forum/cpix-test-vectors, commit e5cef980; made by Axinom's CPIX library,
MIT licence, see LICENSE there): a reader written by others, so import is checked
against keys we did not encrypt.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from drm.cpix import export_cpix, import_cpix, validate_cpix
from drm.keys import ContentKey, new_content_key
from vodpipe.errors import CpixError

VECTORS = Path(__file__).parents[1] / "resources" / "cpix"
NS = {
    "cpix": "urn:dashif:org:cpix",
    "pskc": "urn:ietf:params:xml:ns:keyprov:pskc",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "enc": "http://www.w3.org/2001/04/xmlenc#",
}


def make_recipient(name: str = "vodpipe test recipient") -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A fresh RSA key and a self-signed certificate for it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert


@pytest.fixture(scope="module")
def recipient() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    return make_recipient()


@pytest.fixture
def keys() -> list[ContentKey]:
    return [new_content_key("all"), new_content_key("audio"), new_content_key("hd"), new_content_key("uhd")]


def test_keys_round_trip_with_their_track_classes(
    recipient: tuple[rsa.RSAPrivateKey, x509.Certificate], keys: list[ContentKey]
) -> None:
    private_key, cert = recipient
    document = export_cpix(keys, cert, content_id="demo")
    assert import_cpix(document, private_key) == keys


def test_the_document_holds_no_content_key_in_any_form(
    recipient: tuple[rsa.RSAPrivateKey, x509.Certificate], keys: list[ContentKey]
) -> None:
    document = export_cpix(keys, recipient[1], content_id="demo")
    for key in keys:
        for form in [
            key.key,
            key.key.hex().encode(),
            base64.b64encode(key.key),
            base64.b64encode(key.key)[:20],
        ]:
            assert form not in document


def test_the_document_follows_cpix_and_decrypts_by_the_spec_algorithms(
    recipient: tuple[rsa.RSAPrivateKey, x509.Certificate], keys: list[ContentKey]
) -> None:
    """Read our export by hand with the algorithms of CPIX §8.1.4, not with our importer."""
    private_key, cert = recipient
    root = ET.fromstring(export_cpix(keys, cert, content_id="demo"))
    assert root.tag == "{urn:dashif:org:cpix}CPIX"
    assert root.get("version") == "2.3"
    assert root.get("contentId") == "demo"
    delivery = root.find("cpix:DeliveryDataList/cpix:DeliveryData", NS)
    assert delivery is not None
    cert_b64 = delivery.findtext("cpix:DeliveryKey/ds:X509Data/ds:X509Certificate", namespaces=NS)
    assert x509.load_der_x509_certificate(base64.b64decode(cert_b64 or "")) == cert

    oaep = OAEP(mgf=MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # rsa-oaep-mgf1p
    doc_key_value = delivery.find("cpix:DocumentKey/cpix:Data/pskc:Secret/pskc:EncryptedValue", NS)
    assert doc_key_value is not None
    method = doc_key_value.find("enc:EncryptionMethod", NS)
    assert method is not None
    assert method.get("Algorithm") == "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
    document_key = private_key.decrypt(
        base64.b64decode(doc_key_value.findtext("enc:CipherData/enc:CipherValue", namespaces=NS) or ""), oaep
    )
    assert len(document_key) == 32
    mac_method = delivery.find("cpix:MACMethod", NS)
    assert mac_method is not None
    assert mac_method.get("Algorithm") == "http://www.w3.org/2001/04/xmldsig-more#hmac-sha512"
    mac_key = private_key.decrypt(
        base64.b64decode(
            mac_method.findtext("pskc:MACKey/enc:CipherData/enc:CipherValue", namespaces=NS) or ""
        ),
        oaep,
    )

    elements = root.findall("cpix:ContentKeyList/cpix:ContentKey", NS)
    assert [uuid.UUID(e.get("kid", "")).bytes for e in elements] == [k.kid for k in keys]
    for element, key in zip(elements, keys, strict=True):
        secret = element.find("cpix:Data/pskc:Secret", NS)
        assert secret is not None
        cipher_value = base64.b64decode(
            secret.findtext("pskc:EncryptedValue/enc:CipherData/enc:CipherValue", namespaces=NS) or ""
        )
        assert len(cipher_value) == 16 + 32  # IV, then 16 key bytes + a full block of PKCS #7 padding
        mac = base64.b64decode(secret.findtext("pskc:ValueMAC", namespaces=NS) or "")
        assert mac == hmac.new(mac_key, cipher_value, hashlib.sha512).digest()
        decryptor = Cipher(algorithms.AES(document_key), modes.CBC(cipher_value[:16])).decryptor()
        plain = decryptor.update(cipher_value[16:]) + decryptor.finalize()
        assert plain == key.key + bytes([16] * 16)

    rules = root.findall("cpix:ContentKeyUsageRuleList/cpix:ContentKeyUsageRule", NS)
    assert [r.get("intendedTrackType") for r in rules] == ["AUDIO", "HD", "UHD1"]


def _tamper(document: bytes, path: str) -> bytes:
    root = ET.fromstring(document)
    element = root.find(path, NS)
    assert element is not None
    raw = bytearray(base64.b64decode(element.text or ""))
    raw[-1] ^= 1
    element.text = base64.b64encode(bytes(raw)).decode()
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            "cpix:ContentKeyList/cpix:ContentKey/cpix:Data/pskc:Secret/pskc:EncryptedValue/enc:CipherData/enc:CipherValue",
            id="ciphertext",
        ),
        pytest.param("cpix:ContentKeyList/cpix:ContentKey/cpix:Data/pskc:Secret/pskc:ValueMAC", id="mac"),
    ],
)
def test_a_tampered_document_is_refused_by_its_mac(
    recipient: tuple[rsa.RSAPrivateKey, x509.Certificate], keys: list[ContentKey], path: str
) -> None:
    private_key, cert = recipient
    tampered = _tamper(export_cpix(keys, cert, content_id="demo"), path)
    with pytest.raises(CpixError, match=r"the MAC of ContentKey [0-9a-f-]{36} does not verify"):
        import_cpix(tampered, private_key)


def test_another_recipients_document_is_refused(
    recipient: tuple[rsa.RSAPrivateKey, x509.Certificate], keys: list[ContentKey]
) -> None:
    _, other_cert = make_recipient("someone else")
    document = export_cpix(keys, other_cert, content_id="demo")
    with pytest.raises(CpixError, match=r"not encrypted to this key \(recipients: \[.CN=someone else.\]\)"):
        import_cpix(document, recipient[0])


def test_a_document_with_a_doctype_is_refused(recipient: tuple[rsa.RSAPrivateKey, x509.Certificate]) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><CPIX xmlns="urn:dashif:org:cpix"/>'
    with pytest.raises(CpixError, match="no DOCTYPE"):
        import_cpix(bomb, recipient[0])


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param(b"<CPIX", "not well-formed", id="not-xml"),
        pytest.param(b"<MPD xmlns='urn:mpeg:dash:schema:mpd:2011'/>", "root element", id="not-cpix"),
        pytest.param(
            b"<CPIX xmlns='urn:dashif:org:cpix'><ContentKeyList><ContentKey/></ContentKeyList></CPIX>",
            "not a valid CPIX document",
            id="no-kid",
        ),
    ],
)
def test_malformed_documents_are_refused_with_the_reason(document: bytes, message: str) -> None:
    with pytest.raises(CpixError, match=message):
        validate_cpix(document)


def _vector_recipient() -> rsa.RSAPrivateKey:
    key, _, _ = pkcs12.load_key_and_certificates((VECTORS / "Cert1.pfx").read_bytes(), b"Cert1")
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def test_the_dashif_encrypted_test_vector_imports_to_its_published_keys() -> None:
    keys = import_cpix((VECTORS / "EncryptedContentKeys.xml").read_bytes(), _vector_recipient())
    # The values the vector's Readme publishes for Cert1.
    assert [(k.kid_uuid, base64.b64encode(k.key).decode()) for k in keys] == [
        ("bd5adf51-cf04-410f-aac3-ec63a69e929e", "3rWoHYasQubO6HbJGrGtLw=="),
        ("d2920429-87ab-41e6-a4c5-a8c836b6312e", "O5w9FdZiwmQK4uIXzAziaQ=="),
        ("e17ba4b8-faff-4d30-bcba-7485e3f2e884", "Cwu/3hSBBRQ7SurBdZD5ow=="),
        ("0ae6b9ad-92d2-4ebe-882b-1d07dee70715", "FB6/Eck9Y9SXy6bY8UU/Mw=="),
    ]


def test_the_dashif_wrong_mac_test_vector_is_refused() -> None:
    with pytest.raises(CpixError, match="does not verify"):
        import_cpix((VECTORS / "Invalid_WrongMac.xml").read_bytes(), _vector_recipient())
