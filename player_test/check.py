"""``vodpipe check URL``: every rule for one HLS or DASH title, and a decode of every rendition."""

from __future__ import annotations

import math
import struct
from fractions import Fraction

from player_test.cenc import TrackEncryption, clear_init, clear_segment, read_track_encryption
from player_test.clearkey import request_keys
from player_test.dash import check_dash
from player_test.fetch import Fetcher
from player_test.findings import RenditionSummary, Report, Severity
from player_test.hls import check_hls
from player_test.media import MediaError, decode
from player_test.tracks import MS, Measured

# Lip sync (EBU R37, within ITU-R BT.1359's acceptability window): audio may lead by at most
# 40 ms and lag by at most 60 ms; beyond that is an error. Past AV_WARN (about a quarter of an
# AAC frame, far below what anyone notices) it is a warning: the packaging is not exact.
AV_LEAD_LIMIT = Fraction(40, 1000)
AV_LAG_LIMIT = Fraction(60, 1000)
AV_WARN = Fraction(5, 1000)
AAC_PRIMING = 1024  # samples FFmpeg's (and most) AAC encoders prepend; Apple TN2258


def _alignment(report: Report, video: list[Measured]) -> None:
    if len(video) < 2:
        return
    reference = video[0].boundaries
    for other in video[1:]:
        bounds = other.boundaries
        ok = len(bounds) == len(reference) and all(
            abs(a[0] - b[0]) <= MS and abs(a[1] - b[1]) <= MS for a, b in zip(bounds, reference, strict=True)
        )
        first_bad = next(
            (i + 1 for i, (a, b) in enumerate(zip(bounds, reference, strict=False)) if a != b), len(bounds)
        )
        report.add(
            "alignment",
            other.track.declared_in,
            ok,
            f"{other.track.id} differs from {video[0].track.id} from segment {first_bad}",
        )


def unremoved_priming(audio: Measured, video: Measured) -> Fraction:
    """Seconds of AAC encoder delay that still play, for a track packaged the old way.

    ISO/IEC 14496-12 §8.6.6 and Apple TN2258: an AAC track's first decoded samples are encoder
    priming; an edit list whose media_time skips them makes the first real sample play at the
    presentation start. An fMP4 AAC track whose edit list skips nothing (or that has none),
    starting with the video and running about the priming past its end, plays every sound late
    by the encoder delay.
    """
    init = audio.init
    if not init.codec.startswith("mp4a") or not audio.init_bytes or init.edit_skip:
        return Fraction(0)
    priming = Fraction(AAC_PRIMING, init.sample_rate or init.timescale)
    overrun = audio.end - video.end
    if abs(audio.start - video.start) > AV_WARN or overrun < priming / 2:
        return Fraction(0)
    return priming


def sync_severity(offset: Fraction) -> tuple[bool, Severity]:
    """Positive offset: audio late."""
    if abs(offset) <= AV_WARN:
        return True, "error"
    beyond = offset > AV_LAG_LIMIT or -offset > AV_LEAD_LIMIT
    return False, "error" if beyond else "warning"


def _av_sync(report: Report, video: list[Measured], audio: list[Measured]) -> None:
    """Audio against the first video rendition, at the start and at the end, in presentation time."""
    if not video:
        return
    reference = video[0]
    for a in audio:
        priming = unremoved_priming(a, reference)
        start = a.start - reference.start + priming
        ok, severity = sync_severity(start)
        cause = (
            f" (AAC encoder delay of {AAC_PRIMING} samples not removed by an edit list)" if priming else ""
        )
        report.add(
            "av-sync",
            a.track.declared_in,
            ok,
            f"audio {a.track.id} starts {float(start) * 1000:+.1f} ms from video {reference.track.id}{cause}",
            severity=severity,
        )
        # Audio ends on an audio frame boundary: up to one frame past the video is exact packaging.
        frame = Fraction(a.timings[-1].frame or 0, a.init.timescale) if a.timings else Fraction(0)
        end = a.end - reference.end
        excess = end - frame if end > frame else end if end < 0 else Fraction(0)
        ok, severity = sync_severity(excess)
        report.add(
            "av-sync",
            a.track.declared_in,
            ok,
            f"audio {a.track.id} ends {float(end) * 1000:+.1f} ms from video {reference.track.id} "
            f"(one audio frame is {float(frame) * 1000:.1f} ms)",
            severity=severity,
        )


