"""Bitrate ladders: loading them from TOML, and planning them against a source. Pure logic."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Rung:
    name: str
    height: int  # the short side: 1080 means 1920x1080 landscape or 1080x1920 portrait
    bitrate: int


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
        rungs.append(Rung(name, _positive(raw, "height", where), _positive(raw, "bitrate", where)))
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
    return Ladder(
        rungs=tuple(sorted(rungs, key=lambda r: r.height, reverse=True)),
        audio=audio,
        gop_seconds=_gop(data, source),
        preset=preset,
        profile=str(data.get("profile", "high")),
        maxrate_factor=float(data.get("maxrate_factor", 1.5)),
        bufsize_factor=float(data.get("bufsize_factor", 2.0)),
    )


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


def plan_ladder(ladder: Ladder, source: SourceGeometry) -> tuple[PlannedRung, ...]:
    """Rungs that fit the source, sized to keep its aspect ratio with square pixels.

    A rung is dropped when its height exceeds the source's short side (never upscale). A source
    smaller than every rung gets one rung at its own size with the lowest rung's bitrate.
    """
    width, height = display_size(source)
    short, long_ = (height, width) if height <= width else (width, height)
    fitting = [r for r in ladder.rungs if r.height <= short]
    if not fitting:
        lowest = min(ladder.rungs, key=lambda r: r.height)
        fitting = [Rung(f"{_even(short)}p", _even(short), lowest.bitrate)]
    planned = []
    for rung in fitting:
        s = _even(rung.height)
        lng = _even(long_ * rung.height / short)
        w, h = (lng, s) if height <= width else (s, lng)
        planned.append(
            PlannedRung(
                rung.name,
                w,
                h,
                rung.bitrate,
                int(rung.bitrate * ladder.maxrate_factor),
                int(rung.bitrate * ladder.bufsize_factor),
            )
        )
    return tuple(planned)
