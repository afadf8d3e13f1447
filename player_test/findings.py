"""Results of a stream check: one finding per rule applied to one URL, a report of them all.

Every finding has a severity, as the reference validators (Apple's ``mediastreamvalidator``, the
DASH-IF conformance tool) separate them: an ``error`` breaks a MUST of RFC 8216bis, ISO/IEC
23009-1 or CMAF, or makes a real player fail; a ``warning`` breaks a SHOULD or an authoring-spec
recommendation, or exceeds a tolerance only a little. Only errors fail a check, unless ``strict``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    meaning: str
    source: str  # the spec clause or the player behaviour the rule enforces


RULES = {
    "syntax": Rule("playlists and MPDs parse", "RFC 8216bis §4; ISO/IEC 23009-1 §5"),
    "schema": Rule("the MPD is valid against the MPEG-DASH schema", "ISO/IEC 23009-1 Annex B (DASH-MPD.xsd)"),
    "fetch": Rule(
        "every referenced URL (or byte range) answers 200 (206)", "players fail on a missing segment"
    ),
    "cors": Rule(
        "responses carry CORS headers a browser accepts; Range preflight allowed",
        "Fetch standard (CORS); MSE players fetch with XHR/fetch",
    ),
    "range": Rule("byte-range requests get 206 with Content-Range", "RFC 9110 §14; RFC 8216bis §4.4.4.2"),
    "codecs": Rule(
        "CODECS / @codecs match the init or TS segments", "RFC 8216bis §4.4.6.2; ISO/IEC 23009-1 §5.3.7"
    ),
    "resolution": Rule("RESOLUTION / @width x @height match the media", "RFC 8216bis §4.4.6.2"),
    "bandwidth": Rule(
        "BANDWIDTH / AVERAGE-BANDWIDTH / @bandwidth cover the measured bit rate (10 % tolerance: warning)",
        "RFC 8216bis §4.4.6.2 (peak segment bit rate); Apple mediastreamvalidator; DASH @bandwidth: "
        "ISO/IEC 23009-1 §5.3.5.2 buffer model over @minBufferTime, short by > 10 % an error",
    ),
    "duration": Rule(
        "EXTINF / timeline durations match the media's presentation time (half a frame, one audio frame)",
        "RFC 8216bis §4.4.4.1; ISO/IEC 14496-12 §8.6.6 (edit lists)",
    ),
    "target-duration": Rule("EXTINF rounded never exceeds EXT-X-TARGETDURATION", "RFC 8216bis §4.4.3.1"),
    "keyframe": Rule(
        "every video segment starts with a keyframe",
        "RFC 8216bis §4.4.2.1 (INDEPENDENT-SEGMENTS); CMAF §7.3.2",
    ),
    "alignment": Rule(
        "segment boundaries are aligned across video renditions (presentation time)",
        "RFC 8216bis §6.2.4; ISO/IEC 23009-1 §5.3.3.2 (segmentAlignment)",
    ),
    "av-sync": Rule(
        "audio starts and ends with the video (AAC priming removed by an edit list)",
        "ISO/IEC 14496-12 §8.6.6; Apple TN2258; ITU-R BT.1359 / EBU R37 lip-sync tolerance",
    ),
    "signalling": Rule(
        "video AdaptationSets carry @par, @maxWidth, @maxHeight, @maxFrameRate; Representations @sar",
        "DASH-IF IOP v4.3 §3.2.4 (warning)",
    ),
    "captions": Rule(
        "CLOSED-CAPTIONS=NONE on every variant when the title has no captions",
        "Apple HLS authoring spec; QA1801 (iOS shows an empty caption menu)",
    ),
    "encryption": Rule(
        "encryption signalling matches tenc/pssh; AES-128 segments decrypt",
        "RFC 8216bis §4.4.4.4; ISO/IEC 23001-7",
    ),
    "license": Rule(
        "an encrypted rendition's key comes from the ClearKey license server its manifest names "
        "(with --token), and decrypts it",
        "W3C EME §9.1 (ClearKey); DASH-IF IOP (dashif:Laurl); ISO/IEC 23001-7 §10",
    ),
    "decode": Rule(
        "every rendition decodes; video renditions have equal frame counts", "PyAV (FFmpeg) decode"
    ),
}


@dataclass(frozen=True)
class Finding:
    rule: str
    url: str
    ok: bool
    detail: str = ""
    severity: Severity = "error"

    def line(self) -> str:
        return f"{'ERROR' if self.severity == 'error' else 'WARN'} [{self.rule}] {self.url}: {self.detail}"


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

    def add(self, rule: str, url: str, ok: bool, detail: str = "", severity: Severity = "error") -> bool:
        assert rule in RULES, rule
        assert severity in ("error", "warning"), severity
        self.findings.append(Finding(rule, url, ok, detail, severity))
        return ok

    @property
    def failures(self) -> list[Finding]:
        """Every failed finding, errors and warnings."""
        return [f for f in self.findings if not f.ok]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.failures if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.failures if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when no error failed (warnings allowed)."""
        return not self.errors

    def passes(self, strict: bool = False) -> bool:
        return not (self.failures if strict else self.errors)

    def to_json(self, strict: bool = False) -> str:
        data: dict[str, Any] = {
            "url": self.url,
            "format": self.format,
            "ok": self.passes(strict),
            "strict": strict,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "failures": [asdict(f) for f in self.failures],
            "rules": {
                rule: {"checked": n, "failed": errors, "warned": warned, "source": RULES[rule].source}
                for rule, (n, errors, warned) in self._counts().items()
            },
            "renditions": [asdict(r) for r in self.renditions],
        }
        return json.dumps(data, indent=2)

    def _counts(self) -> dict[str, tuple[int, int, int]]:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for f in self.findings:
            counts[f.rule][0] += 1
            counts[f.rule][1] += not f.ok and f.severity == "error"
            counts[f.rule][2] += not f.ok and f.severity == "warning"
        return {rule: (c[0], c[1], c[2]) for rule, c in counts.items()}

    def table(self, strict: bool = False) -> str:
        """The terminal view: renditions, one row per rule, then every error and warning with its URL."""
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
        lines.append(f"{'rule':<17}{'checked':>8}{'errors':>8}{'warns':>7}  meaning")
        for rule, (checked, errors, warned) in self._counts().items():
            mark = "ERROR" if errors else "WARN" if warned else "ok"
            meaning = f"{RULES[rule].meaning} ({RULES[rule].source})"
            lines.append(f"{rule:<17}{checked:>8}{errors:>8}{warned:>7}  {mark:<6}{meaning}")
        lines.append("")
        lines += [f.line() for f in self.errors] + [f.line() for f in self.warnings]
        verdict = "PASS" if self.passes(strict) else "FAIL"
        lines.append(f"{verdict}: {len(self.errors)} error(s), {len(self.warnings)} warning(s)")
        return "\n".join(lines)
