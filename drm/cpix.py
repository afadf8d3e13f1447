"""Content keys to and from DASH-IF CPIX 2.3 documents, encrypted to one recipient.

CPIX §8 ("Key Management"), with the algorithms of §8.1.4 ("Mandatory Algorithms"):

- a random 256-bit Document Key encrypts every content key with AES-256-CBC and PKCS #7 padding;
  ``CipherValue`` is the IV followed by the ciphertext;
- a random MAC key authenticates each ``CipherValue`` with HMAC-SHA512 (``pskc:ValueMAC``, §8.1.3);
  a reader verifies the MAC before it decrypts anything;
- the Document Key and the MAC key are each encrypted to the recipient's X.509 certificate with
  RSA-OAEP, SHA-1 and MGF1-SHA-1 (XML Encryption's ``rsa-oaep-mgf1p``).

Documents are built with ElementTree and checked against the CPIX 2.3.1 schema, vendored in
``drm/schemas/cpix`` from github.com/Dash-Industry-Forum/CPIX (tag CPIX2.3.1, commit a9c3f14d).
The MAC key is written in ``pskc:MACKey`` (RFC 6030 §6.1.1, named in CPIX 2.4 §7.4.4); documents
that carry it in a ``Key`` element, as Axinom's CPIX library writes, are read too.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from drm.keys import ContentKey, TrackClass
from vodpipe.errors import CpixError

if TYPE_CHECKING:
    from collections.abc import Callable

CPIX = "urn:dashif:org:cpix"
PSKC = "urn:ietf:params:xml:ns:keyprov:pskc"
DS = "http://www.w3.org/2000/09/xmldsig#"
ENC = "http://www.w3.org/2001/04/xmlenc#"
AES256_CBC = ENC + "aes256-cbc"
RSA_OAEP_MGF1P = ENC + "rsa-oaep-mgf1p"
HMAC_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha512"
SCHEMA = Path(__file__).parent / "schemas" / "cpix" / "cpix.xsd"
MIN_RSA_BITS = 2048

for _prefix, _ns in [("cpix", CPIX), ("pskc", PSKC), ("ds", DS), ("enc", ENC)]:
    ET.register_namespace(_prefix, _ns)

# CPIX §7.4.9 intendedTrackType values for vodpipe's track classes (UHD1 covers up to 4K).
_TRACK_TYPES: dict[TrackClass, str] = {"audio": "AUDIO", "sd": "SD", "hd": "HD", "uhd": "UHD1"}
_CLASSES: dict[str, TrackClass] = {"AUDIO": "audio", "SD": "sd", "HD": "hd", "UHD1": "uhd", "UHD2": "uhd"}
_OAEP = OAEP(mgf=MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _sub(parent: ET.Element, ns: str, name: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, _q(ns, name), attrs)


def _encrypted(parent: ET.Element, algorithm: str, value: bytes) -> None:
    """``enc:EncryptionMethod`` and ``enc:CipherData`` (XML Encryption §3.2), under ``parent``."""
    _sub(parent, ENC, "EncryptionMethod", Algorithm=algorithm)
    _sub(_sub(parent, ENC, "CipherData"), ENC, "CipherValue").text = base64.b64encode(value).decode()


def _aes_cbc(key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    if encrypt:
        padder = padding.PKCS7(128).padder()
        padded = padder.update(data) + padder.finalize()
        enc = cipher.encryptor()
        return enc.update(padded) + enc.finalize()
    dec = cipher.decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(dec.update(data) + dec.finalize()) + unpadder.finalize()


def _rsa_public_key(cert: x509.Certificate) -> rsa.RSAPublicKey:
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise CpixError("the recipient's certificate must hold an RSA key (CPIX §8.1.4: RSA-OAEP)")
    if key.key_size < MIN_RSA_BITS:
        raise CpixError(f"the recipient's RSA key has {key.key_size} bits; use 3072 (at least 2048)")
    return key


def export_cpix(
    keys: list[ContentKey],
    recipient: x509.Certificate,
    content_id: str,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> bytes:
    """A CPIX document delivering ``keys`` to ``recipient`` only, checked against the schema."""
    public_key = _rsa_public_key(recipient)
    document_key, mac_key = random_bytes(32), random_bytes(64)  # HMAC-SHA512 key: one block's worth
    root = ET.Element(_q(CPIX, "CPIX"), {"contentId": content_id, "version": "2.3"})

    delivery = _sub(_sub(root, CPIX, "DeliveryDataList"), CPIX, "DeliveryData")
    x509_data = _sub(_sub(delivery, CPIX, "DeliveryKey"), DS, "X509Data")
    cert_der = recipient.public_bytes(serialization.Encoding.DER)
    _sub(x509_data, DS, "X509Certificate").text = base64.b64encode(cert_der).decode()
    doc_key = _sub(delivery, CPIX, "DocumentKey", Algorithm=AES256_CBC)
    secret = _sub(_sub(doc_key, CPIX, "Data"), PSKC, "Secret")
    _encrypted(_sub(secret, PSKC, "EncryptedValue"), RSA_OAEP_MGF1P, public_key.encrypt(document_key, _OAEP))
    mac_method = _sub(delivery, CPIX, "MACMethod", Algorithm=HMAC_SHA512)
    _encrypted(_sub(mac_method, PSKC, "MACKey"), RSA_OAEP_MGF1P, public_key.encrypt(mac_key, _OAEP))

    key_list = _sub(root, CPIX, "ContentKeyList")
    for key in keys:
        iv = random_bytes(16)
        cipher_value = iv + _aes_cbc(document_key, iv, key.key, encrypt=True)
        element = _sub(key_list, CPIX, "ContentKey", kid=key.kid_uuid)
        secret = _sub(_sub(element, CPIX, "Data"), PSKC, "Secret")
        _encrypted(_sub(secret, PSKC, "EncryptedValue"), AES256_CBC, cipher_value)
        mac = hmac.new(mac_key, cipher_value, hashlib.sha512).digest()
        _sub(secret, PSKC, "ValueMAC").text = base64.b64encode(mac).decode()

    classed = [k for k in keys if k.track_class != "all"]
    if classed:
        rules = _sub(root, CPIX, "ContentKeyUsageRuleList")
        for key in classed:
            track_type = _TRACK_TYPES[key.track_class]
            _sub(rules, CPIX, "ContentKeyUsageRule", kid=key.kid_uuid, intendedTrackType=track_type)

    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    validate_cpix(document)
    return document


@functools.cache
def _schema() -> object:
    import xmlschema  # loading the schema takes a moment: only when a CPIX document is handled

    return xmlschema.XMLSchema(str(SCHEMA))


def validate_cpix(document: bytes) -> ET.Element:
    """The parsed document, checked against the CPIX 2.3.1 schema (``CpixError``: the first problem)."""
    import xmlschema

    root = _parse(document)
    schema = _schema()
    assert isinstance(schema, xmlschema.XMLSchema)
    error = next(iter(schema.iter_errors(root)), None)
    if error is not None:
        raise CpixError(f"not a valid CPIX document: {error.reason} at {error.path}")
    return root


def _parse(document: bytes) -> ET.Element:
    if b"<!DOCTYPE" in document or b"<!ENTITY" in document:
        raise CpixError("CPIX documents have no DOCTYPE or entities; this one does and is refused")
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise CpixError(f"the CPIX document is not well-formed XML: {exc}") from None
    if root.tag != _q(CPIX, "CPIX"):
        raise CpixError(f"not a CPIX document: the root element is {root.tag}")
    return root


def _b64_text(element: ET.Element | None, what: str) -> bytes:
    if element is None or not element.text:
        raise CpixError(f"the CPIX document lacks {what}")
    try:
        return base64.b64decode("".join(element.text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise CpixError(f"{what} is not base64") from None


def _rsa_decrypt(private_key: rsa.RSAPrivateKey, holder: ET.Element | None, what: str) -> bytes:
    if holder is None:
        raise CpixError(f"the CPIX document lacks {what}")
    method = holder.find(_q(ENC, "EncryptionMethod"))
    if method is None or method.get("Algorithm") != RSA_OAEP_MGF1P:
        found = None if method is None else method.get("Algorithm")
        raise CpixError(f"{what} must be encrypted with {RSA_OAEP_MGF1P}, not {found}")
    value = _b64_text(holder.find(f"{{{ENC}}}CipherData/{{{ENC}}}CipherValue"), what)
    try:
        return private_key.decrypt(value, _OAEP)
    except ValueError:
        raise CpixError(f"{what} does not decrypt with this private key") from None


def _recipient(root: ET.Element, private_key: rsa.RSAPrivateKey) -> ET.Element:
    """The DeliveryData whose certificate holds our public key (CPIX §7.4.3)."""
    ours = private_key.public_key().public_numbers()
    recipients = []
    for delivery in root.iterfind(f"{{{CPIX}}}DeliveryDataList/{{{CPIX}}}DeliveryData"):
        path = f"{{{CPIX}}}DeliveryKey/{{{DS}}}X509Data/{{{DS}}}X509Certificate"
        try:
            cert = x509.load_der_x509_certificate(_b64_text(delivery.find(path), "a recipient certificate"))
        except ValueError:
            raise CpixError("a recipient certificate in the CPIX document is not X.509") from None
        recipients.append(cert.subject.rfc4514_string())
        key = cert.public_key()
        if isinstance(key, rsa.RSAPublicKey) and key.public_numbers() == ours:
            return delivery
    raise CpixError(f"the CPIX document is not encrypted to this key (recipients: {recipients or 'none'})")


def _mac_key(delivery: ET.Element, private_key: rsa.RSAPrivateKey) -> bytes:
    method = delivery.find(f"{{{CPIX}}}MACMethod")
    if method is None:
        raise CpixError("the CPIX document has no MACMethod: encrypted keys must carry a MAC (CPIX §8.1.3)")
    if method.get("Algorithm") != HMAC_SHA512:
        raise CpixError(f"the MAC must be {HMAC_SHA512}, not {method.get('Algorithm')}")
    holder = method.find(_q(PSKC, "MACKey"))
    if holder is None:  # Axinom's library writes the encrypted MAC key in a Key element
        holder = next((child for child in method if child.tag.endswith("}Key")), None)
    return _rsa_decrypt(private_key, holder, "the MAC key")


def _content_key(element: ET.Element, document_key: bytes, mac_key: bytes, cls: TrackClass) -> ContentKey:
    try:
        kid = uuid.UUID(element.get("kid", "")).bytes
    except ValueError:
        raise CpixError(f"ContentKey kid {element.get('kid')!r} is not a UUID") from None
    secret = element.find(f"{{{CPIX}}}Data/{{{PSKC}}}Secret")
    if secret is None:
        raise CpixError(f"ContentKey {element.get('kid')} carries no key")
    plain = secret.find(_q(PSKC, "PlainValue"))
    if plain is not None:
        key = _b64_text(plain, "a content key")
    else:
        encrypted = secret.find(_q(PSKC, "EncryptedValue"))
        method = None if encrypted is None else encrypted.find(_q(ENC, "EncryptionMethod"))
        if method is None or method.get("Algorithm") != AES256_CBC:
            raise CpixError(f"ContentKey {element.get('kid')} must be encrypted with {AES256_CBC}")
        assert encrypted is not None
        value = _b64_text(encrypted.find(f"{{{ENC}}}CipherData/{{{ENC}}}CipherValue"), "a content key")
        mac = _b64_text(secret.find(_q(PSKC, "ValueMAC")), f"the MAC of ContentKey {element.get('kid')}")
        # CPIX §8.1.3: verify the MAC before attempting to decrypt (constant-time comparison).
        if not hmac.compare_digest(mac, hmac.new(mac_key, value, hashlib.sha512).digest()):
            raise CpixError(f"the MAC of ContentKey {element.get('kid')} does not verify: it was altered")
        if len(value) < 32 or len(value) % 16:
            raise CpixError(f"ContentKey {element.get('kid')} is not IV + AES-CBC ciphertext")
        try:
            key = _aes_cbc(document_key, value[:16], value[16:], encrypt=False)
        except ValueError:
            raise CpixError(f"ContentKey {element.get('kid')} does not decrypt (document key)") from None
    if len(key) != 16:
        raise CpixError(f"ContentKey {element.get('kid')} is {len(key)} bytes, not a 16-byte AES-128 key")
    return ContentKey(kid, key, cls)


def import_cpix(document: bytes, private_key: rsa.RSAPrivateKey) -> list[ContentKey]:
    """The content keys of a CPIX document encrypted to ``private_key``'s certificate."""
    root = validate_cpix(document)
    delivery = _recipient(root, private_key)
    path = f"{{{CPIX}}}DocumentKey/{{{CPIX}}}Data/{{{PSKC}}}Secret/{{{PSKC}}}EncryptedValue"
    doc_key_holder = delivery.find(path)
    document_key = _rsa_decrypt(private_key, doc_key_holder, "the document key")
    if len(document_key) != 32:
        raise CpixError("the document key is not 256 bits (CPIX §8.1.1)")
    mac_key = _mac_key(delivery, private_key)
    classes: dict[str, TrackClass] = {}
    for rule in root.iterfind(f"{{{CPIX}}}ContentKeyUsageRuleList/{{{CPIX}}}ContentKeyUsageRule"):
        classes[rule.get("kid", "").lower()] = _CLASSES.get(rule.get("intendedTrackType", ""), "all")
    keys = [
        _content_key(e, document_key, mac_key, classes.get(e.get("kid", "").lower(), "all"))
        for e in root.iterfind(f"{{{CPIX}}}ContentKeyList/{{{CPIX}}}ContentKey")
    ]
    if not keys:
        raise CpixError("the CPIX document has no content keys")
    return keys


def load_certificate(path: Path) -> x509.Certificate:
    """An X.509 certificate from a PEM or DER file."""
    data = _read(path)
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise CpixError(f"{path} is not an X.509 certificate (PEM or DER)") from None


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    """An unencrypted RSA private key from a PEM or DER file."""
    data = _read(path)
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_der_private_key(data, password=None)
    except TypeError:
        raise CpixError(f"{path} is encrypted: decrypt it first (openssl pkey -in {path})") from None
    except ValueError:
        raise CpixError(f"{path} is not a private key (PEM or DER)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CpixError(f"{path} is not an RSA private key (CPIX §8.1.4: RSA-OAEP)")
    return key


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CpixError(f"cannot read {path}: {exc.strerror}") from None
