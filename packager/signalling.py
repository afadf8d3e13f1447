"""Encryption signalling in manifests: HLS key tags and DASH ContentProtection descriptors.

Pure functions over the rendered manifest text, so the renderers in hls.py and dash.py stay
unaware of encryption; a clear title passes through unchanged.

HLS (RFC 8216bis §4.4.4.4, §4.4.6.5): each media playlist gets one EXT-X-KEY per key system and
the multivariant playlist the same as EXT-X-SESSION-KEY, so players can start license requests
early. METHOD is SAMPLE-AES for cbcs and SAMPLE-AES-CTR for cenc.

DASH (ISO/IEC 23009-1 §5.8.4.1, ISO/IEC 23001-7 §11, DASH-IF IOP 4.3 §7): the mp4protection
descriptor with ``cenc:default_KID``, then ClearKey (with ``dashif:Laurl``, no ``cenc:pssh``),
Widevine and PlayReady with their ``cenc:pssh``. The W3C common system gets no descriptor of its
own: dash.js rejects an MPD that carries one with a license server configured, and fails on a
ClearKey descriptor that carries its pssh (see content_protection); the box stays in the init segment.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.dom import minidom

from drm.systems import CLEARKEY, PLAYREADY, WIDEVINE, pssh_box
from packager.isobmff.box import iter_boxes
from packager.isobmff.pssh import ProtectionSystemHeader

if TYPE_CHECKING:
    from drm.systems import KeySystem
    from packager.model import Rendition
    from packager.protect import Encryption

HLS_METHODS = {"cbcs": "SAMPLE-AES", "cenc": "SAMPLE-AES-CTR"}
FAIRPLAY_KEYFORMAT = "com.apple.streamingkeydelivery"
PLAYREADY_KEYFORMAT = "com.microsoft.playready"
CLEARKEY_KEYFORMAT = "org.w3.clearkey"
IDENTITY_KEYFORMAT = "identity"
MP4_PROTECTION = "urn:mpeg:dash:mp4protection:2011"
CENC_NS = "urn:mpeg:cenc:2013"
DASHIF_NS = "https://dashif.org/CPS"
# Observed in Chromium: hls.js plays ClearKey only with KEYFORMAT="org.w3.clearkey" and a license
# URI, Shaka Player only with KEYFORMAT="identity". Both tags in one playlist play in both for
# cenc; for cbcs no single playlist does, so cbcs defaults to hls.js's form (override per player
# with Encryption.hls_clearkey).
DEFAULT_HLS_CLEARKEY = {"cenc": (CLEARKEY_KEYFORMAT, IDENTITY_KEYFORMAT), "cbcs": (CLEARKEY_KEYFORMAT,)}


@dataclass(frozen=True)
class TitleProtection:
    """A packaged title's encryption, and the KID of each rendition (by its path, ``video/720p``)."""

    encryption: Encryption
    kids: dict[str, bytes]

    def kid(self, rendition: Rendition) -> bytes:
        return self.kids[rendition.path]


def _quoted(value: str) -> str:
    if '"' in value or "\n" in value:
        raise ValueError(f"an HLS quoted-string cannot hold {value!r}")
    return f'"{value}"'


def _pssh_data(system: KeySystem, kids: list[bytes], scheme: str) -> bytes:
    (found,) = iter_boxes(pssh_box(system, kids, scheme))
    return ProtectionSystemHeader.parse(found).data


def hls_keys(protection: TitleProtection, kid: bytes) -> list[str]:
    """The attribute lists of the key tags for one KID, one per configured key system."""
    enc = protection.encryption
    method = HLS_METHODS[enc.scheme]
    key_id = f"0x{kid.hex()}"
    out: list[tuple[str, str, bool]] = []  # URI, KEYFORMAT, whether KEYID is given
    clearkey = enc.hls_clearkey if enc.hls_clearkey is not None else DEFAULT_HLS_CLEARKEY[enc.scheme]
    if "common" in enc.systems:
        if CLEARKEY_KEYFORMAT in clearkey and enc.license_url:
            out.append((enc.license_url, CLEARKEY_KEYFORMAT, True))
        if IDENTITY_KEYFORMAT in clearkey and enc.key_uri:
            out.append((enc.key_uri(kid), IDENTITY_KEYFORMAT, True))
    if "widevine" in enc.systems:
        box = base64.b64encode(pssh_box("widevine", [kid], enc.scheme)).decode()
        out.append((f"data:text/plain;base64,{box}", f"urn:uuid:{WIDEVINE}", True))
    if "playready" in enc.systems:
        pro = base64.b64encode(_pssh_data("playready", [kid], enc.scheme)).decode()
        out.append((f"data:text/plain;charset=UTF-16;base64,{pro}", PLAYREADY_KEYFORMAT, False))
    if enc.fairplay_uri:
        out.append((enc.fairplay_uri, FAIRPLAY_KEYFORMAT, False))
    return [
        f"METHOD={method},URI={_quoted(uri)}"
        + (f",KEYID={key_id}" if with_kid else "")
        + f",KEYFORMAT={_quoted(keyformat)},KEYFORMATVERSIONS={_quoted('1')}"
        for uri, keyformat, with_kid in out
    ]


