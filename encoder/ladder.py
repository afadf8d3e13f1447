"""Bitrate ladders: loading them from TOML, and planning them against a source. Pure logic."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from fractions import Fraction
from importlib import resources
from typing import TYPE_CHECKING, Any

from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_PRESETS = {
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
}
# Video codecs a rung may use; the first is the default and the one other codecs derive from.
CODECS = ("h264", "av1", "hevc")
SVTAV1_PRESETS = range(-2, 14)  # SVT-AV1's -preset: lower is slower and better


@dataclass(frozen=True)
class Rung:
    name: str
    height: int  # the short side: 1080 means 1920x1080 landscape or 1080x1920 portrait
    bitrate: int
    codec: str = "h264"  # one of CODECS
    # Capped CRF instead of a target rate: a per-title rung encodes at the CRF its trial was
    # measured at, with maxrate/bufsize from ``bitrate`` only as a ceiling (one-pass ABR on easy
    # content misses its target: FINDINGS.md, "The fixed ladder").
    crf: float | None = None


@dataclass(frozen=True)
class AudioSettings:
    bitrate: int = 128_000
    channels: int = 2
    sample_rate: int = 48_000


@dataclass(frozen=True)
class Ladder:
    rungs: tuple[Rung, ...]
    audio: AudioSettings = AudioSettings()
    gop_seconds: float = 2.0
    preset: str = "veryfast"
    profile: str = "high"
    maxrate_factor: float = 1.5
    bufsize_factor: float = 2.0
    av1_preset: int = 8  # SVT-AV1 preset for the av1 rungs
    hevc_preset: str = "veryfast"  # x265 preset for the hevc rungs


@dataclass(frozen=True)
class SourceGeometry:
    width: int
    height: int
    sar: Fraction = Fraction(1)
    rotation: int = 0


@dataclass(frozen=True)
class PlannedRung:
    name: str
    width: int
    height: int
    bitrate: int
    maxrate: int
    bufsize: int
    sar: Fraction = Fraction(1)  # sample (pixel) aspect ratio, signalled in the H.264 VUI
    codec: str = "h264"
    crf: float | None = None  # capped CRF (see Rung.crf); None: the bitrate is the target

    @property
    def display_aspect(self) -> Fraction:
        return self.width * self.sar / self.height


def _positive(table: dict[str, Any], key: str, where: str) -> int:
    value = table.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{where}: '{key}' must be a positive integer, got {value!r}")
    return value


def parse_ladder(data: dict[str, Any], source: str) -> Ladder:
    rungs_raw = data.get("rungs")
    if not isinstance(rungs_raw, list) or not rungs_raw:
        raise ConfigError(f"{source}: a ladder needs at least one [[rungs]] table")
    rungs = []
    for i, raw in enumerate(rungs_raw, 1):
        where = f"{source}: rung {i}"
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigError(f"{where}: 'name' must be a short lowercase slug, got {name!r}")
        codec = raw.get("codec", CODECS[0])
        if codec not in CODECS:
            raise ConfigError(f"{where}: 'codec' must be one of {', '.join(CODECS)}, got {codec!r}")
        rungs.append(
            Rung(name, _positive(raw, "height", where), _positive(raw, "bitrate", where), codec=codec)
        )
    if len({r.name for r in rungs}) != len(rungs):
        raise ConfigError(f"{source}: rung names must be unique")
    audio_raw = data.get("audio", {})
    audio = AudioSettings(
        _positive(audio_raw, "bitrate", f"{source}: [audio]") if "bitrate" in audio_raw else 128_000,
        _positive(audio_raw, "channels", f"{source}: [audio]") if "channels" in audio_raw else 2,
        _positive(audio_raw, "sample_rate", f"{source}: [audio]") if "sample_rate" in audio_raw else 48_000,
    )
    preset = data.get("preset", "veryfast")
    if preset not in _PRESETS:
        raise ConfigError(f"{source}: unknown x264 preset {preset!r}")
    hevc_preset = data.get("hevc_preset", "veryfast")
    if hevc_preset not in _PRESETS:  # x265 takes x264's preset names
        raise ConfigError(f"{source}: unknown x265 preset {hevc_preset!r}")
    av1_preset = data.get("av1_preset", 8)
    if isinstance(av1_preset, bool) or av1_preset not in SVTAV1_PRESETS:
        raise ConfigError(f"{source}: 'av1_preset' must be an SVT-AV1 preset, -2 to 13, got {av1_preset!r}")
    return Ladder(
        rungs=_ordered(rungs),
        audio=audio,
        gop_seconds=_gop(data, source),
        preset=preset,
        profile=str(data.get("profile", "high")),
        maxrate_factor=float(data.get("maxrate_factor", 1.5)),
        bufsize_factor=float(data.get("bufsize_factor", 2.0)),
        av1_preset=av1_preset,
        hevc_preset=hevc_preset,
    )


def _ordered(rungs: list[Rung]) -> tuple[Rung, ...]:
    """By codec (CODECS order: H.264 first, the one every player takes), then from the top down."""
    return tuple(sorted(rungs, key=lambda r: (CODECS.index(r.codec), -r.height)))


def with_codecs(ladder: Ladder, codecs: tuple[str, ...], factors: dict[str, float]) -> Ladder:
    """The ladder with a rung set per codec in ``codecs``, derived from its H.264 rungs.

    Each H.264 rung gets a twin per other codec at the same height and ``factors[codec]`` times
    its bitrate, named ``{name}-{codec}`` (``720p-av1``). The H.264 rungs stay only when ``h264``
    is listed; rungs the ladder file gives another codec itself are kept as they are.
    """
    unknown = [c for c in codecs if c not in CODECS]
    if unknown or not codecs:
        raise ConfigError(f"video codecs must be some of {', '.join(CODECS)}, got {','.join(codecs)!r}")
    base = [r for r in ladder.rungs if r.codec == CODECS[0]]
    rungs = [r for r in ladder.rungs if r.codec != CODECS[0] or CODECS[0] in codecs]
    for codec in codecs:
        if codec == CODECS[0]:
            continue
        rungs += [
            Rung(f"{r.name}-{codec}", r.height, round(r.bitrate * factors[codec]), codec=codec) for r in base
        ]
    names = [r.name for r in rungs]
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise ConfigError(f"rung names must be unique across codecs: {', '.join(repeated)} repeat")
    if not rungs:
        raise ConfigError(f"the ladder has no rung for the codecs {','.join(codecs)}")
    return replace(ladder, rungs=_ordered(rungs))


def _gop(data: dict[str, Any], source: str) -> float:
    value = data.get("gop_seconds", 2.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.5 <= value <= 10:
        raise ConfigError(f"{source}: 'gop_seconds' must be a number from 0.5 to 10, got {value!r}")
    return float(value)


def load_ladder(path: Path | None) -> Ladder:
    """The ladder in ``path``, or vodpipe's default when ``path`` is None."""
    if path is None:
        text = resources.files("encoder").joinpath("default_ladder.toml").read_text()
        return parse_ladder(tomllib.loads(text), "default ladder")
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"ladder file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"ladder file {path} is not valid TOML: {exc}") from None
    return parse_ladder(data, str(path))


