"""Results of a stream check: one finding per rule applied to one URL, a report of them all."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

RULES = {
    "syntax": "playlists and MPDs parse",
    "schema": "the MPD is valid against the MPEG-DASH schema",
    "fetch": "every referenced URL answers 200",
    "cors": "responses carry CORS headers a browser accepts; Range preflight allowed",
    "range": "byte-range requests get 206 with Content-Range",
    "codecs": "CODECS / @codecs match the init segments",
    "resolution": "RESOLUTION / @width x @height match the init segments",
    "bandwidth": "BANDWIDTH / @bandwidth is at least the measured peak",
    "duration": "EXTINF / SegmentTimeline durations match tfdt/trun within 1 ms",
    "target-duration": "EXTINF rounded never exceeds EXT-X-TARGETDURATION",
    "keyframe": "every video segment starts with a keyframe",
    "alignment": "segment boundaries are aligned across video renditions",
    "av-sync": "audio and video durations agree",
    "encryption": "encryption signalling matches tenc/pssh",
    "decode": "every rendition decodes; video renditions have equal frame counts",
}


@dataclass(frozen=True)
class Finding:
    rule: str
    url: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class RenditionSummary:
    id: str
    kind: str
    codec: str
    segments: int
    seconds: float
    peak_bitrate: int
    frames: int | None
    width: int = 0
    height: int = 0


@dataclass
class Report:
    url: str
    format: str
    findings: list[Finding] = field(default_factory=list)
    renditions: list[RenditionSummary] = field(default_factory=list)
    media: dict[str, list[Any]] = field(default_factory=dict, repr=False)  # measured tracks, for ABR

    def add(self, rule: str, url: str, ok: bool, detail: str = "") -> bool:
        assert rule in RULES, rule
        self.findings.append(Finding(rule, url, ok, detail))
        return ok

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "url": self.url,
            "format": self.format,
            "ok": self.ok,
            "failures": [asdict(f) for f in self.failures],
            "rules": {rule: {"checked": n, "failed": bad} for rule, (n, bad) in self._counts().items()},
            "renditions": [asdict(r) for r in self.renditions],
        }
        return json.dumps(data, indent=2)

    def _counts(self) -> dict[str, tuple[int, int]]:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for f in self.findings:
            counts[f.rule][0] += 1
            counts[f.rule][1] += not f.ok
        return {rule: (c[0], c[1]) for rule, c in counts.items()}

    def table(self) -> str:
        """The terminal view: renditions, one row per rule, then every failure with its URL."""
        lines = [f"{self.format.upper()} {self.url}", ""]
        if self.renditions:
            lines.append(
                f"{'rendition':<14}{'codec':<14}{'size':>11}{'segments':>10}{'seconds':>10}"
                f"{'peak kb/s':>11}{'frames':>8}"
            )
            for r in self.renditions:
                size = f"{r.width}x{r.height}" if r.width else "-"
                frames = "-" if r.frames is None else str(r.frames)
                lines.append(
                    f"{r.id:<14}{r.codec:<14}{size:>11}{r.segments:>10}{r.seconds:>10.3f}"
                    f"{r.peak_bitrate // 1000:>11}{frames:>8}"
                )
            lines.append("")
        lines.append(f"{'rule':<17}{'checked':>8}{'failed':>8}  meaning")
        for rule, (checked, failed) in self._counts().items():
            mark = "FAIL" if failed else "ok"
            lines.append(f"{rule:<17}{checked:>8}{failed:>8}  {mark:<5}{RULES[rule]}")
        lines.append("")
        for f in self.failures:
            lines.append(f"FAIL [{f.rule}] {f.url}: {f.detail}")
        lines.append("PASS" if self.ok else f"{len(self.failures)} failure(s)")
        return "\n".join(lines)
