"""Throughput-based ABR simulation over real segment sizes, and its plot.

The model is the one most web players start from (hls.js, dash.js 'throughput' rule): estimate
bandwidth as the harmonic mean of the last three segment downloads, pick the highest rendition
whose peak bitrate fits in 80 % of it, keep at most 30 s of buffer. Downloads are integrated over
a piecewise-constant bandwidth trace whose last rate holds until the end.
"""

from __future__ import annotations

import csv
import itertools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

SAFETY = 0.8
MAX_BUFFER = 30.0
HISTORY = 3
INITIAL_ESTIMATE = 1_000_000  # bits/s before anything is measured, as hls.js assumes ~0.5-1 Mb/s


@dataclass(frozen=True)
class Rung:
    id: str
    bitrate: int  # what the player believes: the rendition's peak
    sizes: tuple[int, ...]  # bytes per segment (audio added)
    durations: tuple[float, ...]


@dataclass(frozen=True)
class Trace:
    name: str
    points: tuple[tuple[float, float], ...]  # (start second, bits per second)

    @classmethod
    def load(cls, path: Path) -> Trace:
        rows = [
            r for r in csv.reader(line for line in path.read_text().splitlines() if not line.startswith("#"))
        ]
        points = tuple((float(s), float(k) * 1000) for s, k in rows[1:] if s)
        if not points or points[0][0] != 0:
            raise ValueError(f"{path}: a trace starts at second 0 with a 'seconds,kbps' header")
        return cls(path.stem, points)

    def rate_at(self, t: float) -> tuple[float, float]:
        """Bits per second at ``t`` and the second at which that rate next changes (inf: never)."""
        later = [start for start, _ in self.points if start > t]
        rate = [value for start, value in self.points if start <= t][-1]
        return rate, min(later, default=float("inf"))

    def download(self, start: float, size_bytes: int) -> float:
        """When a download of ``size_bytes`` started at ``start`` completes."""
        bits, t = size_bytes * 8.0, start
        while bits > 1e-9:
            rate, until = self.rate_at(t)
            span = until - t
            if rate * span >= bits:
                return t + bits / rate
            bits -= rate * span
            t = until
        return t


@dataclass
class Result:
    trace: str
    startup_delay: float
    rebuffer_seconds: float
    rebuffer_ratio: float
    average_bitrate: int
    switches: int
    chosen: list[str] = field(default_factory=list)
    timeline: list[tuple[float, int, float]] = field(default_factory=list)  # time, bitrate, buffer


def simulate(ladder: list[Rung], trace: Trace) -> Result:
    """Play every segment once; return the QoE figures and the timeline for the plot."""
    rungs = sorted(ladder, key=lambda r: r.bitrate)
    count = min(len(r.sizes) for r in rungs)
    t = buffer = rebuffer = 0.0
    startup: float | None = None
    samples: list[float] = []
    chosen: list[Rung] = []
    timeline: list[tuple[float, int, float]] = [(0.0, 0, 0.0)]
    for i in range(count):
        if buffer > MAX_BUFFER:  # wait for room, playing meanwhile
            t += buffer - MAX_BUFFER
            buffer = MAX_BUFFER
        estimate = (
            len(samples[-HISTORY:]) / sum(1 / s for s in samples[-HISTORY:]) if samples else INITIAL_ESTIMATE
        )
        fitting = [r for r in rungs if r.bitrate <= SAFETY * estimate]
        rung = fitting[-1] if fitting else rungs[0]
        done = trace.download(t, rung.sizes[i])
        elapsed = done - t
        samples.append(rung.sizes[i] * 8 / max(elapsed, 1e-6))
        if startup is None:
            startup = done
        else:
            played = min(buffer, elapsed)
            rebuffer += elapsed - played
            buffer -= played
        t = done
        timeline.append((t, rung.bitrate, buffer))  # drained while downloading...
        buffer += rung.durations[i]
        chosen.append(rung)
        timeline.append((t, rung.bitrate, buffer))  # ...then the segment arrives
    content = sum(rungs[0].durations[:count])
    average = sum(r.bitrate * r.durations[i] for i, r in enumerate(chosen)) / content
    switches = sum(1 for a, b in itertools.pairwise(chosen) if a.id != b.id)
    return Result(
        trace.name,
        round(startup or 0.0, 3),
        round(rebuffer, 3),
        round(rebuffer / (content + rebuffer), 4),
        round(average),
        switches,
        [r.id for r in chosen],
        timeline,
    )


