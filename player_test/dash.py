"""DASH: the MPD, validated against the schema, its SegmentTemplates expanded and measured."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin
from xml.etree import ElementTree

import xmlschema
from mpegdash.parser import MPEGDASHParser

from player_test.fetch import MediaRef
from player_test.tracks import Measured, Signalling, Track, fetch_ok, measure

MP4_PROTECTION = "urn:mpeg:dash:mp4protection:2011"
DASHIF_NS = "https://dashif.org/CPS"


def license_urls(text: str, base: str) -> frozenset[str]:
    """Every ClearKey license URL of the MPD: ``dashif:Laurl`` (DASH-IF IOP 4.3 §7.7.2; older
    MPDs spell it ``laurl``)."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return frozenset()
    names = {f"{{{DASHIF_NS}}}Laurl", f"{{{DASHIF_NS}}}laurl"}
    return frozenset(urljoin(base, e.text.strip()) for e in root.iter() if e.tag in names and e.text)


def signalling(*levels: Any) -> Signalling:
    """ContentProtection descriptors of an AdaptationSet and a Representation (§5.8.4.1)."""
    schemes: set[str] = set()
    kids: set[str] = set()
    systems: set[str] = set()
    for level in levels:
        for cp in getattr(level, "content_protections", None) or []:
            uri = (cp.scheme_id_uri or "").lower()
            if uri == MP4_PROTECTION and cp.value:
                schemes.add(cp.value)
            elif uri.startswith("urn:uuid:"):
                systems.add(uri.removeprefix("urn:uuid:").replace("-", ""))
            kid = cp.cenc_default_kid or cp.default_key_id or cp.ns2_key_id
            if kid:
                kids.add(kid.replace("-", "").lower())
    return Signalling(frozenset(schemes), frozenset(kids), frozenset(systems))


if TYPE_CHECKING:
    from player_test.fetch import Fetcher
    from player_test.findings import Report

SCHEMA = Path(__file__).parent / "schemas" / "dash" / "DASH-MPD.xsd"
_TEMPLATE = re.compile(r"\$(RepresentationID|Number|Time|Bandwidth)(%0(\d+)d)?\$")
_DURATION = re.compile(r"P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?")


def parse_duration(value: str | None) -> Fraction:
    match = _DURATION.fullmatch(value or "")
    if not match:
        return Fraction(0)
    days, hours, minutes, seconds = match.groups()
    return (int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60) + Fraction(
        seconds or "0"
    )


def fill(template: str, rep_id: str, bandwidth: int, number: int = 0, time: int = 0) -> str:
    """ISO/IEC 23009-1 §5.3.9.4.4 identifiers, with the optional %0Nd width."""

    def one(match: re.Match[str]) -> str:
        value: Any = {"RepresentationID": rep_id, "Number": number, "Time": time, "Bandwidth": bandwidth}[
            match.group(1)
        ]
        width = match.group(3)
        return f"{int(value):0{int(width)}d}" if width else str(value)

    return _TEMPLATE.sub(one, template).replace("$$", "$")


def _first(*nodes: Any) -> Any:
    for node in nodes:
        if node:
            return node[0]
    return None


def _base(url: str, *levels: Any) -> str:
    for level in levels:
        bases = getattr(level, "base_urls", None)
        if bases and bases[0].base_url_value:
            url = urljoin(url, bases[0].base_url_value)
    return url


def _segments(
    template: Any, rep: Any, base: str, total: Fraction
) -> tuple[list[str], list[Fraction], list[int]]:
    """Segment URLs, durations (s) and start times (ticks) from a SegmentTemplate."""
    timescale = template.timescale or 1
    number = template.start_number if template.start_number is not None else 1
    urls: list[str] = []
    durations: list[Fraction] = []
    starts: list[int] = []
    timelines = template.segment_timelines
    if timelines:
        t = 0
        for s in timelines[0].Ss or []:
            t = s.t if s.t is not None else t
            repeat = s.r or 0
            if repeat < 0:  # -1: repeat until the end of the period
                repeat = math.ceil((total * timescale - t) / s.d) - 1
            for _ in range(repeat + 1):
                urls.append(urljoin(base, fill(template.media, rep.id, rep.bandwidth, number, t)))
                durations.append(Fraction(s.d, timescale))
                starts.append(t)
                t += s.d
                number += 1
    elif template.duration:
        count = math.ceil(total / Fraction(template.duration, timescale))
        for i in range(count):
            t = i * template.duration
            urls.append(urljoin(base, fill(template.media, rep.id, rep.bandwidth, number + i, t)))
            durations.append(min(Fraction(template.duration, timescale), total - Fraction(t, timescale)))
            starts.append(t)
    return urls, durations, starts


def check_dash(fetcher: Fetcher, report: Report, url: str) -> tuple[list[Measured], list[Measured]]:
    body = fetch_ok(fetcher, report, url)
    if body is None:
        return [], []
    text = body.decode("utf-8")
    errors = list(xmlschema.XMLSchema(str(SCHEMA), allow="local").iter_errors(text))
    report.add("schema", url, not errors, "; ".join(str(e.reason) for e in errors[:3]))
    try:
        mpd = MPEGDASHParser.parse(text)
    except Exception as exc:  # minidom and mpegdash raise assorted exceptions on bad XML
        report.add("syntax", url, False, f"does not parse: {exc}")
        return [], []
    report.add("syntax", url, bool(mpd.periods), "MPD has no Period")
    total = parse_duration(mpd.media_presentation_duration)
    licenses = license_urls(text, url)
    video: list[Measured] = []
    audio: list[Measured] = []
    for period in mpd.periods or []:
        for aset in period.adaptation_sets or []:
            kind = aset.content_type or (aset.mime_type or "").split("/")[0]
            for rep in aset.representations or []:
                template = _first(rep.segment_templates, aset.segment_templates, period.segment_templates)
                rep_url = f"{url}#{rep.id}"
                if template is None:
                    report.add("syntax", rep_url, False, "no SegmentTemplate (only templates are checked)")
                    continue
                base = _base(url, mpd, period, aset, rep)
                urls, durations, _ = _segments(template, rep, base, total)
                init_url = urljoin(base, fill(template.initialization or "", rep.id, rep.bandwidth))
                track = Track(
                    rep.id,
                    kind,
                    url,
                    MediaRef(init_url),
                    [MediaRef(u) for u in urls],
                    durations,
                    rep.width or 0,
                    rep.height or 0,
                    replace(signalling(aset, rep), license_urls=licenses),
                )
                measured = measure(fetcher, report, track)
                if measured is None:
                    continue
                _representation_rules(report, rep_url, rep, aset, measured)
                (video if measured.init.kind == "video" else audio).append(measured)
    return video, audio


def _representation_rules(report: Report, rep_url: str, rep: Any, aset: Any, measured: Measured) -> None:
    codecs = rep.codecs or aset.codecs
    report.add(
        "codecs",
        rep_url,
        codecs == measured.init.codec,
        f"@codecs {codecs!r}, media has {measured.init.codec!r}",
    )
    if measured.init.kind == "video":
        declared = (rep.width or aset.width, rep.height or aset.height)
        actual = (measured.init.width, measured.init.height)
        report.add(
            "resolution", rep_url, declared == actual, f"@width x @height {declared}, media is {actual}"
        )
    report.add(
        "bandwidth",
        rep_url,
        (rep.bandwidth or 0) >= measured.peak_bitrate,
        f"@bandwidth {rep.bandwidth} is below the measured peak {math.ceil(measured.peak_bitrate)}",
    )
