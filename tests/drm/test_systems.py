"""pssh boxes of the three systems, golden bytes worked out by hand from each system's format."""

from __future__ import annotations

import base64

from drm.systems import PLAYREADY, playready_kid, pssh_box
from packager.isobmff.box import iter_boxes
from packager.isobmff.pssh import ProtectionSystemHeader

KID = bytes.fromhex("0123456789abcdef0123456789abcdef")


def test_common_system_pssh_v1_lists_the_kid() -> None:
    expected = "0000003470737368010000001077efecc0b24d02ace33c1e52e2fb4b00000001" + KID.hex() + "00000000"
    assert pssh_box("common", [KID], "cenc").hex() == expected


def test_widevine_pssh_protobuf_golden() -> None:
    # key_ids: tag 0x12, length 16, KID; protection_scheme: tag 0x48, varint of 'cenc' (0x63656e63).
    data = "1210" + KID.hex() + "48" + "e3dc959b06"
    expected = "000000387073736800000000edef8ba979d64acea3c827dcd51d21ed00000018" + data
    assert pssh_box("widevine", [KID], "cenc").hex() == expected
    # 'cbcs' = 0x63626373 → varint f3 c6 89 9b 06
    assert pssh_box("widevine", [KID], "cbcs").hex().endswith("48f3c6899b06")


def test_playready_object_golden() -> None:
    # The KID in GUID little-endian order: first three groups byte-swapped.
    assert playready_kid(KID) == base64.b64encode(bytes.fromhex("67452301ab89efcd0123456789abcdef")).decode()
    box = pssh_box("playready", [KID], "cbcs", "https://lic.example/pr")
    (found,) = iter_boxes(box)
    header = ProtectionSystemHeader.parse(found)
    assert (header.system_id, header.version, header.kids) == (PLAYREADY, 0, ())
    xml = (
        '<WRMHEADER xmlns="http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader" version="4.3.0.0">'
        "<DATA><PROTECTINFO><KIDS>"
        f'<KID ALGID="AESCBC" VALUE="{playready_kid(KID)}"></KID>'
        "</KIDS></PROTECTINFO><LA_URL>https://lic.example/pr</LA_URL></DATA></WRMHEADER>"
    ).encode("utf-16-le")
    record = (1).to_bytes(2, "little") + len(xml).to_bytes(2, "little") + xml
    assert header.data == (len(record) + 6).to_bytes(4, "little") + b"\x01\x00" + record
