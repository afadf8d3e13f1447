"""DRM systems vodpipe signals, and the pssh box each one reads (ISO/IEC 23001-7 §8.1).

- The W3C common system (https://www.w3.org/TR/eme-initdata-cenc/): a version 1 pssh whose KID
  list is all there is; EME ClearKey uses it.
- Widevine: a version 0 pssh whose data is a ``WidevinePsshData`` protobuf (key_ids = field 2,
  protection_scheme = field 9, the scheme's fourcc as a uint32), encoded here by hand.
- PlayReady: a PlayReady Object holding one rights-management record, a UTF-16LE WRMHEADER
  v4.3.0.0 that lists the KIDs with their algorithm (AESCTR for cenc, AESCBC for cbcs).
"""

from __future__ import annotations

import base64
import uuid
from typing import Literal
from xml.etree import ElementTree as ET

from packager.isobmff.pssh import ProtectionSystemHeader

KeySystem = Literal["common", "widevine", "playready"]
COMMON_SYSTEM = uuid.UUID("1077efec-c0b2-4d02-ace3-3c1e52e2fb4b")
WIDEVINE = uuid.UUID("edef8ba9-79d6-4ace-a3c8-27dcd51d21ed")
PLAYREADY = uuid.UUID("9a04f079-9840-4286-ab92-e65be0885f95")
CLEARKEY = uuid.UUID("e2719d58-a985-b3c9-781a-b030af78d30e")  # DASH-IF scheme for EME ClearKey
PLAYREADY_NS = "http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader"
PLAYREADY_HEADER_RECORD = 1  # PlayReady Header Object record type: rights management header


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def widevine_data(kids: list[bytes], scheme: str) -> bytes:
    """WidevinePsshData: one ``key_ids`` (field 2, bytes) per KID, then ``protection_scheme``."""
    out = bytearray()
    for kid in kids:
        out += b"\x12" + _varint(len(kid)) + kid  # (2 << 3) | wire type 2
    out += b"\x48" + _varint(int.from_bytes(scheme.encode("latin-1"), "big"))  # (9 << 3) | varint
    return bytes(out)


def playready_kid(kid: bytes) -> str:
    """A KID as PlayReady writes it: base64 of the GUID in little-endian (Microsoft) byte order."""
    return base64.b64encode(uuid.UUID(bytes=kid).bytes_le).decode()


def playready_data(kids: list[bytes], scheme: str, license_url: str | None = None) -> bytes:
    """A PlayReady Object (length, record count, one WRMHEADER record), all little-endian."""
    root = ET.Element("WRMHEADER", {"xmlns": PLAYREADY_NS, "version": "4.3.0.0"})
    data = ET.SubElement(root, "DATA")
    listed = ET.SubElement(ET.SubElement(data, "PROTECTINFO"), "KIDS")
    algorithm = "AESCBC" if scheme == "cbcs" else "AESCTR"
    for kid in kids:
        ET.SubElement(listed, "KID", {"ALGID": algorithm, "VALUE": playready_kid(kid)})
    if license_url:
        ET.SubElement(data, "LA_URL").text = license_url
    record = ET.tostring(root, encoding="unicode", short_empty_elements=False).encode("utf-16-le")
    body = PLAYREADY_HEADER_RECORD.to_bytes(2, "little") + len(record).to_bytes(2, "little") + record
    return (len(body) + 6).to_bytes(4, "little") + (1).to_bytes(2, "little") + body


def pssh_box(system: KeySystem, kids: list[bytes], scheme: str, license_url: str | None = None) -> bytes:
    """The pssh for ``system`` naming ``kids`` (sorted, so output is deterministic)."""
    ordered = sorted(set(kids))
    if system == "common":
        header = ProtectionSystemHeader(COMMON_SYSTEM, tuple(ordered))
    elif system == "widevine":
        header = ProtectionSystemHeader(WIDEVINE, data=widevine_data(ordered, scheme), version=0)
    else:
        header = ProtectionSystemHeader(
            PLAYREADY, data=playready_data(ordered, scheme, license_url), version=0
        )
    return header.to_bytes()
