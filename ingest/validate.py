"""Rules a master must meet before any work is spent on it. Pure: a probe in, an error out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vodpipe.errors import InvalidMasterError

if TYPE_CHECKING:
    from ingest.probe import MasterInfo


@dataclass(frozen=True)
class MasterLimits:
    max_duration: float = 24 * 3600.0
    min_duration: float = 0.1
    min_side: int = 16
    max_side: int = 8192
    # A video that stops this far short of the container's duration is truncated.
    truncation_tolerance: float = 0.05


def validate(info: MasterInfo, limits: MasterLimits) -> None:
    """Raise ``InvalidMasterError`` with one precise line for the first rule the master breaks."""
    video = info.video
    if video is None:
        listed = ", ".join(info.streams) or "none"
        raise InvalidMasterError(f"master has no video stream (streams: {listed})")
    if info.duration <= 0:
        raise InvalidMasterError("master has zero duration")
    if info.duration < limits.min_duration:
        raise InvalidMasterError(
            f"master is too short: {info.duration:.3f} s (minimum {limits.min_duration} s)"
        )
    if info.duration > limits.max_duration:
        raise InvalidMasterError(
            f"master duration {info.duration:.0f} s is absurd (maximum {limits.max_duration:.0f} s)"
        )
    sides = (video.width, video.height)
    if min(sides) < limits.min_side or max(sides) > limits.max_side:
        raise InvalidMasterError(
            f"master dimensions {video.width}x{video.height} are absurd "
            f"(each side must be {limits.min_side}-{limits.max_side} pixels)"
        )
    if video.frame_count == 0:
        raise InvalidMasterError("master's video stream has no frames")
    if info.video_end < info.duration * (1 - limits.truncation_tolerance):
        raise InvalidMasterError(
            f"master is truncated: video stops at {info.video_end:.2f} s of {info.duration:.2f} s"
        )
    if info.undecodable_at is not None:
        raise InvalidMasterError(
            f"master is corrupt: video frames do not decode at {info.undecodable_at:.2f} s"
        )
    if video.rate <= 0:
        raise InvalidMasterError("master's video has no usable frame rate")
