"""Chunked encoding: cutting a master into GOP-aligned chunks, and choosing when to. Pure logic.

A chunk starts on a keyframe of the one-process encode (keyframes are forced on every GOP-th
frame, see ``encoder.ffmpeg_args``), so encoding chunk by chunk and joining the results gives the
same frames with keyframes at the same timestamps. Every chunk but the last has an exact frame
count; the last one runs to the end of the master, so no frame is lost whatever the probe said.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Literal

from encoder.ffmpeg_args import InputWindow, gop_frames

if TYPE_CHECKING:
    from encoder.ffmpeg_args import EncodeJob

Strategy = Literal["single", "chunked"]


@dataclass(frozen=True)
class Chunk:
    """Frames ``first_frame`` to ``first_frame + frames - 1`` of the output (``None``: to the end)."""

    index: int
    first_frame: int
    frames: int | None


@dataclass(frozen=True)
class ChunkPolicy:
    """When and how to cut: chunk length in seconds (rounded to whole GOPs) and the minimum."""

    chunk_seconds: float = 48.0
    # Below this many chunks the fan-out costs more (a seek, a task, a join) than it saves.
    min_chunks: int = 2


def chunk_frames(job: EncodeJob, chunk_seconds: float) -> int:
    """The chunk length in frames: the nearest whole number of GOPs, at least one."""
    gop = gop_frames(job)
    return max(1, round(chunk_seconds * job.frame_rate / gop)) * gop


def plan_chunks(job: EncodeJob, frame_count: int, chunk_seconds: float) -> tuple[Chunk, ...]:
    """Cut ``frame_count`` frames into GOP-aligned chunks; a short tail joins the chunk before it."""
    per = chunk_frames(job, chunk_seconds)
    count = max(1, math.ceil(frame_count / per))
    if count > 1 and frame_count - (count - 1) * per < per // 2:
        count -= 1  # a tail under half a chunk is not worth its own seek and task
    return tuple(Chunk(i, i * per, per if i < count - 1 else None) for i in range(count))


def choose_strategy(
    job: EncodeJob, frame_count: int, workers: int, policy: ChunkPolicy
) -> tuple[Strategy, tuple[Chunk, ...]]:
    """One FFmpeg for the whole master, or chunks spread over the workers.

    Chunking pays only when there are at least two workers to share the chunks and the master
    is long enough for ``policy.min_chunks`` chunks. A variable-frame-rate master is resampled by
    the ``fps`` filter, whose output frames depend on where it starts: it is never chunked.
    """
    if workers < 2 or not job.constant_frame_rate:
        return "single", ()
    chunks = plan_chunks(job, frame_count, policy.chunk_seconds)
    if len(chunks) < policy.min_chunks:
        return "single", ()
    return "chunked", chunks


def chunk_window(job: EncodeJob, chunk: Chunk) -> InputWindow:
    """Where FFmpeg reads a chunk: seek half a frame before its first frame, keep its frames.

    The accurate seek (``-ss`` before ``-i``) decodes from the keyframe before the target and
    drops every frame earlier than it; aiming half a frame early keeps the first wanted frame
    however its timestamp rounds. ``-frames:v`` then stops each rung on the exact count, and
    ``-t`` (one frame longer) stops reading the master soon after.
    """
    frame = 1 / job.frame_rate
    seek = (chunk.first_frame - Fraction(1, 2)) * frame if chunk.first_frame else None
    if chunk.frames is None:
        return InputWindow(seek=seek)
    read = (chunk.frames + (1 if seek is None else Fraction(3, 2))) * frame
    return InputWindow(seek=seek, read=read, frames=chunk.frames)

