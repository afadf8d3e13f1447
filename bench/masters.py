"""Generated masters of very different complexity, for judging ladders against content.

Four kinds, each one FFmpeg ``lavfi`` graph with a 440 Hz tone, encoded near-transparently
(x264 CRF 16) so that the master, not its own compression, is what the ladders are scored
against:

- ``slide``: a still presentation slide (flat background, a header bar, a still test-pattern
  frame as its figure, bars for lines of text). Nothing moves; almost no bits are needed.
- ``pattern``: FFmpeg's moving ``testsrc2``, the demo's master (sharp edges, smooth motion).
- ``noisy``: a Mandelbrot fractal panning fast with its colours turning, under temporal grain
  (``noise`` with ``allf=t``): motion and noise that no encoder can predict, so quality costs
  bits at every rung.
- ``mixed``: the three above cut one after another, a third of the length each.

Everything is fixed (the noise seed, the zoom, the sizes), and the arguments are a pure
function of the kind, the size, the length and the rate: the same call makes the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from encoder.runner import FFmpegRunner

KINDS = ("slide", "pattern", "noisy", "mixed")
DEFAULT_SIZE = (1280, 720)  # four rungs of the default ladder (720p to 240p) fit it
# As long as a short real title: the per-title analysis samples a title, so its cost against
# the encode falls with length; on 6 s masters a 2 s excerpt is a third of the title.
DEFAULT_SECONDS = 30.0  # fifteen 2 s GOPs; the mixed master is three 10 s scenes
DEFAULT_RATE = 24
NOISE_SEED = 20_251_125
GRAIN = 12  # noise strength (0-100): visible film grain, not snow
CRF = 16


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def _slide(width: int, height: int, rate: int, seconds: float) -> str:
    """A still slide laid out on a 1280x720 grid and scaled to the size asked for."""

    def x(v: float) -> int:
        return _even(v * width / 1280)

    def y(v: float) -> int:
        return _even(v * height / 720)

    figure = f"testsrc2=size={x(480)}x{y(270)}:rate={rate},trim=end_frame=1,loop=loop=-1:size=1"
    lines = "".join(
        f",drawbox=x={x(640)}:y={y(220 + 60 * i)}:w={x(w)}:h={y(18)}:color=white:t=fill"
        for i, w in enumerate((520, 440, 480, 360))
    )
    return (
        f"color=c=0x1f3550:size={width}x{height}:rate={rate}:duration={seconds:g}[bg];{figure}[fig];"
        f"[bg][fig]overlay=x={x(80)}:y={y(200)}:shortest=1,"
        f"drawbox=x=0:y=0:w=iw:h={y(110)}:color=0xdcdcdc:t=fill{lines}"
    )


def _pattern(width: int, height: int, rate: int, seconds: float) -> str:
    return f"testsrc2=size={width}x{height}:rate={rate}:duration={seconds:g}"


def _noisy(width: int, height: int, rate: int, seconds: float) -> str:
    # The fractal is rendered still (the mandelbrot source reuses a frame that does not zoom,
    # where a zoom costs minutes of CPU) and moved instead: it scrolls diagonally across the
    # frame, a fifth of its width a second, while its colours turn.
    still = f"mandelbrot=size={width}x{height}:rate={rate}:maxiter=256,trim=duration={seconds:g}"
    motion = "scroll=h=0.008:v=0.005,hue=H=1.5*t"
    grain = f"noise=alls={GRAIN}:allf=t:all_seed={NOISE_SEED}"
    return f"{still},{motion},{grain}"


def video_graph(kind: str, width: int, height: int, rate: int, seconds: float) -> str:
    """The lavfi graph of one kind of master (its output is the graph's only open pad)."""
    makers = {"slide": _slide, "pattern": _pattern, "noisy": _noisy}
    if kind in makers:
        return makers[kind](width, height, rate, seconds)
    if kind != "mixed":
        raise ConfigError(f"unknown master kind {kind!r} (kinds: {', '.join(KINDS)})")
    third = seconds / 3
    scenes = [
        f"{makers[name](width, height, rate, third)},setpts=PTS-STARTPTS[{name}]"
        for name in ("slide", "pattern", "noisy")
    ]
    return ";".join(scenes) + ";[slide][pattern][noisy]concat=n=3:v=1:a=0"


def master_args(
    ffmpeg_exe: str,
    kind: str,
    path: Path,
    *,
    size: tuple[int, int] = DEFAULT_SIZE,
    seconds: float = DEFAULT_SECONDS,
    rate: int = DEFAULT_RATE,
) -> list[str]:
    """The whole FFmpeg command line that writes one master to ``path``."""
    width, height = size
    if width % 2 or height % 2 or min(width, height) < 64:
        raise ConfigError(f"master size must be even and at least 64x64, got {width}x{height}")
    if seconds <= 0 or rate <= 0:
        raise ConfigError("master length and frame rate must be positive")
    gop = round(2 * rate)
    return [
        ffmpeg_exe,
        *("-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"),
        *("-f", "lavfi", "-i", video_graph(kind, width, height, rate, seconds)),
        *("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"),
        *("-t", f"{seconds:g}", "-map", "0:v", "-map", "1:a"),
        *("-c:v", "libx264", "-preset", "veryfast", "-crf", str(CRF), "-pix_fmt", "yuv420p"),
        *("-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"),
        *("-c:a", "aac", "-b:a", "128k", "-ac", "2", "-metadata:s:a:0", "language=eng"),
        # No encoder version strings in the file: the same FFmpeg build gives the same bytes.
        *("-fflags", "+bitexact", "-movflags", "+faststart", str(path)),
    ]


def make_masters(
    runner: FFmpegRunner,
    ffmpeg_exe: str,
    folder: Path,
    *,
    kinds: tuple[str, ...] = KINDS,
    size: tuple[int, int] = DEFAULT_SIZE,
    seconds: float = DEFAULT_SECONDS,
    rate: int = DEFAULT_RATE,
) -> dict[str, Path]:
    """Write the masters into ``folder``, named by kind and shape; one already there is kept."""
    folder.mkdir(parents=True, exist_ok=True)
    masters = {}
    for kind in kinds:
        path = folder / f"{kind}-{size[0]}x{size[1]}-{seconds:g}s-{rate}fps.mp4"
        if not path.exists():
            partial = path.with_suffix(".part.mp4")
            runner.run(master_args(ffmpeg_exe, kind, partial, size=size, seconds=seconds, rate=rate), seconds)
            partial.rename(path)
        masters[kind] = path
    return masters
