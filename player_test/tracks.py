"""Renditions as a manifest declares them, measured against what their URLs really serve."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import TYPE_CHECKING

from player_test.aes import SegmentKey, decrypt
from player_test.fetch import BROWSER_ORIGIN, Fetcher, MediaRef
from player_test.media import InitInfo, MediaError, SegmentTiming, frame_size, read_init, read_segment
from player_test.ts import read_ts

if TYPE_CHECKING:
    from player_test.findings import Report

MS = Fraction(1, 1000)


@dataclass(frozen=True)
class Signalling:
    """What a manifest says about a rendition's encryption."""

    schemes: frozenset[str] = frozenset()  # "cenc" / "cbcs", from EXT-X-KEY METHOD or mp4protection
    kids: frozenset[str] = frozenset()  # default KIDs, 32 lowercase hex digits
    systems: frozenset[str] = frozenset()  # DRM system IDs named by the manifest
    license_urls: frozenset[str] = frozenset()  # ClearKey: dashif:Laurl, KEYFORMAT="org.w3.clearkey" URI
    key_uris: frozenset[str] = frozenset()  # HLS KEYFORMAT="identity" URIs: each answers the raw key

    @property
    def encrypted(self) -> bool:
        return bool(self.schemes or self.systems)


@dataclass
class Track:
    """One rendition as declared: where its init and segments are and how long each one is.

    Every piece of media is a ``MediaRef`` (a URL, or a byte range of one), so HLS byte ranges,
    DASH SegmentBase/sidx and SegmentList reach the same measuring code as whole-file segments.
    """

    id: str
    kind: str  # "video" or "audio", as the manifest says
    declared_in: str  # the playlist or MPD that declares it
    init: MediaRef | None  # None: self-initialising segments (MPEG-TS)
    segments: list[MediaRef]
    durations: list[Fraction]  # EXTINF or the MPD's, in seconds
    width: int = 0
    height: int = 0
    signalling: Signalling = Signalling()
    presentation_time_offset: int = 0  # DASH @presentationTimeOffset, in track timescale ticks
    keys: list[SegmentKey | None] = field(default_factory=list)  # HLS METHOD=AES-128, per segment
    init_key: SegmentKey | None = None  # HLS METHOD=AES-128 over the EXT-X-MAP

    @property
    def init_url(self) -> str:
        return self.init.url if self.init else self.declared_in


@dataclass
class Measured:
    """A rendition's media as fetched, with presentation times as a player computes them."""

    track: Track
    init: InitInfo
    init_bytes: bytes
    timings: list[SegmentTiming]
    bodies: list[bytes] = field(repr=False)  # as the decoder gets them (decrypted)
    stream_codecs: tuple[str, ...] = ()  # every codec in a multiplexed (TS) segment

    @property
    def codecs(self) -> tuple[str, ...]:
        return self.stream_codecs or (self.init.codec,)

    def seconds(self, ticks: int) -> Fraction:
        return Fraction(ticks, self.init.timescale)

    def presentation(self, i: int) -> tuple[Fraction, Fraction]:
        """Start and end of segment ``i`` on the presentation timeline, in seconds.

        Media time minus the edit list's skipped media_time, plus its empty-edit delay, minus
        DASH @presentationTimeOffset (ISO/IEC 14496-12 §8.6.6; ISO/IEC 23009-1 §5.3.9.2); media
        that falls before the presentation's start (AAC priming) is not presented.
        """
        t = self.timings[i]
        shift = self.init.edit_delay - self.init.edit_skip - self.track.presentation_time_offset
        start = max(t.earliest_media + shift, self.init.edit_delay)
        end = max(t.earliest_media + t.duration + shift, start)
        return self.seconds(start), self.seconds(end)

    @property
    def start(self) -> Fraction:
        return self.presentation(0)[0] if self.timings else Fraction(0)

    @property
    def end(self) -> Fraction:
        return self.presentation(len(self.timings) - 1)[1] if self.timings else Fraction(0)

    @property
    def total(self) -> Fraction:
        return self.end - self.start

    @property
    def durations(self) -> list[Fraction]:
        """Presented duration of each segment, in seconds."""
        return [end - start for start, end in map(self.presentation, range(len(self.timings)))]

    @property
    def boundaries(self) -> list[tuple[Fraction, Fraction]]:
        return [(start, end - start) for start, end in map(self.presentation, range(len(self.timings)))]

    @property
    def peak_bitrate(self) -> Fraction:
        return max(
            (Fraction(len(b) * 8) / d for b, d in zip(self.bodies, self.durations, strict=True) if d),
            default=Fraction(0),
        )


