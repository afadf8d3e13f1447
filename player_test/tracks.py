"""Renditions as a manifest declares them, measured against what their URLs really serve."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

from player_test.fetch import BROWSER_ORIGIN, Fetcher
from player_test.media import InitInfo, MediaError, SegmentTiming, read_init, read_segment

if TYPE_CHECKING:
    from player_test.findings import Report

MS = Fraction(1, 1000)


@dataclass(frozen=True)
class Signalling:
    """What a manifest says about a rendition's encryption."""

    schemes: frozenset[str] = frozenset()  # "cenc" / "cbcs", from EXT-X-KEY METHOD or mp4protection
    kids: frozenset[str] = frozenset()  # default KIDs, 32 lowercase hex digits
    systems: frozenset[str] = frozenset()  # DRM system IDs named by the manifest

    @property
    def encrypted(self) -> bool:
        return bool(self.schemes or self.systems)


@dataclass
class Track:
    """One rendition as declared: where its init and segments are and how long each one is."""

    id: str
    kind: str  # "video" or "audio", as the manifest says
    declared_in: str  # the playlist or MPD that declares it
    init_url: str
    segment_urls: list[str]
    durations: list[Fraction]  # EXTINF or SegmentTimeline, in seconds
    width: int = 0
    height: int = 0
    signalling: Signalling = Signalling()


@dataclass
class Measured:
    track: Track
    init: InitInfo
    init_bytes: bytes
    timings: list[SegmentTiming]
    bodies: list[bytes] = field(repr=False)

    def seconds(self, ticks: int) -> Fraction:
        return Fraction(ticks, self.init.timescale)

    @property
    def total(self) -> Fraction:
        return sum((self.seconds(t.duration) for t in self.timings), Fraction(0))

    @property
    def boundaries(self) -> list[tuple[Fraction, Fraction]]:
        return [(self.seconds(t.start), self.seconds(t.duration)) for t in self.timings]

    @property
    def peak_bitrate(self) -> Fraction:
        return max(
            (
                Fraction(len(b) * 8) / self.seconds(t.duration)
                for b, t in zip(self.bodies, self.timings, strict=True)
                if t.duration
            ),
            default=Fraction(0),
        )


def check_cors(report: Report, url: str, headers: object) -> None:
    allowed = getattr(headers, "get", lambda _k, _d=None: None)("Access-Control-Allow-Origin")
    report.add("cors", url, allowed in ("*", BROWSER_ORIGIN), f"Access-Control-Allow-Origin is {allowed!r}")


def fetch_ok(fetcher: Fetcher, report: Report, url: str) -> bytes | None:
    response = fetcher.get(url)
    if not report.add("fetch", url, response.status == 200, response.error or f"status {response.status}"):
        return None
    check_cors(report, url, response.headers)
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


def measure(fetcher: Fetcher, report: Report, track: Track) -> Measured | None:
    """Fetch a rendition whole and compare its declared durations with tfdt/trun."""
    init_bytes = fetch_ok(fetcher, report, track.init_url)
    if init_bytes is None:
        return None
    try:
        init = read_init(init_bytes)
    except (MediaError, IndexError, ValueError) as exc:
        report.add("fetch", track.init_url, False, f"not a CMAF header: {exc}")
        return None
    check_encryption(report, track, init)
    fetcher.prefetch(track.segment_urls)
    timings: list[SegmentTiming] = []
    bodies: list[bytes] = []
    for url, declared in zip(track.segment_urls, track.durations, strict=True):
        body = fetch_ok(fetcher, report, url)
        if body is None:
            continue
        try:
            timing = read_segment(body, init)
        except (MediaError, IndexError, ValueError) as exc:
            report.add("fetch", url, False, f"not a CMAF segment: {exc}")
            continue
        actual = Fraction(timing.duration, init.timescale)
        report.add(
            "duration",
            url,
            abs(actual - declared) <= MS,
            f"declared {float(declared):.6f} s, media {float(actual):.6f} s",
        )
        if init.kind == "video":
            report.add("keyframe", url, timing.starts_with_sync, "first sample is not a sync sample")
        timings.append(timing)
        bodies.append(body)
    if track.segment_urls:
        check_range_and_preflight(fetcher, report, track.segment_urls[0])
    if len(timings) != len(track.segment_urls):
        return None
    return Measured(track, init, init_bytes, timings, bodies)
