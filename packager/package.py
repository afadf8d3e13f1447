"""Turn encoded fragmented-MP4 renditions into a CMAF title folder with HLS and DASH manifests."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from packager import dash, hls
from packager.codecs import codec_string
from packager.model import (
    IFRAME_PLAYLIST,
    INIT_NAME,
    MASTER_PLAYLIST,
    MEDIA_PLAYLIST,
    MPD_NAME,
    Presentation,
    Rendition,
    segment_name,
)
from packager.protect import Encryption, TrackProtector, protect_moov
from packager.samples import Sample, iter_samples, read_header
from packager.segmenter import CutPlan, SegmentInfo, cut_track, init_segment, plan_cuts
from packager.signalling import TitleProtection, signal_master_playlist, signal_media_playlist, signal_mpd
from vodpipe.errors import PackagingError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path


@dataclass(frozen=True)
class EncodedTrack:
    """A rendition that the encoder wrote: fragmented MP4 with a single track."""

    kind: Literal["video", "audio"]
    id: str
    path: Path
    language: str = "und"


def _keyframes(track: EncodedTrack) -> tuple[list[int], int]:
    with track.path.open("rb") as f:
        _, header = read_header(f)
        offset = header.presentation_offset
        times = [s.decode_time - offset for s in iter_samples(f, header) if s.is_sync]
    return times, header.timescale


def _delayed(samples: Iterator[Sample], ticks: int) -> Iterator[Sample]:
    """Samples ``ticks`` later: an empty edit's delay carried into the decode times (tfdt)."""
    for sample in samples:
        yield replace(sample, decode_time=sample.decode_time + ticks)


def _counting(samples: Iterator[Sample], durations: Counter[int]) -> Iterator[Sample]:
    for sample in samples:
        durations[sample.duration] += 1
        yield sample


def _package_track(
    track: EncodedTrack, plan: CutPlan, out: Path, encryption: Encryption | None, kids: dict[str, bytes]
) -> Rendition:
    folder = out / track.kind / track.id
    folder.mkdir(parents=True, exist_ok=True)
    durations: Counter[int] = Counter()
    segments: list[SegmentInfo] = []
    with track.path.open("rb") as f:
        moov, header = read_header(f)
        expected = "vide" if track.kind == "video" else "soun"
        if header.handler != expected:
            raise PackagingError(f"{track.path.name}: track is '{header.handler}', not '{expected}'")
        protector = None
        if encryption is not None:
            protector = TrackProtector(encryption, header, header.entry.height)
            moov = protect_moov(moov, protector, encryption.pssh_boxes())
            kids[f"{track.kind}/{track.id}"] = protector.key.kid
        # The encoder's edit list (FFmpeg's +delay_moov writes the AAC priming there) becomes
        # ours: priming skipped by an edit in the init segment, a start delay moved into tfdt.
        offset = header.presentation_offset
        priming, delay = max(0, offset), max(0, -offset)
        (folder / INIT_NAME).write_bytes(init_segment(moov, priming, header.entry.fourcc))
        samples = iter_samples(f, header)
        cut = cut_track(
            _counting(_delayed(samples, delay) if delay else samples, durations),
            plan,
            header.timescale,
            header.track_id,
            video=track.kind == "video",
            label=f"{track.kind} {track.id}",
            priming=priming,
            protector=protector,
        )
        for info, data in cut:
            (folder / segment_name(info.number)).write_bytes(data)
            segments.append(info)
    entry = header.entry
    common = durations.most_common(1)[0][0] if durations else 0
    return Rendition(
        kind=track.kind,
        id=track.id,
        codec=codec_string(entry),
        timescale=header.timescale,
        segments=tuple(segments),
        width=entry.width,
        height=entry.height,
        frame_rate=Fraction(header.timescale, common) if track.kind == "video" and common else None,
        sar=entry.pixel_aspect,
        language=track.language,
        channels=entry.channel_count,
        sample_rate=entry.sample_rate,
    )


def check_alignment(video: Sequence[Rendition]) -> None:
    """Every rung must share the reference's segment boundaries, to the tick."""
    reference = video[0]
    bounds = [(s.start, s.duration) for s in reference.segments]
    for rung in video[1:]:
        if rung.timescale != reference.timescale or [(s.start, s.duration) for s in rung.segments] != bounds:
            raise PackagingError(f"video {rung.id}: segment boundaries differ from video {reference.id}")


def package(
    tracks: Sequence[EncodedTrack],
    out: Path,
    target: Fraction,
    start_bitrate: int = hls.DEFAULT_START_BITRATE,
    encryption: Encryption | None = None,
) -> Presentation:
    """Write init and media segments, then every manifest, into ``out``.

    ``start_bitrate`` picks the HLS variant listed first (see :func:`hls.variant_order`).
    With ``encryption`` every track is encrypted with its track class's key and the manifests
    signal it; without, the output is clear.
    """
    video_tracks = [t for t in tracks if t.kind == "video"]
    if not video_tracks:
        raise PackagingError("nothing to package: no video rendition")
    keyframes, timescale = _keyframes(video_tracks[0])
    plan = plan_cuts(keyframes, timescale, target)
    kids: dict[str, bytes] = {}
    video = tuple(_package_track(t, plan, out, encryption, kids) for t in video_tracks)
    check_alignment(video)
    audio = tuple(_package_track(t, plan, out, encryption, kids) for t in tracks if t.kind == "audio")
    presentation = Presentation(video, audio)
    protection = TitleProtection(encryption, kids) if encryption is not None else None
    write_manifests(presentation, out, start_bitrate, protection)
    return presentation


def write_manifests(
    presentation: Presentation,
    out: Path,
    start_bitrate: int = hls.DEFAULT_START_BITRATE,
    protection: TitleProtection | None = None,
) -> None:
    for rendition in (*presentation.video, *presentation.audio):
        folder = out / rendition.path
        (folder / MEDIA_PLAYLIST).write_text(
            signal_media_playlist(hls.media_playlist(rendition), rendition, protection)
        )
        if rendition.kind == "video":
            iframes = hls.iframe_playlist(rendition)
            (folder / IFRAME_PLAYLIST).write_text(signal_media_playlist(iframes, rendition, protection))
    master = hls.master_playlist(presentation, start_bitrate)
    (out / MASTER_PLAYLIST).write_text(signal_master_playlist(master, protection))
    (out / MPD_NAME).write_text(signal_mpd(dash.render_mpd(presentation), protection))


MANIFEST_SUFFIXES = (".m3u8", ".mpd")


def publish_order(folder: Path) -> list[Path]:
    """Files in the order they must be published: media first, then playlists, top-level last."""

    def rank(path: Path) -> tuple[int, str]:
        rel = path.relative_to(folder).as_posix()
        if path.suffix not in MANIFEST_SUFFIXES:
            return 0, rel
        return (1 if "/" in rel else 2), rel

    return sorted((p for p in folder.rglob("*") if p.is_file()), key=rank)