def _even(value: Fraction | float) -> int:
    return max(2, 2 * round(Fraction(value) / 2))


def display_size(source: SourceGeometry) -> tuple[Fraction, Fraction]:
    """Square-pixel size after the sample aspect ratio and rotation are applied."""
    width = Fraction(source.width) * (source.sar or 1)
    height = Fraction(source.height)
    if source.rotation % 180 == 90:
        width, height = height, width
    return width, height


# A square-pixel size is used when one with the exact display aspect lies this close below the
# rung's nominal height (16:9 at 240 lines: 416x234, as Apple's authoring spec lists it).
SQUARE_PIXEL_SLACK = Fraction(1, 16)
VUI_RATIO_MAX = 65_535  # H.264 VUI sar_width/sar_height are 16-bit (ISO/IEC 14496-10 E.1.1)


def rung_size(aspect: Fraction, nominal: int) -> tuple[int, int, Fraction]:
    """Even (long side, short side, sample aspect ratio) whose display aspect is ``aspect`` exactly.

    ``aspect`` is long side over short side, in square pixels. With it reduced to p/q, a short
    side h and long side h*p/q that are both even integers exist only for h a multiple of 2q;
    the largest such h not above ``nominal`` is taken if it is within the slack. Otherwise the
    nominal short side is kept, the long side rounded to even, and the small difference is
    carried by a non-square sample aspect ratio (ISO/IEC 14496-10 VUI aspect_ratio_idc 255).
    """
    step = 2 * aspect.denominator
    short = nominal - nominal % step
    if short and short >= nominal * (1 - SQUARE_PIXEL_SLACK):
        return int(short * aspect), short, Fraction(1)
    short = _even(nominal)
    long_ = _even(short * aspect)
    # The VUI holds 16-bit terms: an aspect that needs more is approximated to within 2^-32.
    return long_, short, (aspect * short / long_).limit_denominator(VUI_RATIO_MAX)


# A capped-CRF rung's VBV is never sized below this rate: on near-static content the average
# rate is a few kb/s, and a buffer sized from it starves the keyframes (a slide at 15 kb/s
# scored VMAF 97 uncapped and 42 with maxrate 24k/bufsize 32k).
CRF_CAP_FLOOR = 200_000


def plan_ladder(ladder: Ladder, source: SourceGeometry) -> tuple[PlannedRung, ...]:
    """Rungs that fit the source, each with exactly the source's display aspect ratio.

    A rung is dropped when its height exceeds the source's short side (never upscale). A source
    smaller than every rung of a codec gets one rung of that codec at its own size, with the
    bitrate of that codec's lowest rung. Sizes are even, square-pixel where an exact one is near
    (see :func:`rung_size`).
    """
    width, height = display_size(source)
    short, long_ = (height, width) if height <= width else (width, height)
    fitting = [r for r in ladder.rungs if r.height <= short]
    for codec in dict.fromkeys(r.codec for r in ladder.rungs):
        if any(r.codec == codec for r in fitting):
            continue
        lowest = min((r for r in ladder.rungs if r.codec == codec), key=lambda r: r.height)
        suffix = "" if codec == CODECS[0] else f"-{codec}"
        fitting.append(Rung(f"{_even(short)}p{suffix}", _even(short), lowest.bitrate, codec=codec))
    aspect = long_ / short
    planned = []
    for rung in fitting:
        lng, s, sar = rung_size(aspect, rung.height)
        w, h = (lng, s) if height <= width else (s, lng)
        if height > width:  # portrait: the pixel is as wide as tall rotated, so the ratio inverts
            sar = 1 / sar
        cap = rung.bitrate if rung.crf is None else max(rung.bitrate, CRF_CAP_FLOOR)
        planned.append(
            PlannedRung(
                rung.name,
                w,
                h,
                rung.bitrate,
                int(cap * ladder.maxrate_factor),
                int(cap * ladder.bufsize_factor),
                sar,
                rung.codec,
                rung.crf,
            )
        )
    return tuple(planned)
