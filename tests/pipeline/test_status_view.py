"""``vodpipe status``'s summary of a title record."""

from __future__ import annotations

from typing import Any

from pipeline.status_view import status_lines


def _rendition(
    rid: str, kind: str, codec: str, width: int, height: int, avg: int, peak: int
) -> dict[str, Any]:
    return {
        "id": rid, "kind": kind, "codec": codec, "width": width, "height": height,
        "average_bandwidth": avg, "bandwidth": peak,
    }  # fmt: skip


def _scores(mean: float, p5: float, minimum: float) -> dict[str, float]:
    return {"mean": mean, "p5": p5, "minimum": minimum}


VIEW: dict[str, Any] = {
    "title": "film",
    "status": "published",
    "published_version": "v123",
    "updated_at": "2026-12-07T04:15:13+00:00",
    "master_name": "film.mov",
    "encryption": "cbcs",
    "error": None,
    "probe": {
        "duration": 31.25,
        "video": {"width": 1920, "height": 1080, "frame_rate": "24000/1001", "codec": "prores"},
        "audio": [{"codec": "pcm_s24le", "language": "en", "layout": "5.1"}],
    },
    "per_title": {
        "trials": 9,
        "analysis_seconds": 12.34,
        "chosen": [{}, {}],
        "plan": "reports/film/v123/plan.json",
        "plot": "reports/film/v123/hull.svg",
    },
    "quality": {
        "rungs": [
            {"id": "1080p-4200k", "vmaf": _scores(95.04, 91.26, 88.0), "psnr_y": _scores(44.44, 40, 39)},
            {"id": "360p-400k", "vmaf": _scores(61.0, 52.55, 40.04), "psnr_y": _scores(33.0, 30, 29)},
        ],
        "report": "reports/film/v123/quality.json",
        "plot": "reports/film/v123/quality.svg",
    },
    "renditions": [
        _rendition("1080p-4200k", "video", "avc1.640028", 1920, 1080, 4_210_400, 5_002_000),
        _rendition("360p-400k", "video", "avc1.64001e", 640, 360, 398_700, 450_000),
        _rendition("en", "audio", "mp4a.40.2", 0, 0, 128_000, 130_000),
    ],
}


def test_a_published_per_title_title_reads_as_a_table() -> None:
    assert status_lines(VIEW) == [
        "film  published  version v123  updated 2026-12-07T04:15:13+00:00",
        "master      film.mov: 1920x1080 24000/1001 fps prores, 31.2 s, audio pcm_s24le en 5.1",
        "ladder      per-title: 9 trials, analysis 12.3 s, 2 rungs chosen on the hull",
        "encryption  cbcs",
        "",
        "rendition    codec        size       avg kb/s  peak kb/s  VMAF  p5    min   PSNR-Y",
        "1080p-4200k  avc1.640028  1920x1080  4210      5002       95.0  91.3  88.0  44.4",
        "360p-400k    avc1.64001e  640x360    399       450        61.0  52.5  40.0  33.0",
        "en           mp4a.40.2    audio      128       130",
        "",
        "plan        reports/film/v123/plan.json",
        "hull plot   reports/film/v123/hull.svg",
        "quality     reports/film/v123/quality.json",
        "VMAF plot   reports/film/v123/quality.svg",
    ]


def test_a_failed_title_says_why_and_how_far_it_got() -> None:
    view = {
        "title": "broken",
        "status": "failed",
        "version": None,
        "error": "master has no video stream (streams: audio aac)",
        "progress": {"probe": 100.0, "encode": 0.0},
        "encryption": "none",
    }
    assert status_lines(view) == [
        "broken  failed",
        "ladder      fixed",
        "encryption  none",
        "error       master has no video stream (streams: audio aac)",
        "progress    probe 100%, encode 0%",
    ]


def test_phone_scores_get_a_column_of_their_own() -> None:
    view = {**VIEW, "quality": {"rungs": [
        {"id": "1080p-4200k", "vmaf": _scores(95.04, 91.26, 88.0), "psnr_y": _scores(44.44, 40, 39)},
        {"id": "360p-400k", "vmaf": _scores(61.0, 52.55, 40.04), "psnr_y": _scores(33.0, 30, 29),
         "vmaf_phone": _scores(74.96, 66.0, 55.0)},
    ]}}  # fmt: skip
    table = status_lines(view)[5:9]
    assert table == [
        "rendition    codec        size       avg kb/s  peak kb/s  VMAF  p5    min   PSNR-Y  phone",
        "1080p-4200k  avc1.640028  1920x1080  4210      5002       95.0  91.3  88.0  44.4",
        "360p-400k    avc1.64001e  640x360    399       450        61.0  52.5  40.0  33.0    75.0",
        "en           mp4a.40.2    audio      128       130",
    ]
