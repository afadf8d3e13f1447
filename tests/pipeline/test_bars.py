from __future__ import annotations

from pipeline.bars import bar, stage_lines, transfer_line


def test_bar_fills_in_proportion_and_clamps() -> None:
    assert bar(0, 10) == "[----------]"
    assert bar(50, 10) == "[#####-----]"
    assert bar(150, 10) == "[##########]"


def test_transfer_line_shows_bytes_percent_rate_and_eta() -> None:
    # 50 of 100 MB done, 25 MB of them sent in this run over 5 s: 5 MB/s, 50 MB left: 10 s.
    line = transfer_line("film.mov", 50_000_000, 100_000_000, 25_000_000, 5.0)
    assert line == "film.mov [############------------]  50.0%  50.0/100.0 MB  5.0 MB/s  ETA 0:00:10"
    assert transfer_line("f", 0, 10, 0, 0.0).endswith("ETA -:--:--")


def test_stage_lines_draw_each_stage_then_the_status() -> None:
    view = {
        "status": "failed",
        "progress": {"encode": 100.0, "package": 25.0},
        "error": "boom",
        "upload": None,
    }
    assert stage_lines(view) == [
        "encode     [########################] 100.0%",
        "package    [######------------------]  25.0%",
        "status: failed (boom)",
    ]
