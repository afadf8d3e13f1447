"""DASH: the MPD, validated against the schema, every Representation addressed, measured and judged."""

from __future__ import annotations

import math
import re
import struct
import xml.etree.ElementTree as ET
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin
from xml.etree import ElementTree

import xmlschema
from mpegdash.parser import MPEGDASHParser

from player_test.bitrate import verdict
from player_test.buffer_model import minimal_bandwidth
from player_test.dash_segments import Addressing, AddressingError, addressing, with_index
from player_test.media import MediaError, read_init
from player_test.tracks import Measured, Signalling, Track, fetch_ok, measure, tolerance

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
_DURATION = re.compile(r"P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?")


def parse_duration(value: str | None) -> Fraction:
    match = _DURATION.fullmatch(value or "")
    if not match:
        return Fraction(0)
    days, hours, minutes, seconds = match.groups()
    return (int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60) + Fraction(
        seconds or "0"
    )


# DASH-IF IOP v4.3 §3.2.7 (segment durations under simple addressing, @duration): a segment's media
# may start away from its nominal start i x @duration by at most half the nominal duration; the
# drift is what matters, not each segment (AWS MediaPackage documents the same 50 % bound).
DRIFT = Fraction(1, 2)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _raw_sets(text: str) -> list[list[dict[str, str]]]:
    """Each Period's AdaptationSet attributes as written: mpegdash reads ``"false"`` as True."""
    root = ET.fromstring(text)
    return [
        [dict(a.attrib) for a in period if _local(a.tag) == "AdaptationSet"]
        for period in root
        if _local(period.tag) == "Period"
    ]


def _base(url: str, *levels: Any) -> str:
    """BaseURL resolution at every level, each relative to the one above (§5.6.4)."""
    for level in levels:
        bases = getattr(level, "base_urls", None)
        if bases and bases[0].base_url_value:
            url = urljoin(url, bases[0].base_url_value.strip())
    return url


def check_dash(fetcher: Fetcher, report: Report, url: str) -> tuple[list[Measured], list[Measured]]:
    body = fetch_ok(fetcher, report, url)
    if body is None:
        return [], []
    text = body.decode("utf-8")
    errors = list(xmlschema.XMLSchema(str(SCHEMA), allow="local").iter_errors(text))
    report.add("schema", url, not errors, "; ".join(str(e.reason) for e in errors[:3]))
    try:
        mpd = MPEGDASHParser.parse(text)
        raw = _raw_sets(text)
    except Exception as exc:  # minidom and mpegdash raise assorted exceptions on bad XML
        report.add("syntax", url, False, f"does not parse: {exc}")
        return [], []
    report.add("syntax", url, bool(mpd.periods), "MPD has no Period")
    min_buffer_time = parse_duration(mpd.min_buffer_time)
    report.add("syntax", url, min_buffer_time > 0, "MPD@minBufferTime is missing or zero (§5.3.1.2)")
    licenses = license_urls(text, url)
    video: list[Measured] = []
    audio: list[Measured] = []
    for p, period in enumerate(mpd.periods or []):
        total = parse_duration(period.duration) or parse_duration(mpd.media_presentation_duration)
        for a, aset in enumerate(period.adaptation_sets or []):
            attrs = raw[p][a] if p < len(raw) and a < len(raw[p]) else {}
            kind = aset.content_type or (aset.mime_type or "").split("/")[0]
            measured_set: list[Measured] = []
            for rep in aset.representations or []:
                rep_url = f"{url}#{rep.id}"
                base = _base(url, mpd, period, aset, rep)
                try:
                    addr = addressing(rep, aset, period, base, total)
                except AddressingError as exc:
                    report.add("syntax", rep_url, False, str(exc))
                    continue
                measured = _measure(fetcher, report, rep_url, rep, aset, kind, url, addr, licenses)
                if measured is None:
                    continue
                if addr.nominal is not None:
                    _drift(report, rep_url, measured, addr.nominal, total)
                _representation_rules(report, rep_url, rep, aset, measured, min_buffer_time)
                measured_set.append(measured)
            if kind == "video" or any(m.init.kind == "video" for m in measured_set):
                _video_signalling(
                    report, f"{url}#AdaptationSet={aset.id if aset.id is not None else a}", aset
                )
            _alignment(report, attrs, measured_set)
            for m in measured_set:
                (video if m.init.kind == "video" else audio).append(m)
    return video, audio


def _measure(
    fetcher: Fetcher,
    report: Report,
    rep_url: str,
    rep: Any,
    aset: Any,
    kind: str,
    url: str,
    addr: Addressing,
    licenses: frozenset[str],
) -> Measured | None:
    if addr.index is not None:  # SegmentBase: the subsegments come from the sidx
        index = fetch_ok(fetcher, report, addr.index)
        if index is None:
            return None
        try:
            addr = with_index(addr, index)
        except (MediaError, struct.error) as exc:
            report.add("syntax", str(addr.index), False, f"@indexRange: {exc}")
            return None
    track = Track(
        rep.id,
        kind,
        url,
        addr.init,
        addr.segments,
        addr.durations,
        rep.width or 0,
        rep.height or 0,
        replace(signalling(aset, rep), license_urls=licenses),
    )
    if addr.presentation_time_offset and addr.init is not None:
        # @presentationTimeOffset is in the MPD's @timescale; presentation time is in the media's.
        init = fetcher.get(addr.init)
        try:
            media_timescale = read_init(init.body).timescale if not init.failed else addr.timescale
        except (MediaError, IndexError, ValueError, struct.error):
            media_timescale = addr.timescale  # measure() reports the broken header
        track = replace(
            track,
            presentation_time_offset=round(
                Fraction(addr.presentation_time_offset * media_timescale, addr.timescale)
            ),
        )
    measured = measure(fetcher, report, track, each_duration=False)
    if measured is not None and addr.nominal is None:
        _media_durations(report, measured)
    return measured


