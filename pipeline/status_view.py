"""``vodpipe status TITLE``: a title's record as a person reads it (pure; ``--json`` prints the record).

The head says where the title stands and what its master is; the table has one row per
rendition, with what the packager measured (average and peak bit rate) and, where the quality
stage ran, what the viewer gets (VMAF mean, 5th percentile and minimum, PSNR-Y, and the phone
model's mean where it was asked for); the reports' keys close it.
"""

from __future__ import annotations

from typing import Any

COLUMNS = ("rendition", "codec", "size", "avg kb/s", "peak kb/s", "VMAF", "p5", "min", "PSNR-Y")


def status_lines(view: dict[str, Any]) -> list[str]:
    lines = [_headline(view)]
    master = _master(view.get("probe"))
    if master:
        lines.append(f"master      {view.get('master_name') or '?'}: {master}")
    lines.append(f"ladder      {_ladder(view)}")
    lines.append(f"encryption  {view.get('encryption') or 'none'}")
    if view.get("error"):
        lines.append(f"error       {view['error']}")
    if view.get("status") != "published" and view.get("progress"):
        stages = ", ".join(f"{stage} {percent:.0f}%" for stage, percent in view["progress"].items())
        lines.append(f"progress    {stages}")
    rows = _rows(view)
    if rows:
        phone = any(len(row) > len(COLUMNS) for row in rows)  # VODPIPE_QUALITY_PHONE=1
        lines.append("")
        lines.extend(_table([COLUMNS + (("phone",) if phone else ()), *rows]))
    reports = _reports(view)
    if reports:
        lines.append("")
        lines.extend(f"{name:<11} {key}" for name, key in reports)
    return lines


def _headline(view: dict[str, Any]) -> str:
    version = view.get("published_version") or view.get("version")
    parts = [str(view.get("title")), str(view.get("status"))]
    if version:
        parts.append(f"version {version}")
    if view.get("updated_at"):
        parts.append(f"updated {view['updated_at']}")
    return "  ".join(parts)


def _master(probe: dict[str, Any] | None) -> str:
    if not probe:
        return ""
    parts = []
    video = probe.get("video")
    if video:
        parts.append(f"{video['width']}x{video['height']} {video['frame_rate']} fps {video['codec']}")
    parts.append(f"{probe.get('duration', 0):.1f} s")
    for audio in probe.get("audio") or []:
        parts.append(
            f"audio {audio['codec']} {audio.get('language') or 'und'} {audio.get('layout') or ''}".rstrip()
        )
    return ", ".join(parts)


def _ladder(view: dict[str, Any]) -> str:
    per_title = view.get("per_title")
    if not per_title:
        return view.get("ladder_mode") or "fixed"
    return (
        f"per-title: {per_title['trials']} trials, analysis {per_title['analysis_seconds']:.1f} s, "
        f"{len(per_title['chosen'])} rungs chosen on the hull"
    )


def _rows(view: dict[str, Any]) -> list[tuple[str, ...]]:
    quality = {rung["id"]: rung for rung in (view.get("quality") or {}).get("rungs", [])}
    rows = []
    for rendition in view.get("renditions") or []:
        size = f"{rendition['width']}x{rendition['height']}" if rendition["kind"] == "video" else "audio"
        measured = quality.get(rendition["id"])
        scores: tuple[str, ...] = ("", "", "", "")
        if measured is not None:
            vmaf = measured["vmaf"]
            scores = (
                f"{vmaf['mean']:.1f}",
                f"{vmaf['p5']:.1f}",
                f"{vmaf['minimum']:.1f}",
                f"{measured['psnr_y']['mean']:.1f}",
            )
        if measured is not None and "vmaf_phone" in measured:
            scores += (f"{measured['vmaf_phone']['mean']:.1f}",)
        rows.append(
            (
                rendition["id"],
                rendition["codec"],
                size,
                f"{rendition['average_bandwidth'] / 1000:.0f}",
                f"{rendition['bandwidth'] / 1000:.0f}",
                *scores,
            )
        )
    return rows


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    """Columns padded to their widest cell; a row may stop short (audio: no scores)."""
    count = max(len(row) for row in rows)
    rows = [row + ("",) * (count - len(row)) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(count)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def _reports(view: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    per_title = view.get("per_title") or {}
    quality = view.get("quality") or {}
    for name, key in (
        ("plan", per_title.get("plan")),
        ("hull plot", per_title.get("plot")),
        ("quality", quality.get("report")),
        ("VMAF plot", quality.get("plot")),
    ):
        if key:
            found.append((name, str(key)))
    return found
