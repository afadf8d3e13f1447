"""Probe a master with PyAV: what it holds, and whether its frames really decode."""

from __future__ import annotations

import itertools
import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import av
import av.error

from ingest.languages import bcp47
from vodpipe.errors import InvalidMasterError

if TYPE_CHECKING:
    from pathlib import Path

# AVCOL_TRC values (libavutil/pixfmt.h) that mean HDR transfer characteristics.
_TRANSFER = {16: "pq", 18: "hlg"}
_DECODE_WINDOWS = (0.0, 0.25, 0.5, 0.75)
_FRAMES_PER_WINDOW = 8


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    sample_aspect_ratio: str
    frame_rate: str  # a fraction, e.g. "30000/1001"
    variable_frame_rate: bool
    frame_count: int
    rotation: int
    interlaced: bool
    transfer: str  # "sdr", "pq" or "hlg"
    pixel_format: str

    @property
    def rate(self) -> Fraction:
        return Fraction(self.frame_rate)

    @property
    def sar(self) -> Fraction:
        return Fraction(self.sample_aspect_ratio)

    @property
    def hdr(self) -> bool:
        return self.transfer != "sdr"


@dataclass(frozen=True)
class AudioInfo:
    index: int
    codec: str
    channels: int
    layout: str
    sample_rate: int
    language: str


@dataclass(frozen=True)
class MasterInfo:
    container: str
    size: int
    duration: float
    streams: tuple[str, ...]
    video: VideoInfo | None
    audio: tuple[AudioInfo, ...]
    video_end: float  # where the last video packet ends; short of duration means truncation
    undecodable_at: float | None  # the first sampled instant whose frames did not decode

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MasterInfo:
        video = VideoInfo(**data["video"]) if data.get("video") else None
        audio = tuple(AudioInfo(**a) for a in data.get("audio", ()))
        fields = {k: v for k, v in data.items() if k not in ("video", "audio", "streams")}
        return cls(streams=tuple(data.get("streams", ())), video=video, audio=audio, **fields)


def _check_file(path: Path) -> int:
    if not path.exists():
        raise InvalidMasterError(f"master not found: {path}")
    if not path.is_file():
        raise InvalidMasterError(f"master is not a regular file: {path}")
    if not os.access(path, os.R_OK):
        raise InvalidMasterError(f"master is not readable (permission denied): {path}")
    size = path.stat().st_size
    if size == 0:
        raise InvalidMasterError(f"master is empty (0 bytes): {path}")
    return size


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidMasterError(
            f"master is not a readable media file (corrupt, truncated or not media): {path.name}: {reason}"
        ) from None


def _scan_packets(path: Path) -> tuple[int, float, bool]:
    """Count video packets, find where the video ends, and tell whether frame spacing varies."""
    with _open(path) as container:
        stream = container.streams.video[0]
        tb = stream.time_base or Fraction(1, 90000)
        pts: list[int] = []
        end = 0.0
        try:
            for packet in container.demux(stream):
                if packet.pts is None or packet.size == 0:
                    continue
                pts.append(packet.pts)
                end = max(end, float((packet.pts + (packet.duration or 0)) * tb))
        except av.error.FFmpegError:
            pass  # the demuxer stopped early: what was read is what we report
    pts.sort()
    deltas = {b - a for a, b in itertools.pairwise(pts)}
    variable = len(deltas) > 1 and max(deltas) > min(deltas) * 1.02 if deltas else False
    return len(pts), end, variable


def _first_undecodable(path: Path, duration: float) -> tuple[float | None, int, bool]:
    """Decode a few frames at several instants; return the first that fails, rotation, interlace.

    After each seek (which lands on the keyframe before the instant) frames are decoded up to
    the instant itself, so a long GOP cannot hide damage between its keyframe and the instant.
    """
    rotation = 0
    interlaced = False
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = stream.time_base or Fraction(1, 90000)
        for fraction in _DECODE_WINDOWS:
            at = duration * fraction
            reached = 0
            try:
                if at > 0:
                    container.seek(int(at / tb), stream=stream, backward=True)
                for frame in container.decode(stream):
                    if fraction == 0.0 and reached == 0:
                        rotation = int(getattr(frame, "rotation", 0) or 0) % 360
                        interlaced = bool(frame.interlaced_frame)
                    if frame.pts is None or frame.pts * tb >= at - 0.001:
                        reached += 1
                        if reached >= _FRAMES_PER_WINDOW:
                            break
            except av.error.FFmpegError:
                return at, rotation, interlaced
            if reached == 0:
                return at, rotation, interlaced
    return None, rotation, interlaced


def probe(path: Path) -> MasterInfo:
    """Everything ingest records about a master; raises ``InvalidMasterError`` if it is unreadable."""
    size = _check_file(path)
    with _open(path) as container:
        streams = tuple(f"{s.type} {s.codec_context.name}" for s in container.streams)
        duration = (container.duration or 0) / av.time_base
        fmt = container.format.name
        audio = tuple(
            AudioInfo(
                index=i,
                codec=s.codec_context.name,
                channels=s.codec_context.channels,
                layout=s.layout.name,
                sample_rate=s.rate,
                language=bcp47(s.metadata.get("language")),
            )
            for i, s in enumerate(container.streams.audio)
        )
        if not container.streams.video:
            return MasterInfo(fmt, size, duration, streams, None, audio, 0.0, None)
        vs = container.streams.video[0]
        cc = vs.codec_context
        if not duration and vs.duration and vs.time_base:
            duration = float(vs.duration * vs.time_base)
        rate = vs.average_rate or vs.guessed_rate or vs.base_rate or Fraction(0)
        sar = cc.sample_aspect_ratio or Fraction(1)
        codec, width, height = cc.name, cc.width, cc.height
        pix_fmt = cc.pix_fmt or "unknown"
        transfer = _TRANSFER.get(int(cc.color_trc or 0), "sdr")
    count, end, variable = _scan_packets(path)
    undecodable, rotation, interlaced = _first_undecodable(path, duration)
    video = VideoInfo(
        codec=codec,
        width=width,
        height=height,
        sample_aspect_ratio=str(Fraction(sar)),
        frame_rate=str(Fraction(rate)),
        variable_frame_rate=variable,
        frame_count=count,
        rotation=rotation,
        interlaced=interlaced,
        transfer=transfer,
        pixel_format=pix_fmt,
    )
    return MasterInfo(fmt, size, duration, streams, video, audio, end, undecodable)