def tolerance(init: InitInfo, timing: SegmentTiming) -> Fraction:
    """How far a declared duration may be from the media: half a video frame, one audio frame."""
    frame = Fraction(timing.frame or 1, init.timescale)
    return frame / 2 if init.kind == "video" else frame


def check_cors(report: Report, url: str, headers: object) -> None:
    allowed = getattr(headers, "get", lambda _k, _d=None: None)("Access-Control-Allow-Origin")
    report.add("cors", url, allowed in ("*", BROWSER_ORIGIN), f"Access-Control-Allow-Origin is {allowed!r}")


def fetch_ok(fetcher: Fetcher, report: Report, ref: MediaRef | str) -> bytes | None:
    """The body of a URL or a byte range of one; a finding either way."""
    ref = ref if isinstance(ref, MediaRef) else MediaRef(ref)
    response = fetcher.get(ref)
    if response.error and response.status in (200, 206):  # fetched, but not the range asked for
        report.add("range", str(ref), False, response.error)
        return None
    if not report.add("fetch", str(ref), not response.failed, response.error or f"status {response.status}"):
        return None
    check_cors(report, ref.url, response.headers)
    return response.body


def check_range_and_preflight(fetcher: Fetcher, report: Report, url: str) -> None:
    """What a browser does before and while fetching part of a segment."""
    ranged = fetcher.request(url, headers={"Range": "bytes=0-99"})
    content_range = ranged.headers.get("Content-Range", "")
    ok = ranged.status == 206 and content_range.startswith("bytes 0-99/") and len(ranged.body) == 100
    report.add("range", url, ok, f"status {ranged.status}, Content-Range {content_range!r}")
    exposed = {h.strip().lower() for h in ranged.headers.get("Access-Control-Expose-Headers", "").split(",")}
    report.add(
        "cors",
        url,
        {"content-range", "content-length"} <= exposed or "*" in exposed,
        f"Content-Range/Content-Length not exposed (exposed: {sorted(exposed)})",
    )
    preflight = fetcher.request(
        url,
        method="OPTIONS",
        headers={"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range"},
    )
    allowed = {
        h.strip().lower() for h in preflight.headers.get("Access-Control-Allow-Headers", "").split(",")
    }
    ok = 200 <= preflight.status < 300 and ("range" in allowed or "*" in allowed)
    report.add(
        "cors", url, ok, f"preflight for Range: status {preflight.status}, allowed headers {sorted(allowed)}"
    )


def check_encryption(report: Report, track: Track, init: InitInfo) -> None:
    """The manifest's encryption signalling must say what the init segment's tenc/pssh say."""
    said, media = track.signalling, init
    if not said.encrypted and not media.protection:
        report.add("encryption", track.declared_in, True)
        return
    if said.encrypted != bool(media.protection):
        state = f"encrypted ({', '.join(media.protection)})" if media.protection else "clear"
        report.add(
            "encryption",
            track.declared_in,
            False,
            f"{track.id}: media is {state} but the manifest "
            f"{'signals' if said.encrypted else 'does not signal'} encryption",
        )
        return
    ok = not said.schemes or bool(said.schemes & set(media.protection))
    report.add(
        "encryption",
        track.declared_in,
        ok,
        f"{track.id}: manifest scheme {sorted(said.schemes)}, tenc/schm says {list(media.protection)}",
    )
    if said.kids and media.default_kid:
        report.add(
            "encryption",
            track.declared_in,
            media.default_kid in said.kids,
            f"{track.id}: manifest KIDs {sorted(said.kids)}, tenc default_KID {media.default_kid}",
        )


def _fetch_clear(fetcher: Fetcher, report: Report, ref: MediaRef, key: SegmentKey | None) -> bytes | None:
    """One file as fetched and, under METHOD=AES-128, decrypted with its key."""
    body = fetch_ok(fetcher, report, ref)
    if body is None or key is None:
        return body
    secret = fetch_ok(fetcher, report, key.uri)
    if secret is None:
        return None
    try:
        body = decrypt(secret, key.iv, body)
    except MediaError as exc:
        report.add("encryption", str(ref), False, f"AES-128 with the key at {key.uri}: {exc}")
        return None
    report.add("encryption", str(ref), True)
    return body


