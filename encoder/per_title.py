"""Per-title ladders: rungs chosen on the measured rate-quality hull of one master.

Trial encodes (``encoder.trials``, the I/O) give a (bitrate, VMAF) point for the resolutions of
the base ladder that fit the source and the CRFs of a grid that ``encoder.trial_grid`` picks,
pass by pass, where the hull needs them. Everything else here is pure: the
excerpts to sample, the upper convex hull (``encoder.hull``), the rungs chosen on it and the
resulting :class:`Ladder`, whose rungs encode at their trial's CRF with a maxrate/bufsize cap
from the measured bitrate (capped CRF: one-pass ABR misses its target on easy content, see
FINDINGS.md, "The fixed ladder").
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from encoder.hull import RatePoint, crossovers, hulls_by_resolution, select_rungs, upper_hull
from encoder.ladder import AudioSettings, Ladder, Rung
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

# x264 presets, fastest first: trials never run slower than the full encode's preset.
PRESET_ORDER = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
)  # fmt: skip


@dataclass(frozen=True)
class PerTitleOptions:
    top_vmaf: float = 95.0  # the top rung is the cheapest hull point at or above this VMAF...
    max_bitrate: int = 8_000_000  # ...or the best one under this cap
    min_bitrate: int = 150_000  # the bottom rung: the cheapest hull point at or above this...
    min_vmaf: float = 45.0  # ...and this VMAF (both give way to the top rung where it is lower)
    min_height: int = 0  # resolutions below this short side are not tried
    vmaf_step: float = 6.0  # consecutive rungs at least this many VMAF points apart...
    max_ratio: float = 2.0  # ...and at most this bitrate ratio (where the hull allows both)
    # x264 CRF grid: 4 points, 6 apart (about 2x rate each, the rungs' own max_ratio), from
    # near-transparent to the floor's quality; each point costs a trial and its VMAF, so only
    # the inner ones are tried at every resolution (the smallest only where the bottom rung needs
    # it), the ends where the hull needs them (encoder.trial_grid).
    crfs: tuple[int, ...] = (19, 25, 31, 37)
    # The full encode's own preset (capped at the base ladder's, never slower): a faster preset
    # predicts the encode badly (superfast has no mb-tree, so at one CRF it spends about 2-3x the
    # bits veryfast does on easy content, and its rungs missed their planned rate and VMAF).
    trial_preset: str = "veryfast"
    # A title longer than whole_seconds is sampled: excerpts of excerpt_seconds (one GOP of the
    # default ladder, so a trial holds keyframes as often as the encode) covering about
    # sample_fraction of it, at least one and at most ``excerpts``. The analysis costs in
    # proportion to what it samples, about 3-4x the per-title encode of the same seconds (a
    # dozen trials and their VMAF against 3-5 rungs): at 5 %, about a fifth of the encode.
    excerpts: int = 5
    excerpt_seconds: float = 2.0
    sample_fraction: float = 0.05
    whole_seconds: float = 4.0
    subsample: int = 10  # VMAF on every Nth frame of each trial (and the one after it, for motion)


@dataclass(frozen=True)
class Excerpt:
    start: float  # seconds into the master
    seconds: float


@dataclass(frozen=True)
class TrialSize:
    height: int  # the base rung's nominal short side: the key of the hull per resolution
    width: int  # the encoded size, as the full encode plans it
    coded_height: int
    name: str


@dataclass(frozen=True)
class PerTitlePlan:
    options: PerTitleOptions
    excerpts: tuple[Excerpt, ...]
    trials: tuple[RatePoint, ...]
    hulls: dict[int, tuple[RatePoint, ...]]  # per resolution (nominal short side)
    hull: tuple[RatePoint, ...]  # over all resolutions
    chosen: tuple[RatePoint, ...]  # cheapest first
    ladder: Ladder
    analysis_seconds: float = 0.0
    trial_preset: str = ""
    sizes: tuple[TrialSize, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["hulls"] = {str(h): [asdict(p) for p in points] for h, points in self.hulls.items()}
        data["crossovers"] = [asdict(c) for c in crossovers(self.hull)]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PerTitlePlan:
        data = json.loads(text)

        def points(raw: list[dict[str, Any]]) -> tuple[RatePoint, ...]:
            return tuple(RatePoint(**p) for p in raw)

        options = dict(data["options"])
        options["crfs"] = tuple(options["crfs"])
        return cls(
            options=PerTitleOptions(**options),
            excerpts=tuple(Excerpt(**e) for e in data["excerpts"]),
            trials=points(data["trials"]),
            hulls={int(h): points(p) for h, p in data["hulls"].items()},
            hull=points(data["hull"]),
            chosen=points(data["chosen"]),
            ladder=ladder_from_dict(data["ladder"]),
            analysis_seconds=float(data["analysis_seconds"]),
            trial_preset=str(data["trial_preset"]),
            sizes=tuple(TrialSize(**s) for s in data["sizes"]),
        )


def ladder_from_dict(data: dict[str, Any]) -> Ladder:
    """The inverse of ``dataclasses.asdict`` on a :class:`Ladder`."""
    fields = dict(data)
    fields["rungs"] = tuple(Rung(**r) for r in data["rungs"])
    fields["audio"] = AudioSettings(**data["audio"])
    return Ladder(**fields)


def validate_options(options: PerTitleOptions) -> None:
    if not options.crfs or any(not 0 <= c <= 51 for c in options.crfs):
        raise ConfigError("per-title CRF grid must hold x264 CRFs from 0 to 51")
    if options.trial_preset not in PRESET_ORDER:
        raise ConfigError(f"unknown x264 preset for trials: {options.trial_preset!r}")
    if not 0 <= options.min_vmaf <= 100:
        raise ConfigError("per-title: the bottom rung's VMAF floor must be from 0 to 100")
    if options.min_bitrate >= options.max_bitrate:
        raise ConfigError("per-title: the bottom rung's floor must be under the top rung's cap")
    if options.excerpts < 1 or options.excerpt_seconds <= 0 or options.subsample < 1:
        raise ConfigError("per-title: excerpts, excerpt_seconds and subsample must be positive")
    if not 0 < options.sample_fraction <= 1 or options.whole_seconds < options.excerpt_seconds:
        raise ConfigError("per-title: sample_fraction must be in (0, 1], whole_seconds >= excerpt_seconds")


def trial_preset(options: PerTitleOptions, base: Ladder) -> str:
    """The trial preset, or the base ladder's if that one is faster still."""
    order = {p: i for i, p in enumerate(PRESET_ORDER)}
    return min(options.trial_preset, base.preset, key=lambda p: order.get(p, len(order)))


