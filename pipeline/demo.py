"""A generated test master, so the demo needs nothing but this package."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from encoder.runner import FFmpegRunner


def demo_master_args(
    ffmpeg_exe: str,
    path: Path,
    seconds: float = 30,
    size: str = "1920x1080",
    rate: int = 30,
    audio: bool = True,
) -> list[str]:
    """FFmpeg arguments for a test-pattern master with a 1 kHz tone in English."""
    quiet = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"]
    args = [ffmpeg_exe, *quiet, "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}"]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000:beep_factor=4"]
    args += [
        "-t",
        f"{seconds:g}",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "16",
        "-pix_fmt",
        "yuv420p",
        "-g",
        str(rate),
    ]
    if audio:
        args += ["-c:a", "aac", "-b:a", "192k", "-ac", "2", "-metadata:s:a:0", "language=eng"]
    return [*args, "-movflags", "+faststart", str(path)]


def make_demo_master(runner: FFmpegRunner, ffmpeg_exe: str, path: Path, seconds: float = 30) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    runner.run(demo_master_args(ffmpeg_exe, path, seconds), seconds)
    return path