def _segment_bodies(fetcher: Fetcher, report: Report, track: Track) -> list[tuple[MediaRef, bytes]]:
    """Every segment as fetched and, under METHOD=AES-128, decrypted with its key."""
    fetcher.prefetch(track.segments)
    found: list[tuple[MediaRef, bytes]] = []
    for i, ref in enumerate(track.segments):
        body = _fetch_clear(fetcher, report, ref, track.keys[i] if i < len(track.keys) else None)
        if body is not None:
            found.append((ref, body))
    return found


def measure(fetcher: Fetcher, report: Report, track: Track, each_duration: bool = True) -> Measured | None:
    """Fetch a rendition whole and compare its declared durations with the presented media.

    ``each_duration=False`` leaves durations to the caller (DASH @duration addressing lets each
    segment vary around the nominal duration; only the drift is checked).
    """
    if track.init is None:
        return measure_ts(fetcher, report, track)
    init_bytes = _fetch_clear(fetcher, report, track.init, track.init_key)
    if init_bytes is None:
        return None
    try:
        init = read_init(init_bytes)
    except (MediaError, IndexError, ValueError, struct.error) as exc:
        report.add("fetch", str(track.init), False, f"not a CMAF header: {exc}")
        return None
    check_encryption(report, track, init)
    timings: list[SegmentTiming] = []
    bodies: list[bytes] = []
    for ref, body in _segment_bodies(fetcher, report, track):
        try:
            timing = read_segment(body, init)
        except (MediaError, IndexError, ValueError, struct.error) as exc:
            report.add("fetch", str(ref), False, f"not a CMAF segment: {exc}")
            continue
        if init.kind == "video":
            report.add("keyframe", str(ref), timing.starts_with_sync, "first sample is not a sync sample")
        timings.append(timing)
        bodies.append(body)
    if track.segments:
        check_range_and_preflight(fetcher, report, track.segments[0].url)
    if len(timings) != len(track.segments):
        return None
    measured = Measured(track, init, init_bytes, timings, bodies)
    if each_duration:
        check_durations(report, measured)
    return measured


def measure_ts(fetcher: Fetcher, report: Report, track: Track) -> Measured | None:
    """The same for MPEG-TS segments: each one carries its own PAT/PMT and 90 kHz timestamps."""
    timings: list[SegmentTiming] = []
    bodies: list[bytes] = []
    info: InitInfo | None = None
    codecs: tuple[str, ...] = ()
    for ref, body in _segment_bodies(fetcher, report, track):
        try:
            media = read_ts(body)
        except (MediaError, IndexError, ValueError) as exc:
            report.add("fetch", str(ref), False, f"not an MPEG-TS segment: {exc}")
            continue
        if info is None:
            info, codecs = media.info, media.codecs
        report.add(
            "codecs",
            str(ref),
            media.codecs == codecs,
            f"segment holds {', '.join(media.codecs)}, the first one {', '.join(codecs)}",
        )
        if media.info.kind == "video":
            report.add(
                "keyframe", str(ref), media.timing.starts_with_sync, "does not start with an IDR picture"
            )
        timings.append(media.timing)
        bodies.append(body)
    if track.segments:
        check_range_and_preflight(fetcher, report, track.segments[0].url)
    if info is None or len(timings) != len(track.segments):
        return None
    if info.kind == "video":
        width, height = frame_size(bodies[0])
        info = replace(info, width=width, height=height)
    measured = Measured(track, info, b"", timings, bodies, codecs)
    check_durations(report, measured)
    return measured


def check_durations(report: Report, measured: Measured) -> None:
    """Each declared duration against the presented media, within a frame's tolerance."""
    for ref, declared, actual, timing in zip(
        measured.track.segments, measured.track.durations, measured.durations, measured.timings, strict=True
    ):
        allowed = tolerance(measured.init, timing)
        report.add(
            "duration",
            str(ref),
            abs(actual - declared) <= allowed,
            f"declared {float(declared):.6f} s, media {float(actual):.6f} s "
            f"(tolerance {float(allowed) * 1000:.1f} ms)",
        )