def plot(result: Result, trace: Trace, ladder: list[Rung], path: Path) -> Path:
    """Bitrate chosen over the trace's bandwidth (top) and buffer level (bottom), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    end = max(t for t, _, _ in result.timeline)
    times, rates, t = [], [], 0.0
    while t < end:
        rate, until = trace.rate_at(t)
        times += [t, min(until, end)]
        rates += [rate / 1e6, rate / 1e6]
        t = until
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True)
    top.plot(times, rates, color="0.6", label="bandwidth (trace)")
    top.step(
        [x for x, _, _ in result.timeline[1:]],
        [b / 1e6 for _, b, _ in result.timeline[1:]],
        where="pre",
        color="tab:blue",
        label="rendition chosen (peak Mb/s)",
    )
    for rung in ladder:
        top.axhline(rung.bitrate / 1e6, color="tab:blue", alpha=0.15, lw=0.8)
    top.set_ylabel("Mb/s")
    top.legend(loc="upper right", fontsize=8)
    top.set_title(
        f"{result.trace}: startup {result.startup_delay:.2f} s, rebuffering {result.rebuffer_ratio:.1%}, "
        f"average {result.average_bitrate / 1e6:.2f} Mb/s, {result.switches} switches",
        fontsize=9,
    )
    bottom.plot([x for x, _, _ in result.timeline], [b for _, _, b in result.timeline], color="tab:green")
    bottom.set_ylabel("buffer (s)")
    bottom.set_xlabel("wall time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def ladder_from(report: object) -> list[Rung]:
    """The video rungs of a checked title, with the audio segment sizes added to each download."""
    media = getattr(report, "media", None)
    if not media or not media["video"]:
        raise ValueError("the title has no measured video rendition to simulate")
    audio = media["audio"][0] if media["audio"] else None
    rungs = []
    for v in media["video"]:
        sizes = [len(b) for b in v.bodies]
        if audio is not None:
            extra = [len(b) for b in audio.bodies]
            sizes = [s + extra[min(i, len(extra) - 1)] for i, s in enumerate(sizes)]
        peak = int(v.peak_bitrate + (audio.peak_bitrate if audio else 0))
        durations = tuple(float(v.seconds(t.duration)) for t in v.timings)
        rungs.append(Rung(v.track.id, peak, tuple(sizes), durations))
    return rungs


def simulate_report(
    report: object, url: str, traces: list[str], plot_dir: Path, *, as_json: bool = False
) -> str:
    ladder = ladder_from(report)
    plot_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for name in traces:
        trace = Trace.load(Path(name))
        result = simulate(ladder, trace)
        image = plot(result, trace, ladder, plot_dir / f"abr-{trace.name}.png")
        results.append((result, image))
    if as_json:
        return json.dumps(
            [{**{k: v for k, v in asdict(r).items() if k != "timeline"}, "plot": str(p)} for r, p in results],
            indent=2,
        )
    lines = [
        "",
        f"ABR simulation (throughput rule, {int(SAFETY * 100)} % safety, {MAX_BUFFER:.0f} s buffer)",
        f"{'trace':<20}{'startup s':>10}{'rebuffer':>10}{'avg kb/s':>10}{'switches':>10}  plot",
    ]
    for r, p in results:
        lines.append(
            f"{r.trace:<20}{r.startup_delay:>10.2f}{r.rebuffer_ratio:>10.1%}{r.average_bitrate // 1000:>10}"
            f"{r.switches:>10}  {p}"
        )
    return "\n".join(lines)
