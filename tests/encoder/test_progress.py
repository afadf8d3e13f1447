from __future__ import annotations

from encoder.progress import Progress, format_progress, parse_progress

BLOCKS = """frame=0
fps=0.00
out_time_us=N/A
speed=N/A
progress=continue
frame=150
fps=75.50
out_time_us=5000000
speed=2.5x
progress=continue
frame=300
fps=80.00
out_time_us=10000000
speed=2.7x
progress=end
""".splitlines()


def test_parse_progress_blocks() -> None:
    updates = list(parse_progress(BLOCKS, total=10.0))
    assert updates == [
        Progress(0.0, 10.0, 0.0, 0.0, False),
        Progress(5.0, 10.0, 75.5, 2.5, False),
        Progress(10.0, 10.0, 80.0, 2.7, True),
    ]
    assert [u.percent for u in updates] == [0.0, 50.0, 100.0]
    assert updates[0].eta is None
    assert updates[1].eta == 2.0  # 5 s of media left at 2.5x


def test_format_progress_shows_percent_fps_and_eta() -> None:
    line = format_progress(Progress(5.0, 10.0, 75.5, 2.5, False), "encode demo")
    assert line == "encode demo  50.0%     76 fps   2.5x  ETA 0:00:02"
    assert format_progress(Progress(0.0, 10.0, 0.0, 0.0, False)).endswith("ETA -:--:--")
