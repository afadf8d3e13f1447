"""Manifests that carry a signature on to what they name: parsed once, filled in per request.

A player resolves a manifest's relative URIs against the manifest's URL, and RFC 3986 §5.2.2
drops the base's query when it does: a segment named ``seg-1.m4s`` in a manifest fetched with
``?exp=..&sig=..`` is fetched without them. So every URI that resolves under the signed prefix
gets the query appended:

- HLS (RFC 8216bis §4.1, §4.4): URI lines (variant and media playlists, segments) and every
  ``URI="..."`` attribute of a tag (``EXT-X-MAP``, ``EXT-X-MEDIA``, ``EXT-X-I-FRAME-STREAM-INF``,
  ``EXT-X-KEY``...).
- DASH (ISO/IEC 23009-1 §5.3.9): ``SegmentTemplate@media/@initialization/@index``,
  ``SegmentURL@media/@index``, ``Initialization``/``RepresentationIndex@sourceURL``, and a
  ``BaseURL`` that names a file (``SegmentBase``: the BaseURL is the media URL). A ``BaseURL``
  folder only moves the base the others resolve against: a query on it would be dropped too.
  Players differ in whether they copy the MPD's query to segment requests (dash.js and Shaka do
  not by default), so the templates themselves carry it. The query is XML-escaped there, and
  needs no ``$`` escape (§5.3.9.4.4): it has none.

URIs with a scheme or an authority (a license server, another CDN) are left alone: the signature
is for this origin. The parse keeps the manifest's bytes and cuts them where a query goes; the
render per request is a join.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from vodpipe.errors import PackagingError

if TYPE_CHECKING:
    from origin.signing import Grant


@dataclass(frozen=True)
class Slot:
    """Where a query may go: after a URI that resolves to ``path`` (which the grant must cover)."""

    path: str
    separator: bytes  # b"?", or b"&" when the URI has a query already


@dataclass(frozen=True)
class Template:
    texts: tuple[bytes, ...]  # the manifest cut at each slot: one more text than slots
    slots: tuple[Slot, ...]
    xml: bool  # the query is written XML-escaped

    def render(self, grant: Grant) -> bytes:
        query = grant.query.replace("&", "&amp;") if self.xml else grant.query
        encoded = query.encode()
        out = [self.texts[0]]
        for slot, text in zip(self.slots, self.texts[1:], strict=True):
            if grant.covers(slot.path):
                out += (slot.separator, encoded)
            out.append(text)
        return b"".join(out)


def _slot(base: str, uri: str) -> Slot | None:
    """The slot for ``uri`` resolved against the path ``base``; none for another server's URI."""
    parts = urlsplit(uri.strip())
    if parts.scheme or parts.netloc:
        return None
    return Slot(urljoin(base, parts.path), b"&" if parts.query else b"?")


def _cut(data: bytes, cuts: list[tuple[int, Slot]], xml: bool) -> Template:
    texts, slots, start = [], [], 0
    for offset, slot in sorted(cuts, key=lambda c: c[0]):
        texts.append(data[start:offset])
        slots.append(slot)
        start = offset
    texts.append(data[start:])
    return Template(tuple(texts), tuple(slots), xml)


def _uri_end(raw: bytes, start: int, end: int) -> int:
    """Where a query goes in the URI ``raw[start:end]``: before its fragment, after trailing spaces."""
    hash_at = raw.find(b"#", start, end)
    end = hash_at if hash_at >= 0 else end
    while end > start and raw[end - 1 : end].isspace():
        end -= 1
    return end


_LINE = re.compile(rb"^[^\r\n]*", re.M)
_URI_ATTR = re.compile(rb'(?<=[:,])URI="([^"]*)"')  # RFC 8216bis §4.2: quoted-string, no escapes


def hls_template(data: bytes, path: str) -> Template:
    """An HLS playlist at ``path`` (the request's), cut where queries go. RFC 8216bis §4.1 makes
    playlists UTF-8; bytes that are not still get the query, never an error."""
    cuts: list[tuple[int, Slot]] = []
    for line in _LINE.finditer(data):
        text = line.group()
        if text.startswith(b"#EXT"):
            for attr in _URI_ATTR.finditer(text):
                slot = _slot(path, attr.group(1).decode(errors="replace"))
                at = line.start()
                if slot is not None:
                    cuts.append((_uri_end(data, at + attr.start(1), at + attr.end(1)), slot))
        elif text.strip() and not text.startswith(b"#"):
            slot = _slot(path, text.decode(errors="replace"))
            if slot is not None:
                cuts.append((_uri_end(data, line.start(), line.end()), slot))
    return _cut(data, cuts, xml=False)


# §5.3.9: the attributes of the segment information elements that hold URLs or URL templates
_DASH_URLS = {
    "SegmentTemplate": ("media", "initialization", "index"),
    "SegmentURL": ("media", "index"),
    "Initialization": ("sourceURL",),
    "RepresentationIndex": ("sourceURL",),
}
_ATTR = re.compile(rb"""\s([A-Za-z_:][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def dash_template(data: bytes, path: str) -> Template:
    """An MPD at ``path`` (the request's), cut where queries go; ``PackagingError`` if not XML."""
    parser = xml.parsers.expat.ParserCreate()
    cuts: list[tuple[int, Slot]] = []
    bases: list[str | None] = [path]  # per open element: what its URLs resolve against (None: elsewhere)
    text: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        base = bases[-1]
        bases.append(base)
        text.clear()
        wanted = _DASH_URLS.get(local)
        if wanted is None or base is None:
            return
        tag_start = parser.CurrentByteIndex
        tag_end = data.index(b">", tag_start)  # `>` may sit in a value: matches below stay in the tag
        for attr in _ATTR.finditer(data, tag_start, _tag_end(data, tag_start, tag_end)):
            if attr.group(1).decode().rpartition(":")[2] not in wanted:
                continue
            group = 2 if attr.group(2) is not None else 3
            slot = _slot(base, attrs.get(attr.group(1).decode(), ""))
            if slot is not None:
                cuts.append((_uri_end(data, attr.start(group), attr.end(group)), slot))

    def end(name: str) -> None:
        bases.pop()
        if name.rpartition(":")[2] != "BaseURL" or bases[-1] is None:
            return
        url = "".join(text).strip()
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            bases[-1] = None  # the parent's media are on another server
            return
        bases[-1] = urljoin(bases[-1], parts.path)
        if url and not url.endswith("/"):  # the BaseURL is the media itself (SegmentBase)
            close = parser.CurrentByteIndex
            cuts.append((_uri_end(data, data.rindex(b">", 0, close) + 1, close), Slot(bases[-1], b"?")))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise PackagingError(f"the MPD is not well-formed XML: {exc}") from None
    return _cut(data, cuts, xml=True)


_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")


def _tag_end(data: bytes, start: int, fallback: int) -> int:
    """The end of the start tag at ``start``, stepping over ``>`` inside quoted values."""
    match = _TAG.match(data, start)
    return match.end() if match else fallback
