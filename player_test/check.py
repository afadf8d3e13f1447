"""``vodpipe check URL``: every rule for one HLS or DASH title, and a decode of every rendition."""

from __future__ import annotations

import math
from fractions import Fraction

from player_test.dash import check_dash
from player_test.fetch import Fetcher
from player_test.findings import RenditionSummary, Report
from player_test.hls import check_hls
from player_test.media import MediaError, decode
from player_test.tracks import MS, Measured

AV_TOLERANCE = Fraction(1, 10)  # audio frames do not land on video boundaries; 100 ms is generous


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


def _av_sync(report: Report, video: list[Measured], audio: list[Measured]) -> None:
    if not video:
        return
    for a in audio:
        gap = abs(a.total - video[0].total)
        report.add(
            "av-sync",
            a.track.declared_in,
            gap <= AV_TOLERANCE,
            f"audio {a.track.id} lasts {float(a.total):.3f} s, video {float(video[0].total):.3f} s",
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