def _media_durations(report: Report, measured: Measured) -> None:
    """SegmentTimeline S@d and sidx subsegment_duration against each segment's media duration.

    MPD and sidx durations are media durations (ISO/IEC 23009-1 §5.3.9.6; ISO/IEC 14496-12
    §8.16.3): a segment that starts before the Period (@presentationTimeOffset) or whose first
    samples an edit list skips (AAC priming) still lasts its whole media duration there; where
    it lands on the timeline is the alignment and A/V sync rules' business.
    """
    for ref, declared, timing in zip(
        measured.track.segments, measured.track.durations, measured.timings, strict=True
    ):
        actual = measured.seconds(timing.duration)
        allowed = tolerance(measured.init, timing)
        report.add(
            "duration",
            str(ref),
            abs(actual - declared) <= allowed,
            f"declared {float(declared):.6f} s, media {float(actual):.6f} s "
            f"(tolerance {float(allowed) * 1000:.1f} ms)",
        )


def drift(starts: list[Fraction], end: Fraction, nominal: Fraction, total: Fraction) -> tuple[Fraction, int]:
    """The largest distance of a segment boundary from where @duration puts it, and its index.

    Segment i starts at i x @duration on the Period's timeline; the last one ends at the Period's
    end (ISO/IEC 23009-1 §5.3.9.5.3, simple addressing).
    """
    actual = [*starts, end]
    expected = [min(i * nominal, total) for i in range(len(starts))] + [total]
    worst, at = Fraction(0), 0
    for i, (x, y) in enumerate(zip(actual, expected, strict=True)):
        if abs(x - y) > worst:
            worst, at = abs(x - y), i
    return worst, at


def _drift(report: Report, rep_url: str, measured: Measured, nominal: Fraction, total: Fraction) -> None:
    """Simple addressing: each boundary within half a nominal duration of where @duration puts it."""
    worst, at = drift([start for start, _ in measured.boundaries], measured.end, nominal, total)
    report.add(
        "duration",
        rep_url,
        worst <= nominal * DRIFT,
        f"{measured.track.id}: segment boundary {at + 1} drifts {float(worst):.3f} s from its nominal "
        f"@duration position (limit {float(nominal * DRIFT):.3f} s)",
    )


def _representation_rules(
    report: Report, rep_url: str, rep: Any, aset: Any, measured: Measured, min_buffer_time: Fraction
) -> None:
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
            "signalling",
            rep_url,
            bool(rep.sar or aset.sar),
            "Representation has no @sar (DASH-IF IOP §3.2.4)",
            severity="warning",
        )
    if min_buffer_time <= 0:
        return
    sizes = [len(body) for body in measured.bodies]
    needed = minimal_bandwidth(sizes, measured.durations, min_buffer_time)
    declared_bw = rep.bandwidth or 0
    ok, severity = verdict(declared_bw, needed)
    report.add(
        "bandwidth",
        rep_url,
        ok,
        f"@bandwidth {declared_bw} fails the buffer model: with @minBufferTime "
        f"{float(min_buffer_time):g} s it needs at least {math.ceil(needed)} b/s",
        severity=severity,
    )


def _video_signalling(report: Report, where: str, aset: Any) -> None:
    """DASH-IF IOP v4.3 §3.2.4: a video AdaptationSet carries @maxWidth, @maxHeight, @maxFrameRate
    (or the common @width, @height, @frameRate) and @par."""
    missing = [
        name
        for name, present in (
            ("@par", aset.par),
            ("@maxWidth", aset.max_width or aset.width),
            ("@maxHeight", aset.max_height or aset.height),
            ("@maxFrameRate", aset.max_frame_rate or aset.frame_rate),
        )
        if not present
    ]
    report.add(
        "signalling",
        where,
        not missing,
        f"video AdaptationSet lacks {', '.join(missing)} (DASH-IF IOP §3.2.4)",
        severity="warning",
    )


def _alignment(report: Report, attrs: dict[str, str], measured: list[Measured]) -> None:
    """Where segmentAlignment/subsegmentAlignment promise it, every Representation's (sub)segments
    start at the same presentation times (ISO/IEC 23009-1 §5.3.3.2), within half a frame."""
    promised = [
        name
        for name in ("segmentAlignment", "subsegmentAlignment")
        if attrs.get(name, "false").strip().lower() != "false"
    ]
    if len(measured) < 2 or not promised:
        return
    reference = measured[0]
    starts = [start for start, _ in reference.boundaries]
    allowed = tolerance(reference.init, reference.timings[0])
    for other in measured[1:]:
        theirs = [start for start, _ in other.boundaries]
        bad = next(
            (i for i, (x, y) in enumerate(zip(theirs, starts, strict=False)) if abs(x - y) > allowed),
            None if len(theirs) == len(starts) else min(len(theirs), len(starts)),
        )
        report.add(
            "alignment",
            other.track.declared_in,
            bad is None,
            f"{promised[0]} promised, but {other.track.id} differs from {reference.track.id} "
            f"from segment {(bad or 0) + 1}",
        )
