"""SVG plots of a per-title plan and of a title's quality report (matplotlib, Agg: no display).

Each function returns the SVG's bytes; where they are stored is the caller's business.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from matplotlib.figure import Figure

    from encoder.per_title import PerTitlePlan


def _figure(rows: int = 1, height: float = 4.5) -> tuple[Figure, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(rows, 1, figsize=(8, height * rows))
    return fig, axes


def _svg(fig: Figure) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    return buffer.getvalue()


def hull_svg(plan: PerTitlePlan, title: str = "") -> bytes:
    """Every trial point and its resolution's hull, the hull over all, and the chosen rungs."""
    fig, ax = _figure()
    for height, hull in sorted(plan.hulls.items()):
        trials = [p for p in plan.trials if p.height == height]
        (line,) = ax.plot(
            [p.bitrate / 1e6 for p in hull], [p.quality for p in hull], marker=".", lw=1, label=f"{height}p"
        )
        ax.scatter(
            [p.bitrate / 1e6 for p in trials], [p.quality for p in trials], s=14, color=line.get_color()
        )
    ax.plot(
        [p.bitrate / 1e6 for p in plan.hull], [p.quality for p in plan.hull], color="0.3", lw=2.5, alpha=0.35,
        label="hull (all resolutions)",
    )  # fmt: skip
    ax.scatter(
        [p.bitrate / 1e6 for p in plan.chosen], [p.quality for p in plan.chosen], s=90, facecolors="none",
        edgecolors="black", linewidths=1.5, label="chosen rungs", zorder=5,
    )  # fmt: skip
    for p in plan.chosen:
        ax.annotate(f"{p.height}p {p.setting}", (p.bitrate / 1e6, p.quality), fontsize=7,
                    xytext=(6, -10), textcoords="offset points")  # fmt: skip
    ax.axhline(plan.options.top_vmaf, color="0.6", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("bitrate (Mb/s, log)")
    ax.set_ylabel("VMAF")
    ax.set_title(f"{title} per-title trials ({plan.trial_preset}, {len(plan.trials)} encodes)", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return _svg(fig)


def quality_svg(
    rungs: Sequence[Mapping[str, Any]], frames: Mapping[str, Sequence[tuple[float, float]]], title: str = ""
) -> bytes:
    """VMAF over time per rung (top) and the rate-quality curve of the rungs (bottom).

    ``rungs``: per rung ``id``, ``bitrate`` (measured average, b/s) and ``vmaf`` (its summary);
    ``frames``: per rung id, (seconds, VMAF) of every scored frame.
    """
    fig, (top, bottom) = _figure(2, 3.6)
    for rung in rungs:
        points = frames.get(rung["id"], ())
        top.plot([t for t, _ in points], [v for _, v in points], lw=1, label=rung["id"])
    top.set_xlabel("time (s)")
    top.set_ylabel("VMAF")
    top.set_title(f"{title} quality over time", fontsize=10)
    top.legend(fontsize=8, loc="lower right")
    ordered = sorted(rungs, key=lambda r: r["bitrate"])
    rates = [r["bitrate"] / 1e6 for r in ordered]
    bottom.plot(rates, [r["vmaf"]["mean"] for r in ordered], marker="o", label="mean")
    bottom.plot(rates, [r["vmaf"]["p5"] for r in ordered], marker=".", ls="--", label="5th percentile")
    for r, x in zip(ordered, rates, strict=True):
        bottom.annotate(
            r["id"], (x, r["vmaf"]["mean"]), fontsize=7, xytext=(4, 4), textcoords="offset points"
        )
    bottom.set_xlabel("average bitrate (Mb/s)")
    bottom.set_ylabel("VMAF")
    bottom.set_title("rate-quality of the rungs", fontsize=10)
    bottom.legend(fontsize=8, loc="lower right")
    return _svg(fig)