def _insert_before(text: str, prefixes: tuple[str, ...], lines: list[str]) -> str:
    rows = text.splitlines(keepends=True)
    at = next((i for i, row in enumerate(rows) if row.startswith(prefixes)), len(rows))
    return "".join(rows[:at] + [line + "\n" for line in lines] + rows[at:])


def signal_media_playlist(text: str, rendition: Rendition, protection: TitleProtection | None) -> str:
    """EXT-X-KEY tags before the EXT-X-MAP, so they apply to every segment (§4.4.4.4)."""
    if protection is None:
        return text
    tags = [f"#EXT-X-KEY:{attrs}" for attrs in hls_keys(protection, protection.kid(rendition))]
    return _insert_before(text, ("#EXT-X-MAP", "#EXTINF", "#EXT-X-BYTERANGE"), tags)


def signal_master_playlist(text: str, protection: TitleProtection | None) -> str:
    """EXT-X-SESSION-KEY for every KID of the title (§4.4.6.5), ahead of the renditions."""
    if protection is None:
        return text
    tags = [
        f"#EXT-X-SESSION-KEY:{attrs}"
        for kid in sorted(set(protection.kids.values()))
        for attrs in hls_keys(protection, kid)
    ]
    return _insert_before(text, ("#EXT-X-MEDIA", "#EXT-X-STREAM-INF", "#EXT-X-I-FRAME-STREAM-INF"), tags)


def _element(
    doc: minidom.Document, name: str, attrs: dict[str, str], text: str | None = None
) -> minidom.Element:
    node = doc.createElement(name)
    for key, value in attrs.items():
        node.setAttribute(key, value)
    if text is not None:
        node.appendChild(doc.createTextNode(text))
    return node


def _pssh_text(system: KeySystem, kids: list[bytes], scheme: str) -> str:
    return base64.b64encode(pssh_box(system, kids, scheme)).decode()


def content_protection(
    doc: minidom.Document, protection: TitleProtection, kids: list[bytes]
) -> list[minidom.Element]:
    """The descriptors for a set of Representations sharing ``kids`` (the first is the default)."""
    enc = protection.encryption
    default_kid = str(uuid.UUID(bytes=kids[0]))
    out = [
        _element(
            doc,
            "ContentProtection",
            {"schemeIdUri": MP4_PROTECTION, "value": enc.scheme, "cenc:default_KID": default_kid},
        )
    ]

    def system(system_id: uuid.UUID, value: str | None, pssh: str | None, laurl: str | None = None) -> None:
        attrs = {"schemeIdUri": f"urn:uuid:{system_id}"}
        if value:
            attrs["value"] = value
        node = _element(doc, "ContentProtection", attrs)
        if laurl:
            node.appendChild(_element(doc, "dashif:Laurl", {}, laurl))
        if pssh:
            node.appendChild(_element(doc, "cenc:pssh", {}, pssh))
        out.append(node)

    if "common" in enc.systems:
        # No cenc:pssh here: dash.js 5.2 takes a ClearKey descriptor's pssh as its init data and
        # then asks the CDM for it as "keyids" (a TypeError in Chromium); without one it builds
        # the keyids JSON from cenc:default_KID, which is what EME ClearKey wants. The common
        # pssh stays in the init segment for every other player.
        system(CLEARKEY, "ClearKey1.0", None, enc.license_url)
    if "widevine" in enc.systems:
        system(WIDEVINE, "Widevine", _pssh_text("widevine", kids, enc.scheme))
    if "playready" in enc.systems:
        system(PLAYREADY, "MSPR 2.0", _pssh_text("playready", kids, enc.scheme))
    return out


_BEFORE_PROTECTION = ("FramePacking", "AudioChannelConfiguration", "ContentProtection")