def choose_excerpts(duration: float, options: PerTitleOptions) -> tuple[Excerpt, ...]:
    """The whole title when short; else pieces covering about ``sample_fraction`` of it, one
    centred in each equal part (the trials cost in proportion to what they sample)."""
    if duration <= options.whole_seconds:
        return (Excerpt(0.0, duration),)
    wanted = math.floor(duration * options.sample_fraction / options.excerpt_seconds)
    count = max(1, min(options.excerpts, wanted))
    part = duration / count
    return tuple(
        Excerpt(round(part * i + (part - options.excerpt_seconds) / 2, 3), options.excerpt_seconds)
        for i in range(count)
    )


def crf_of(point: RatePoint) -> float:
    """The CRF a trial point was encoded at (its ``setting`` is ``crf=N``)."""
    key, _, value = point.setting.partition("=")
    if key != "crf":
        raise ConfigError(f"trial point {point.setting!r} was not made at a CRF")
    return float(value)


def top_point(hull: Sequence[RatePoint], options: PerTitleOptions) -> RatePoint:
    """The top rung on a rising hull: the cheapest point at or above ``top_vmaf`` under the
    cap, else the best one under it."""
    capped = [p for p in hull if p.bitrate <= options.max_bitrate]
    if not capped:
        raise ConfigError(
            f"every trial encode is above the {options.max_bitrate} b/s cap: raise the cap or the CRFs"
        )
    saturated = [p for p in capped if p.quality >= options.top_vmaf]
    return saturated[0] if saturated else capped[-1]


def choose_points(points: Sequence[RatePoint], options: PerTitleOptions) -> list[RatePoint]:
    """The rungs on the hull over all resolutions, cheapest first.

    Where even the top rung costs less than the floor, the slowest network takes the top rung
    too, and points under it serve nobody: the floor drops to the top rung's bitrate. The
    bottom rung also reaches ``min_vmaf`` (a picture below it is not worth sending): the
    cheapest hull point at or above both floors, or the top rung where none below it does.
    """
    hull = upper_hull(points)
    if not hull:
        raise ConfigError("per-title: no trial points")
    top = top_point(hull, options)
    return select_rungs(
        hull,
        saturation=options.top_vmaf,
        max_bitrate=top.bitrate,
        min_bitrate=min(options.min_bitrate, top.bitrate),
        min_quality=min(options.min_vmaf, top.quality),
        min_step=options.vmaf_step,
        max_ratio=options.max_ratio,
    )


def ladder_for(points: Sequence[RatePoint], base: Ladder) -> Ladder:
    """The base ladder's settings with one rung per chosen point, at its CRF, capped by its rate.

    Rungs are named by resolution; two rungs at one resolution also carry their rate in kb/s.
    """
    by_height: dict[int, int] = {}
    for p in points:
        by_height[p.height] = by_height.get(p.height, 0) + 1
    rungs = [
        Rung(
            f"{p.height}p" if by_height[p.height] == 1 else f"{p.height}p-{round(p.bitrate / 1000)}k",
            p.height,
            p.bitrate,
            crf=crf_of(p),
        )
        for p in points
    ]
    return replace(base, rungs=tuple(sorted(rungs, key=lambda r: (r.height, r.bitrate), reverse=True)))


def build_plan(
    points: Sequence[RatePoint],
    base: Ladder,
    options: PerTitleOptions,
    excerpts: tuple[Excerpt, ...],
    sizes: tuple[TrialSize, ...] = (),
    analysis_seconds: float = 0.0,
) -> PerTitlePlan:
    chosen = choose_points(points, options)
    return PerTitlePlan(
        options=options,
        excerpts=excerpts,
        trials=tuple(points),
        hulls={h: tuple(hull) for h, hull in hulls_by_resolution(points).items()},
        hull=tuple(upper_hull(points)),
        chosen=tuple(chosen),
        ladder=ladder_for(chosen, base),
        analysis_seconds=analysis_seconds,
        trial_preset=trial_preset(options, base),
        sizes=sizes,
    )


def plan_per_title(
    master: Path,
    base: Ladder,
    options: PerTitleOptions,
    *,
    ffmpeg: str,
    workdir: Path,
    progress: Callable[[float], None] | None = None,
) -> PerTitlePlan:
    """Trial-encode ``master`` (sampled), measure VMAF, and choose its ladder on the hull.

    ``progress`` gets the fraction done, 0 to 1. ``workdir`` holds the trial files; the caller
    owns it (and removes it).
    """
    from encoder.trials import run_trials  # the I/O half

    validate_options(options)
    started = time.monotonic()
    points, excerpts, sizes = run_trials(
        master, base, options, trial_preset(options, base), ffmpeg=ffmpeg, workdir=workdir, progress=progress
    )
    return build_plan(points, base, options, excerpts, sizes, round(time.monotonic() - started, 3))