class _Keys:
    """Content keys fetched from the license servers the manifests name, each KID asked once."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self.found: dict[bytes, bytes] = {}
        self.refused: dict[str, str] = {}  # license URL -> why

    def key(self, url: str, kid: bytes) -> bytes:
        if kid not in self.found:
            if url in self.refused:
                raise MediaError(self.refused[url])
            try:
                self.found.update(request_keys(self.fetcher, url, [kid]))
            except MediaError as exc:
                self.refused[url] = str(exc)
                raise
        if kid not in self.found:
            raise MediaError(f"license server {url} answered without KID {kid.hex()}")
        return self.found[kid]


def _clear_media(report: Report, keys: _Keys, m: Measured) -> tuple[bytes, list[bytes]] | None:
    """The rendition's init and segments decrypted with the license server's key (``None`` when
    they cannot be: no token, no license URL, a refusal); a clear rendition as it is."""
    if m.track.init is None:  # MPEG-TS: no CMAF header, nothing common-encrypted
        return m.init_bytes, m.bodies
    try:
        encryption = read_track_encryption(m.init_bytes)
    except MediaError as exc:
        report.add("license", m.track.init_url, False, f"{m.track.id}: {exc}")
        return None
    if encryption is None:
        return m.init_bytes, m.bodies
    what = f"{m.track.id} is encrypted ({encryption.scheme}, KID {encryption.kid.hex()})"
    if not keys.fetcher.token:
        # Not a fault of the stream: what the check could not see is said, as a warning.
        detail = f"{what}: not decrypted or decoded without --token (a token for its license server)"
        report.add("license", m.track.init_url, False, detail, severity="warning")
        return None
    urls = sorted(m.track.signalling.license_urls)
    if not urls and len(m.track.signalling.key_uris) == 1:
        return _with_identity_key(report, keys.fetcher, m, encryption, what)
    if not urls:
        where = 'dashif:Laurl, KEYFORMAT="org.w3.clearkey"'
        detail = f"{what} but its manifest names no ClearKey license server ({where})"
        report.add("license", m.track.declared_in, False, detail)
        return None
    try:
        key = keys.key(urls[0], encryption.kid)
        media = clear_init(m.init_bytes), [clear_segment(b, encryption, key) for b in m.bodies]
    except (MediaError, IndexError, struct.error) as exc:
        report.add("license", urls[0], False, f"{what}: {exc}")
        return None
    report.add("license", urls[0], True)
    return media


def _with_identity_key(
    report: Report, fetcher: Fetcher, m: Measured, encryption: TrackEncryption, what: str
) -> tuple[bytes, list[bytes]] | None:
    """An HLS playlist with only a KEYFORMAT="identity" key: its URI answers the 16 raw bytes."""
    (uri,) = m.track.signalling.key_uris
    response = fetcher.get(uri)
    if response.failed or len(response.body) != 16:
        why = response.error or f"{len(response.body)} bytes, not 16"
        report.add("license", uri, False, f"{what}: the identity key URI gave no key ({why})")
        return None
    try:
        media = clear_init(m.init_bytes), [clear_segment(b, encryption, response.body) for b in m.bodies]
    except (MediaError, IndexError, struct.error) as exc:
        report.add("license", uri, False, f"{what}: {exc}")
        return None
    report.add("license", uri, True)
    return media


def _decode(report: Report, fetcher: Fetcher, video: list[Measured], audio: list[Measured]) -> dict[str, int]:
    frames: dict[str, int] = {}
    keys = _Keys(fetcher)
    for m in (*video, *audio):
        media = _clear_media(report, keys, m)
        if media is None:
            continue
        try:
            decoded = decode(*media)
        except MediaError as exc:
            report.add("decode", m.track.init_url, False, f"{m.track.id} {exc}")
            continue
        frames[m.track.id] = decoded.frames
        report.add("decode", m.track.init_url, decoded.frames > 0, f"{m.track.id} decoded no frame")
    counts = {frames[v.track.id] for v in video if v.track.id in frames}
    if len(counts) > 1:
        detail = ", ".join(f"{v.track.id}: {frames.get(v.track.id)}" for v in video)
        report.add(
            "decode",
            video[0].track.declared_in,
            False,
            f"video renditions decode to different frame counts ({detail})",
        )
    return frames


def check(url: str, token: str | None = None) -> Report:
    """Run every rule on the title at ``url`` (an .m3u8 or .mpd)."""
    fetcher = Fetcher(token)
    is_dash = url.split("?", 1)[0].endswith(".mpd")
    report = Report(url, "dash" if is_dash else "hls")
    video, audio = (check_dash if is_dash else check_hls)(fetcher, report, url)
    if not is_dash:  # DASH aligns per AdaptationSet, where segmentAlignment promises it (dash.py)
        _alignment(report, video)
    _av_sync(report, video, audio)
    frames = _decode(report, fetcher, video, audio)
    report.renditions = [
        RenditionSummary(
            m.track.id,
            m.init.kind,
            m.init.codec,
            len(m.timings),
            float(m.total),
            math.ceil(m.peak_bitrate),
            frames.get(m.track.id),
            m.init.width,
            m.init.height,
        )
        for m in (*video, *audio)
    ]
    report.media = {"video": video, "audio": audio}
    if not report.findings:
        report.add("syntax", url, False, "nothing to check")
    return report