def _prepend(parent: minidom.Element, nodes: list[minidom.Element]) -> None:
    """Insert in schema order (RepresentationBaseType: FramePacking, AudioChannelConfiguration,
    ContentProtection, then the rest)."""
    anchor = _first_after(parent, _BEFORE_PROTECTION)
    for node in nodes:
        parent.insertBefore(node, anchor)


def _rendition_path(representation: minidom.Element) -> str | None:
    for template in representation.getElementsByTagName("SegmentTemplate"):
        init = template.getAttribute("initialization")
        if "/" in init:
            return init.rsplit("/", 1)[0]
    return None


SET_SWITCHING = "urn:mpeg:dash:adaptation-set-switching:2016"
_BEFORE_SUPPLEMENTAL = (*_BEFORE_PROTECTION, "OutputProtection", "EssentialProperty", "SupplementalProperty")


def _kid_of(protection: TitleProtection, representation: minidom.Element) -> bytes:
    path = _rendition_path(representation)
    kid = protection.kids.get(path or "")
    if kid is None:
        raise ValueError(f"Representation {path or '?'} was not packaged with a key")
    return kid


def _first_after(parent: minidom.Element, names: tuple[str, ...]) -> minidom.Element | None:
    """The first child element not named in ``names``: where the next schema group starts."""
    return next(
        (c for c in parent.childNodes if isinstance(c, minidom.Element) and c.tagName not in names), None
    )


def _clone(element: minidom.Element) -> minidom.Element:
    copy = element.cloneNode(deep=True)
    if not isinstance(copy, minidom.Element):
        raise TypeError("cloning an element gave no element")
    return copy


def _split_by_kid(
    doc: minidom.Document, aset: minidom.Element, protection: TitleProtection, next_id: int
) -> list[tuple[minidom.Element, bytes]]:
    """One AdaptationSet per KID (DASH-IF IOP 4.3 §7.7.2: every Representation of an
    AdaptationSet has the same default_KID), in the order the KIDs first appear; the copies
    take fresh ids and are linked for switching (ISO/IEC 23009-1 §5.3.3.5)."""
    order: list[bytes] = []
    for rep in aset.getElementsByTagName("Representation"):
        kid = _kid_of(protection, rep)
        if kid not in order:
            order.append(kid)
    sets = [aset] + [_clone(aset) for _ in order[1:]]
    parent = aset.parentNode
    if not isinstance(parent, minidom.Element):
        raise ValueError("an AdaptationSet outside a Period")
    following = aset.nextSibling
    anchor = following if isinstance(following, (minidom.Element, minidom.Text)) else None
    for i, (copy, kid) in enumerate(zip(sets, order, strict=True)):
        for rep in list(copy.getElementsByTagName("Representation")):
            if _kid_of(protection, rep) != kid:
                copy.removeChild(rep)
        if i:
            copy.setAttribute("id", str(next_id + i - 1))
            parent.insertBefore(copy, anchor)
    if len(sets) > 1:
        ids = [copy.getAttribute("id") for copy in sets]
        for copy in sets:
            others = ",".join(i for i in ids if i != copy.getAttribute("id"))
            prop = _element(doc, "SupplementalProperty", {"schemeIdUri": SET_SWITCHING, "value": others})
            copy.insertBefore(prop, _first_after(copy, _BEFORE_SUPPLEMENTAL))
    return list(zip(sets, order, strict=True))


def signal_mpd(text: str, protection: TitleProtection | None) -> str:
    """ContentProtection on every AdaptationSet; a set whose Representations have different
    keys (per-class key policy) is split into one set per key, linked for switching."""
    if protection is None:
        return text
    doc = minidom.parseString(text)
    root = doc.documentElement
    if root is None:
        raise ValueError("the MPD has no root element")
    root.setAttribute("xmlns:cenc", CENC_NS)
    root.setAttribute("xmlns:dashif", DASHIF_NS)
    sets = list(root.getElementsByTagName("AdaptationSet"))
    next_id = 1 + max((int(a.getAttribute("id")) for a in sets if a.getAttribute("id").isdigit()), default=-1)
    for aset in sets:
        split = _split_by_kid(doc, aset, protection, next_id)
        next_id += len(split) - 1
        for copy, kid in split:
            _prepend(copy, content_protection(doc, protection, [kid]))
    out: str = doc.toprettyxml(indent="  ", encoding="UTF-8").decode()
    # toprettyxml re-indents the already indented text; keep one line per element.
    return "\n".join(line for line in out.splitlines() if line.strip()) + "\n"
