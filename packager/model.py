"""The packaged title as manifests see it: typed, frozen, measured from the written segments."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from packager.bitrate import Sized, average_segment_bitrate, peak_segment_bitrate

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


def target_duration(durations: list[Fraction]) -> int:
    """RFC 8216 §4.3.3.1: each EXTINF rounded to the nearest integer must not exceed this."""
    return max(1, *(int(d + Fraction(1, 2)) for d in durations))


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
    sar: Fraction = Fraction(1)  # sample aspect ratio, from the sample entry's pasp
    language: str = "und"
    channels: int = 0
    sample_rate: int = 0

    @property
    def display_aspect(self) -> Fraction:
        """Picture aspect ratio as shown: width x sar / height (DASH @par)."""
        return self.width * self.sar / self.height

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
    def sized(self) -> tuple[Sized, ...]:
        """The media segments as bit rates see them (bytes, presented seconds)."""
        return tuple(Sized(s.size, self.seconds(s.duration)) for s in self.segments)

    @property
    def iframes_sized(self) -> tuple[Sized, ...]:
        """The I-frame playlist's entries: each keyframe's byte range and the time to the next."""
        return tuple(Sized(f.length, self.seconds(f.duration)) for s in self.segments for f in s.iframes)

    @property
    def peak_bitrate(self) -> int:
        """The media playlist's peak segment bit rate (RFC 8216bis §4.4.6.2)."""
        sized = self.sized
        return peak_segment_bitrate(sized, target_duration([s.duration for s in sized]))

    @property
    def average_bitrate(self) -> int:
        return average_segment_bitrate(self.sized)

    @property
    def iframe_peak_bitrate(self) -> int:
        sized = self.iframes_sized
        return peak_segment_bitrate(sized, target_duration([s.duration for s in sized]))

    @property
    def iframe_average_bitrate(self) -> int:
        return average_segment_bitrate(self.iframes_sized)


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
