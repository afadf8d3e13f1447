"""HLS: the multivariant playlist, its media playlists, and the rules that tie them to the media."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import m3u8

from player_test.fetch import MediaRef
from player_test.tracks import Measured, Signalling, Track, fetch_ok, measure

# RFC 8216bis §4.4.4.4: for fMP4, SAMPLE-AES is 'cbcs' and SAMPLE-AES-CTR is 'cenc'.
KEY_SCHEMES = {"SAMPLE-AES": "cbcs", "SAMPLE-AES-CTR": "cenc", "AES-128": "aes-128 (whole segment, not CMAF)"}

if TYPE_CHECKING:
    from player_test.fetch import Fetcher
    from player_test.findings import Report


@dataclass
class Variant:
    uri: str
    bandwidth: int
    codecs: list[str]
    resolution: tuple[int, int] | None
    audio_group: str | None
    video: Measured | None


def _load(fetcher: Fetcher, report: Report, url: str) -> m3u8.M3U8 | None:
    body = fetch_ok(fetcher, report, url)
    if body is None:
        return None
    try:
        playlist = m3u8.loads(body.decode("utf-8"), uri=url)
    except Exception as exc:  # m3u8 raises bare exceptions on malformed input
        report.add("syntax", url, False, f"does not parse: {exc}")
        return None
    report.add("syntax", url, body.startswith(b"#EXTM3U"), "does not start with #EXTM3U")
    return playlist


def media_track(fetcher: Fetcher, report: Report, url: str, track_id: str, kind: str) -> Track | None:
    playlist = _load(fetcher, report, url)
    if playlist is None:
        return None
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
    init = playlist.segments[0].init_section
    if init is None:
        report.add("syntax", url, False, "no EXT-X-MAP: not an fMP4 playlist")
        return None
    methods = {key.method for key in playlist.keys if key and key.method and key.method != "NONE"}
    signalling = Signalling(frozenset(KEY_SCHEMES.get(m, m.lower()) for m in methods))
    init_ref = media_ref(urljoin(url, init.uri), init.byterange, 0)
    segments = segment_refs(url, [(s.uri, s.byterange) for s in playlist.segments])
    return Track(track_id, kind, url, init_ref, segments, durations, signalling=signalling)


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


def check_hls(fetcher: Fetcher, report: Report, url: str) -> tuple[list[Measured], list[Measured]]:
    """Walk a multivariant playlist; returns the measured video and audio renditions."""
    master = _load(fetcher, report, url)
    if master is None:
        return [], []
    if not master.is_variant:  # a media playlist given directly
        track = media_track(fetcher, report, url, "media", "video")
        measured = measure(fetcher, report, track) if track else None
        return ([measured] if measured else []), []

    audio_groups: dict[str, list[Measured]] = {}
    for media in master.media:
        if media.type != "AUDIO" or not media.uri:
            continue
        track = media_track(
            fetcher, report, urljoin(url, media.uri), media.language or media.name or "audio", "audio"
        )
        measured = measure(fetcher, report, track) if track else None
        if measured:
            audio_groups.setdefault(media.group_id, []).append(measured)

    variants: list[Variant] = []
    for playlist in master.playlists:
        info = playlist.stream_info
        uri = urljoin(url, playlist.uri)
        track = media_track(
            fetcher,
            report,
            uri,
            playlist.uri.rsplit("/", 2)[-2] if "/" in playlist.uri else playlist.uri,
            "video",
        )
        variant = Variant(
            uri,
            info.bandwidth or 0,
            [c.strip() for c in (info.codecs or "").split(",") if c.strip()],
            info.resolution,
            info.audio,
            measure(fetcher, report, track) if track else None,
        )
        variants.append(variant)
        if variant.video:
            _variant_rules(report, variant, audio_groups.get(variant.audio_group or "", []))
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
    video = [v.video for v in variants if v.video]
    audio = [m for group in audio_groups.values() for m in group]
    return video, audio


def _variant_rules(report: Report, variant: Variant, audio: list[Measured]) -> None:
    video = variant.video
    assert video is not None
    expected = {video.init.codec} | {a.init.codec for a in audio}
    report.add(
        "codecs",
        variant.uri,
        set(variant.codecs) == expected,
        f"CODECS {','.join(variant.codecs)!r}, media has {','.join(sorted(expected))!r}",
    )
    if variant.resolution is not None:
        actual = (video.init.width, video.init.height)
        report.add(
            "resolution",
            variant.uri,
            tuple(variant.resolution) == actual,
            f"RESOLUTION {variant.resolution[0]}x{variant.resolution[1]}, media is {actual[0]}x{actual[1]}",
        )
    # RFC 8216 §4.3.4.2: BANDWIDTH is the peak of the variant with the renditions it plays.
    peak = video.peak_bitrate + max((a.peak_bitrate for a in audio), default=Fraction(0))
    report.add(
        "bandwidth",
        variant.uri,
        variant.bandwidth >= peak,
        f"BANDWIDTH {variant.bandwidth} is below the measured peak {math.ceil(peak)}",
    )
