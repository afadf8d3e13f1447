"""HLS: the multivariant playlist, its media playlists, and the rules that tie them to the media."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import m3u8

from player_test.aes import SegmentKey, map_key, segment_iv
from player_test.bitrate import TOLERANCE, average_bitrate, peak_bitrate, verdict
from player_test.fetch import MediaRef
from player_test.media import MediaError
from player_test.tracks import Measured, Signalling, Track, fetch_ok, measure

# RFC 8216bis §4.4.4.4: for fMP4, SAMPLE-AES is 'cbcs' and SAMPLE-AES-CTR is 'cenc'.
CLEARKEY_KEYFORMAT = "org.w3.clearkey"  # its URI is the ClearKey license server (hls.js)
KEY_SCHEMES = {"SAMPLE-AES": "cbcs", "SAMPLE-AES-CTR": "cenc", "AES-128": "aes-128 (whole segment, not CMAF)"}

if TYPE_CHECKING:
    from player_test.fetch import Fetcher
    from player_test.findings import Report


AUDIO_CODECS = ("mp4a", "ac-3", "ec-3", "opus", "flac", "fLaC", "mp3")


@dataclass
class Variant:
    uri: str
    bandwidth: int
    average_bandwidth: int | None
    codecs: list[str]
    resolution: tuple[int, int] | None
    audio_group: str | None
    media: Measured | None
    target: Fraction


def declared_kind(codecs: list[str], resolution: tuple[int, int] | None) -> str:
    """An audio-only variant by its CODECS (RFC 8216bis §4.4.6.2): no video codec, no RESOLUTION."""
    audio = bool(codecs) and all(c.startswith(AUDIO_CODECS) for c in codecs)
    return "audio" if audio and resolution is None else "video"


@dataclass
class Rendition:
    """A playlist measured once, however many variants or EXT-X-MEDIA tags name it."""

    media: Measured | None
    target: Fraction


def _load_text(fetcher: Fetcher, report: Report, url: str) -> tuple[m3u8.M3U8, str] | None:
    body = fetch_ok(fetcher, report, url)
    if body is None:
        return None
    try:
        text = body.decode("utf-8")
        playlist = m3u8.loads(text, uri=url)
    except Exception as exc:  # m3u8 raises bare exceptions on malformed input
        report.add("syntax", url, False, f"does not parse: {exc}")
        return None
    report.add("syntax", url, body.startswith(b"#EXTM3U"), "does not start with #EXTM3U")
    return playlist, text


def _load(fetcher: Fetcher, report: Report, url: str) -> m3u8.M3U8 | None:
    loaded = _load_text(fetcher, report, url)
    return loaded[0] if loaded else None


def media_track(
    fetcher: Fetcher, report: Report, url: str, track_id: str, kind: str
) -> tuple[Track, Fraction] | None:
    loaded = _load_text(fetcher, report, url)
    if loaded is None:
        return None
    playlist, text = loaded
    if not playlist.segments:
        report.add("syntax", url, False, "media playlist has no segments")
        return None
    durations = [Fraction(str(s.duration)) for s in playlist.segments]
    target = playlist.target_duration or 0
    longest = max(durations)
    # RFC 8216 §4.3.3.1: each EXTINF, rounded to the nearest integer, is at most the target.
    report.add(
        "target-duration",
        url,
        math.floor(longest + Fraction(1, 2)) <= target,
        f"longest EXTINF {float(longest):.3f} s rounds above EXT-X-TARGETDURATION {target}",
    )
    init = playlist.segments[0].init_section  # none: MPEG-TS segments (RFC 8216bis §3.2)
    methods = {key.method for key in playlist.keys if key and key.method and key.method != "NONE"}
    # AES-128 encrypts whole segments (§4.4.4.4): decrypted below, not a CMAF scheme in tenc.
    licenses = frozenset(
        urljoin(url, key.uri)
        for key in playlist.keys
        if key and key.uri and (key.keyformat or "").lower() == CLEARKEY_KEYFORMAT
    )
    # KEYFORMAT="identity" (the default) under a sample-encryption METHOD: the URI is the raw key.
    identity = frozenset(
        urljoin(url, key.uri)
        for key in playlist.keys
        if key
        and key.uri
        and key.method in ("SAMPLE-AES", "SAMPLE-AES-CTR")
        and (key.keyformat or "identity").lower() == "identity"
        and not key.uri.startswith(("data:", "skd:"))
    )
    signalling = Signalling(
        frozenset(KEY_SCHEMES.get(m, m.lower()) for m in methods if m != "AES-128"),
        license_urls=licenses,
        key_uris=identity,
    )
    init_ref = media_ref(urljoin(url, init.uri), init.byterange, 0) if init else None
    segments = segment_refs(url, [(s.uri, s.byterange) for s in playlist.segments])
    try:
        keys = [
            SegmentKey(urljoin(url, s.key.uri), segment_iv(s.key.iv, (playlist.media_sequence or 0) + i))
            if s.key and s.key.method == "AES-128" and s.key.uri
            else None
            for i, s in enumerate(playlist.segments)
        ]
        init_key = map_key(text, url) if init else None
    except MediaError as exc:
        report.add("encryption", url, False, str(exc))
        return None
    track = Track(
        track_id, kind, url, init_ref, segments, durations,
        signalling=signalling, keys=keys, init_key=init_key,
    )
    return track, Fraction(target)


def media_ref(url: str, byterange: str | None, default_offset: int) -> MediaRef:
    """A URL, or the ``n[@o]`` byte range of it (RFC 8216bis §4.4.4.2, §4.4.4.5)."""
    if not byterange:
        return MediaRef(url)
    length, _, offset = byterange.partition("@")
    first = int(offset) if offset else default_offset
    return MediaRef(url, first, first + int(length) - 1)


def segment_refs(base: str, segments: list[tuple[str, str | None]]) -> list[MediaRef]:
    """Segment references; an EXT-X-BYTERANGE without an offset continues the previous range of
    the same resource (RFC 8216bis §4.4.4.2)."""
    refs: list[MediaRef] = []
    for uri, byterange in segments:
        url = urljoin(base, uri)
        previous = refs[-1] if refs else None
        follows = previous.last + 1 if previous and previous.url == url and previous.last is not None else 0
        refs.append(media_ref(url, byterange, follows))
    return refs


def _rendition(
    fetcher: Fetcher, report: Report, seen: dict[str, Rendition], url: str, track_id: str, kind: str
) -> Rendition:
    if url not in seen:
        found = media_track(fetcher, report, url, track_id, kind)
        if found is None:
            seen[url] = Rendition(None, Fraction(0))
        else:
            track, target = found
            seen[url] = Rendition(measure(fetcher, report, track), target)
    return seen[url]


def _name(uri: str) -> str:
    parts = uri.split("?", 1)[0].split("/")
    return parts[-2] if len(parts) > 1 else parts[-1].rsplit(".", 1)[0]


def check_hls(fetcher: Fetcher, report: Report, url: str) -> tuple[list[Measured], list[Measured]]:
    """Walk a multivariant playlist; returns the measured video and audio renditions.

    Each rendition is classified by what its media holds (the init segment's handler), not by
    where the playlist names it: an audio-only variant is audio.
    """
    master = _load(fetcher, report, url)
    if master is None:
        return [], []
    seen: dict[str, Rendition] = {}
    if not master.is_variant:  # a media playlist given directly
        _rendition(fetcher, report, seen, url, "media", "video")
        return _split(seen)

    groups: dict[str, list[Rendition]] = {}
    for media in master.media:
        if media.type != "AUDIO" or not media.uri:
            continue
        uri = urljoin(url, media.uri)
        rendition = _rendition(
            fetcher, report, seen, uri, media.language or media.name or _name(uri), "audio"
        )
        groups.setdefault(media.group_id, []).append(rendition)

    for playlist in master.playlists:
        info = playlist.stream_info
        uri = urljoin(url, playlist.uri)
        codecs = [c.strip() for c in (info.codecs or "").split(",") if c.strip()]
        resolution = (info.resolution[0], info.resolution[1]) if info.resolution else None
        kind = declared_kind(codecs, resolution)
        rendition = _rendition(fetcher, report, seen, uri, _name(playlist.uri), kind)
        variant = Variant(
            uri,
            info.bandwidth or 0,
            info.average_bandwidth,
            codecs,
            resolution,
            info.audio,
            rendition.media,
            rendition.target,
        )
        group = [
            r
            for r in groups.get(variant.audio_group or "", [])
            if r.media and r.media.track.declared_in != uri
        ]
        if variant.media:
            _variant_rules(report, variant, group)
        _captions(report, master, info.closed_captions, uri)
    for iframe in master.iframe_playlists:
        iframe_url = urljoin(url, iframe.uri)
        playlist_doc = _load(fetcher, report, iframe_url)
        if playlist_doc is not None:
            report.add(
                "syntax",
                iframe_url,
                bool(playlist_doc.is_i_frames_only),
                "I-frame playlist lacks EXT-X-I-FRAMES-ONLY",
            )
    return _split(seen)


def _split(seen: dict[str, Rendition]) -> tuple[list[Measured], list[Measured]]:
    measured = [r.media for r in seen.values() if r.media]
    return [m for m in measured if m.init.kind == "video"], [m for m in measured if m.init.kind == "audio"]


def _captions(report: Report, master: m3u8.M3U8, closed_captions: str | None, url: str) -> None:
    """Apple HLS authoring spec / QA1801: without CLOSED-CAPTIONS=NONE on a title with no
    closed-caption rendition, iOS and Safari show an empty caption menu."""
    if any(m.type == "CLOSED-CAPTIONS" for m in master.media):
        return
    report.add(
        "captions",
        url,
        closed_captions == "NONE",
        "EXT-X-STREAM-INF lacks CLOSED-CAPTIONS=NONE while the title has no closed captions",
        severity="warning",
    )


def _bandwidth(
    report: Report, url: str, attribute: str, declared: int, own: Fraction, group: Fraction
) -> None:
    """``declared`` against the variant's own rate plus its audio group's (``group``).

    RFC 8216bis §4.4.6.2 makes BANDWIDTH the largest sum over a playable combination of
    renditions (a MUST). A value that covers the variant's own segments but not its audio group
    (FFmpeg's hls muxer writes these) is a warning: every player plays it, ABR just starts a
    little optimistic. Short of the variant's own media by more than 10 % is an error.
    """
    combined = own + group
    ok, severity = verdict(declared, combined)
    detail = (
        f"{attribute} {declared} is below the measured {'peak' if attribute == 'BANDWIDTH' else 'average'} "
        f"{math.ceil(combined)} "
        f"({float(combined / declared - 1) * 100 if declared else 100:.1f} % over)"
    )
    if not ok and severity == "error" and group and declared * TOLERANCE >= own:
        severity = "warning"
        detail += (
            f"; it covers the variant's own {math.ceil(own)} but not its audio group's {math.ceil(group)}"
        )
    report.add("bandwidth", url, ok, detail, severity=severity)


def _variant_rules(report: Report, variant: Variant, group: list[Rendition]) -> None:
    media = variant.media
    assert media is not None
    audio = [r.media for r in group if r.media]
    expected = set(media.codecs) | {c for a in audio for c in a.codecs}
    report.add(
        "codecs",
        variant.uri,
        set(variant.codecs) == expected,
        f"CODECS {','.join(variant.codecs)!r}, media has {','.join(sorted(expected))!r}",
    )
    if variant.resolution is not None and media.init.kind == "video":
        actual = (media.init.width, media.init.height)
        report.add(
            "resolution",
            variant.uri,
            tuple(variant.resolution) == actual,
            f"RESOLUTION {variant.resolution[0]}x{variant.resolution[1]}, media is {actual[0]}x{actual[1]}",
        )
    # RFC 8216bis §4.4.6.2: BANDWIDTH is the peak segment bit rate of the variant together with
    # the renditions it plays; an audio-only variant's group rendition replaces it.
    own_peak = peak_bitrate([len(b) for b in media.bodies], media.track.durations, variant.target)
    own_average = average_bitrate([len(b) for b in media.bodies], media.track.durations)
    peaks = [
        peak_bitrate([len(b) for b in r.media.bodies], r.media.track.durations, r.target)
        for r in group
        if r.media
    ]
    averages = [average_bitrate([len(b) for b in a.bodies], a.track.durations) for a in audio]
    if media.init.kind == "audio":
        own_peak, own_average = max([own_peak, *peaks]), max([own_average, *averages])
        peaks, averages = [], []
    group_peak, group_average = max(peaks, default=Fraction(0)), max(averages, default=Fraction(0))
    _bandwidth(report, variant.uri, "BANDWIDTH", variant.bandwidth, own_peak, group_peak)
    if variant.average_bandwidth is not None:
        _bandwidth(
            report, variant.uri, "AVERAGE-BANDWIDTH", variant.average_bandwidth, own_average, group_average
        )
