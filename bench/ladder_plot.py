"""The ladder benchmark's figure: rate against VMAF per master, one line per ladder."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

_STYLES = {"fixed": ("tab:gray", "o"), "per_title": ("tab:blue", "s")}
_OTHER = (("tab:orange", "^"), ("tab:green", "v"), ("tab:red", "D"))


def _title(master: dict[str, Any]) -> str:
    parts = []
    for key, result in master["bd_rate"].items():
        value = result["percent"]
        parts.append(f"{key.replace('_vs_', ' vs ')}: " + ("n/a" if value is None else f"{value:+.1f} %"))
    return f"{master['name']}\n" + ", ".join(parts)


def plot_report(report: dict[str, Any], path: Path) -> Path:
    """A PNG with one panel per master: every rung as a hollow marker, each hull as a line.

    The rate axis is logarithmic, as BD-rate compares rates by their ratio.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogFormatter

    masters = report["masters"]
    columns = min(2, max(1, len(masters)))
    rows = max(1, math.ceil(len(masters) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(6.4 * columns, 4.4 * rows), squeeze=False)
    for index, master in enumerate(masters):
        ax = axes[index // columns][index % columns]
        for n, (label, ladder) in enumerate(master["ladders"].items()):
            color, marker = _STYLES.get(label, _OTHER[n % len(_OTHER)])
            rungs = ladder["rungs"]
            ax.scatter(
                [r["bitrate"] / 1000 for r in rungs],
                [r["vmaf"] for r in rungs],
                facecolors="none",
                edgecolors=color,
                marker=marker,
            )
            on_hull = [r for r in rungs if r["name"] in ladder["hull"]]
            on_hull.sort(key=lambda r: r["bitrate"])
            ax.plot(
                [r["bitrate"] / 1000 for r in on_hull],
                [r["vmaf"] for r in on_hull],
                color=color,
                marker=marker,
                label=f"{label} ({ladder['codec']})",
            )
            for r in rungs:
                ax.annotate(r["name"], (r["bitrate"] / 1000, r["vmaf"]), fontsize=6, color=color)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
        ax.xaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
        ax.tick_params(axis="x", which="both", labelsize=7)
        ax.set_xlabel("measured rate (kb/s, log)")
        ax.set_ylabel("VMAF (mean)")
        ax.set_title(_title(master), fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for index in range(len(masters), rows * columns):
        axes[index // columns][index % columns].axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
