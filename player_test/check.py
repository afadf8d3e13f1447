"""``vodpipe check URL``: every rule for one HLS or DASH title, and a decode of every rendition."""

from __future__ import annotations

import math
from fractions import Fraction

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


def _decode(report: Report, video: list[Measured], audio: list[Measured]) -> dict[str, int]:
    frames: dict[str, int] = {}
    for m in (*video, *audio):
        try:
            decoded = decode(m.init_bytes, m.bodies)
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
    frames = _decode(report, video, audio)
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
