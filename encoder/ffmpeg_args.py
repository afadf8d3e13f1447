"""The FFmpeg command for a ladder: one process decodes the master once and encodes every rung.

A pure function of an :class:`EncodeJob`; ``ffmpeg-python`` assembles the filter graph and the
argument list. Tests compare its output with expected lists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ffmpeg

from encoder.ladder import VUI_RATIO_MAX

if TYPE_CHECKING:
    from fractions import Fraction
    from pathlib import Path

    from encoder.ladder import AudioSettings, PlannedRung

SVTAV1_MAX_LP = 6
VIDEO_TIMESCALE = 90_000  # exact for 23.976, 24, 25, 29.97, 30, 50, 59.94 and 60 fps
# Fragmented MP4 that the packager re-cuts: an empty moov, a fragment per keyframe, and
# signed composition offsets so that presentation starts at decode time 0 without edit lists.
VIDEO_MOVFLAGS = "+frag_keyframe+empty_moov+default_base_moof+negative_cts_offsets"
# Audio: the AAC encoder's first packet starts before 0 (its priming, 1024 samples). With a
# plain empty_moov FFmpeg shifts every timestamp by that much and the priming is presented;
# delay_moov holds the moov back until the first packet is known, and FFmpeg writes the
# priming into an edit list, which the packager carries into the CMAF header.
AUDIO_MOVFLAGS = "+frag_keyframe+empty_moov+delay_moov+default_base_moof"
# BT.2100 PQ/HLG to BT.709 SDR through linear light (zimg), Hable curve.
TONEMAP: list[tuple[str, dict[str, Any]]] = [
    ("zscale", {"t": "linear", "npl": 100}),
    ("format", {"pix_fmts": "gbrpf32le"}),
    ("zscale", {"p": "bt709"}),
    ("tonemap", {"tonemap": "hable", "desat": 0}),
    ("zscale", {"t": "bt709", "m": "bt709", "r": "tv"}),
]


@dataclass(frozen=True)
class AudioOutput:
    stream: int  # index among the master's audio streams
    id: str  # folder name: the language, with -2, -3... for repeats
    language: str = "und"


@dataclass(frozen=True)
class EncodeJob:
    master: Path
    out_dir: Path
    rungs: tuple[PlannedRung, ...]
    audio: tuple[AudioOutput, ...]
    audio_settings: AudioSettings
    frame_rate: Fraction
    gop_seconds: float = 2.0
    preset: str = "veryfast"
    profile: str = "high"
    deinterlace: bool = False
    constant_frame_rate: bool = True  # False: the source is VFR and is resampled to frame_rate
    tonemap: bool = False
    threads: int = 0  # encoder threads per rung; 0 lets FFmpeg choose (all cores)
    av1_preset: int = 8  # SVT-AV1
    hevc_preset: str = "veryfast"  # x265


@dataclass(frozen=True)
class InputWindow:
    """Part of the master to read: seek to ``seek`` seconds, read ``read`` seconds, keep ``frames``.

    ``None`` means from the start, to the end, every frame. Chunked encoding uses this.
    """

    seek: Fraction | None = None
    read: Fraction | None = None
    frames: int | None = None


def video_path(job: EncodeJob, rung: PlannedRung) -> Path:
    return job.out_dir / f"video_{rung.name}.mp4"


def audio_path(job: EncodeJob, output: AudioOutput) -> Path:
    return job.out_dir / f"audio_{output.id}.mp4"


def gop_frames(job: EncodeJob) -> int:
    return max(1, round(job.gop_seconds * job.frame_rate))


def _ratio(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def _kbps(bits: int) -> str:
    return f"{math.ceil(bits / 1000)}k"


def _video_options(job: EncodeJob, rung: PlannedRung) -> dict[str, Any]:
    gop = gop_frames(job)
    # Keyframes are forced on every GOP-th frame, so that every rung of every codec has them at
    # the same timestamps and a chunk that starts on a GOP boundary places them exactly where the
    # one-process encode does; the encoders' own keyframe decisions are pushed out of the way
    # (no scene cuts, a fixed interval) and GOPs are closed.
    options: dict[str, Any] = {
        "force_key_frames": f"expr:eq(mod(n,{gop}),0)",
        # No CEA-608/708 captions carried over from the master's SEI: the HLS variants say
        # CLOSED-CAPTIONS=NONE, which must stay true.
        "a53cc": 0,
        "fps_mode": "passthrough",
        "video_track_timescale": VIDEO_TIMESCALE,
        "movflags": VIDEO_MOVFLAGS,
        "f": "mp4",
    }
    if rung.codec == "av1":
        options.update(_svtav1_options(job, rung, gop))
    elif rung.codec == "hevc":
        options.update(_x265_options(job, rung, gop))
    else:
        options.update(_x264_options(job, rung, gop))
    return options


def _x264_options(job: EncodeJob, rung: PlannedRung, gop: int) -> dict[str, Any]:
    options: dict[str, Any] = {
        "c:v": "libx264",
        "preset": job.preset,
        "profile:v": job.profile,
        **({"b:v": _kbps(rung.bitrate)} if rung.crf is None else {"crf": f"{rung.crf:g}"}),
        "maxrate": _kbps(rung.maxrate),
        "bufsize": _kbps(rung.bufsize),
        "forced-idr": 1,
        "x264-params": f"keyint={2 * gop}:min-keyint={gop}:scenecut=0:open-gop=0",
    }
    if job.threads:
        options["threads"] = job.threads
    return options


def _x265_options(job: EncodeJob, rung: PlannedRung, gop: int) -> dict[str, Any]:
    """libx265, Main profile: a fixed closed GOP and capped VBR through its VBV (kb/s, kb)."""
    params = [
        f"keyint={gop}",
        f"min-keyint={gop}",
        "scenecut=0",
        "open-gop=0",
        f"vbv-maxrate={math.ceil(rung.maxrate / 1000)}",
        f"vbv-bufsize={math.ceil(rung.bufsize / 1000)}",
        "log-level=error",  # x265 writes its banner and stats on stderr otherwise
    ]
    if job.threads:
        params.append(f"pools={job.threads}")
    return {
        "c:v": "libx265",
        "preset": job.hevc_preset,
        "profile:v": "main",
        "b:v": _kbps(rung.bitrate),
        "forced-idr": 1,
        "x265-params": ":".join(params),
        # hvc1: parameter sets only in the hvcC, never in samples, as HLS requires for fMP4
        # (Apple HLS authoring spec 1.10) and Chrome/Safari MSE expect.
        "tag:v": "hvc1",
    }


def _svtav1_options(job: EncodeJob, rung: PlannedRung, gop: int) -> dict[str, Any]:
    """libsvtav1: a fixed closed GOP (key frames, no scene-change detection), VBR at the rung's bitrate.

    SVT-AV1 caps the rate only in CRF mode ("Max Bitrate only supported with CRF mode"), and
    capped CRF overshot its cap by a third on a short noisy clip; so VBR (``rc=1``) aims at the
    rung's bitrate, with ``overshoot-pct`` (how far the rate control may run above the target)
    set from the H.264 rungs' maxrate factor, at most 100 %. It is no cap: the first GOP of a
    title can run well above maxrate (1.8x the target at 720p on the demo master). The packager
    signals the peak it measures, so no peak is hidden from players.
    """
    overshoot = min(100, max(0, round((rung.maxrate / rung.bitrate - 1) * 100)))
    params = [
        "rc=1",
        f"keyint={gop}",
        "irefresh-type=2",  # closed GOP: every GOP starts with a key frame
        "scd=0",
        f"overshoot-pct={overshoot}",
    ]
    if job.threads:
        # lp is a level of parallelism from 0 (auto) to 6 in SVT-AV1 3 and later, not a thread
        # count (it warns and takes 6 above that); fewer threads, a lower level.
        params.append(f"lp={min(SVTAV1_MAX_LP, job.threads)}")
    return {
        "c:v": "libsvtav1",
        "preset": job.av1_preset,
        "b:v": _kbps(rung.bitrate),
        "svtav1-params": ":".join(params),
    }


def _audio_options(job: EncodeJob) -> dict[str, Any]:
    settings = job.audio_settings
    return {
        "c:a": "aac",
        "b:a": _kbps(settings.bitrate),
        "ac": settings.channels,
        "ar": settings.sample_rate,
        "movflags": AUDIO_MOVFLAGS,
        "frag_duration": int(job.gop_seconds * 1_000_000),
        "f": "mp4",
    }


def build_encode_args(
    ffmpeg_exe: str,
    job: EncodeJob,
    window: InputWindow | None = None,
    *,
    video_rungs: bool = True,
    audio: bool = True,
) -> list[str]:
    """The whole command line, executable first: every rung and the audio, or a part of them."""
    window = window or InputWindow()
    reading: dict[str, Any] = {}
    if window.seek:  # before -i: an accurate seek, frames before it are decoded and dropped
        reading["ss"] = _seconds(window.seek)
    if window.read is not None:
        reading["t"] = _seconds(window.read)
    source = ffmpeg.input(str(job.master), **reading)
    outputs = _video_outputs(source, job, window.frames) if video_rungs else []
    if audio:
        for output in job.audio:
            stream = source[f"a:{output.stream}"]
            outputs.append(ffmpeg.output(stream, str(audio_path(job, output)), **_audio_options(job)))
    command = ffmpeg.merge_outputs(*outputs).global_args(
        "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"
    )
    args: list[str] = command.compile(cmd=ffmpeg_exe)
    return args


def _seconds(value: Fraction) -> str:
    return f"{float(value):.6f}"


def _video_outputs(source: Any, job: EncodeJob, frames: int | None) -> list[Any]:
    """One decode, split into one scaled x264 output per rung (limited to ``frames`` if given)."""
    video = source["v:0"]
    if job.deinterlace:
        video = video.filter("bwdif", mode="send_frame")
    if not job.constant_frame_rate:
        video = video.filter("fps", str(job.frame_rate))
    if job.tonemap:
        for name, options in TONEMAP:
            video = video.filter(name, **options)
    split = video.filter_multi_output("split", len(job.rungs))
    outputs = []
    for i, rung in enumerate(job.rungs):
        scaled = split[i].filter("scale", rung.width, rung.height, flags="bicubic")
        if rung.sar == 1:
            scaled = scaled.filter("setsar", 1)
        else:  # a num/den is an expression that setsar rounds to max/max unless told otherwise
            scaled = scaled.filter("setsar", _ratio(rung.sar), max=VUI_RATIO_MAX)
        scaled = scaled.filter("format", "yuv420p")
        options = _video_options(job, rung)
        if frames is not None:
            options["frames:v"] = frames
        outputs.append(ffmpeg.output(scaled, str(video_path(job, rung)), **options))
    return outputs
