"""The packaged title as manifests see it: typed, frozen, measured from the written segments."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from packager.segmenter import SegmentInfo

INIT_NAME = "init.mp4"
SEGMENT_PATTERN = "seg-{number:05d}.m4s"
DASH_SEGMENT_TEMPLATE = "seg-$Number%05d$.m4s"
MEDIA_PLAYLIST = "index.m3u8"
IFRAME_PLAYLIST = "iframes.m3u8"
MASTER_PLAYLIST = "master.m3u8"
MPD_NAME = "manifest.mpd"


def segment_name(number: int) -> str:
    return SEGMENT_PATTERN.format(number=number)


def _ceil(value: Fraction) -> int:
    return -(-value.numerator // value.denominator)


@dataclass(frozen=True)
class Rendition:
    """One CMAF track: a video rung or an audio language."""

    kind: Literal["video", "audio"]
    id: str
    codec: str
    timescale: int
    segments: tuple[SegmentInfo, ...]
    width: int = 0
    height: int = 0
    frame_rate: Fraction | None = None
    language: str = "und"
    channels: int = 0
    sample_rate: int = 0

    @property
    def path(self) -> str:
        """Folder of the rendition under the title version (``video/720p``, ``audio/en``)."""
        return f"{self.kind}/{self.id}"

    def seconds(self, ticks: int) -> Fraction:
        return Fraction(ticks, self.timescale)

    @property
    def duration(self) -> Fraction:
        return self.seconds(sum(s.duration for s in self.segments))

    @property
    def peak_bitrate(self) -> int:
        """Highest bitrate of any one segment, bytes on the wire, in bits per second."""
        return max(_ceil(Fraction(s.size * 8 * self.timescale, s.duration)) for s in self.segments)

    @property
    def average_bitrate(self) -> int:
        total = sum(s.size for s in self.segments)
        return _ceil(total * 8 / self.duration)

    @property
    def iframe_peak_bitrate(self) -> int:
        frames = [f for s in self.segments for f in s.iframes]
        return max(_ceil(Fraction(f.length * 8 * self.timescale, f.duration)) for f in frames)

    @property
    def iframe_average_bitrate(self) -> int:
        frames = [f for s in self.segments for f in s.iframes]
        return _ceil(sum(f.length for f in frames) * 8 / self.duration)


@dataclass(frozen=True)
class Presentation:
    """Everything one version of a title holds."""

    video: tuple[Rendition, ...]
    audio: tuple[Rendition, ...]

    @property
    def duration(self) -> Fraction:
        return max(r.duration for r in self.video)

    @property
    def max_segment_duration(self) -> Fraction:
        return max(r.seconds(s.duration) for r in (*self.video, *self.audio) for s in r.segments)
