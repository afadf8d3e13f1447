from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import pytest

from encoder.ladder import Ladder, Rung, SourceGeometry, load_ladder, plan_ladder
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT = load_ladder(None)


def sizes(source: SourceGeometry, ladder: Ladder = DEFAULT) -> list[tuple[str, int, int]]:
    return [(r.name, r.width, r.height) for r in plan_ladder(ladder, source)]


def test_default_ladder_is_the_documented_one() -> None:
    assert [(r.name, r.height, r.bitrate) for r in DEFAULT.rungs] == [
        ("1080p", 1080, 5_000_000),
        ("720p", 720, 3_000_000),
        ("540p", 540, 1_800_000),
        ("360p", 360, 800_000),
        ("240p", 240, 400_000),
    ]
    assert (DEFAULT.audio.bitrate, DEFAULT.audio.channels, DEFAULT.gop_seconds) == (128_000, 2, 2.0)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            SourceGeometry(1920, 1080),
            [
                ("1080p", 1920, 1080),
                ("720p", 1280, 720),
                ("540p", 960, 540),
                ("360p", 640, 360),
                ("240p", 426, 240),
            ],
            id="1080p-full-ladder",
        ),
        pytest.param(
            SourceGeometry(1280, 720),
            [("720p", 1280, 720), ("540p", 960, 540), ("360p", 640, 360), ("240p", 426, 240)],
            id="720p-never-upscales",
        ),
        pytest.param(
            SourceGeometry(1000, 562),
            [("540p", 960, 540), ("360p", 640, 360), ("240p", 428, 240)],
            id="odd-size-even-dimensions",
        ),
        pytest.param(
            SourceGeometry(1080, 1920),
            [
                ("1080p", 1080, 1920),
                ("720p", 720, 1280),
                ("540p", 540, 960),
                ("360p", 360, 640),
                ("240p", 240, 426),
            ],
            id="portrait",
        ),
        pytest.param(
            SourceGeometry(1920, 1080, rotation=90),
            [
                ("1080p", 1080, 1920),
                ("720p", 720, 1280),
                ("540p", 540, 960),
                ("360p", 360, 640),
                ("240p", 240, 426),
            ],
            id="rotated-90-becomes-portrait",
        ),
        pytest.param(
            SourceGeometry(1280, 720, rotation=180),
            [("720p", 1280, 720), ("540p", 960, 540), ("360p", 640, 360), ("240p", 426, 240)],
            id="rotated-180-stays-landscape",
        ),
        pytest.param(
            SourceGeometry(720, 576, sar=Fraction(64, 45)),
            [("540p", 960, 540), ("360p", 640, 360), ("240p", 426, 240)],
            id="anamorphic-pal-widescreen-to-square-pixels",
        ),
        pytest.param(SourceGeometry(320, 180), [("180p", 320, 180)], id="smaller-than-every-rung"),
        pytest.param(SourceGeometry(321, 181), [("180p", 320, 180)], id="tiny-odd-source"),
    ],
)
def test_plan(source: SourceGeometry, expected: list[tuple[str, int, int]]) -> None:
    assert sizes(source) == expected


def test_every_planned_size_is_even_and_capped_vbr() -> None:
    for rung in plan_ladder(DEFAULT, SourceGeometry(1917, 1079)):
        assert rung.width % 2 == 0
        assert rung.height % 2 == 0
        assert rung.maxrate == int(rung.bitrate * 1.5)
        assert rung.bufsize == rung.bitrate * 2


def test_small_source_takes_the_lowest_bitrate() -> None:
    (only,) = plan_ladder(DEFAULT, SourceGeometry(200, 150))
    assert (only.bitrate, only.height) == (400_000, 150)


def test_ladder_file_replaces_the_default(tmp_path: Path) -> None:
    path = tmp_path / "ladder.toml"
    path.write_text(
        'preset = "medium"\n[[rungs]]\nname = "low"\nheight = 360\nbitrate = 600000\n'
        '[[rungs]]\nname = "high"\nheight = 720\nbitrate = 2000000\n'
    )
    ladder = load_ladder(path)
    assert ladder.rungs == (Rung("high", 720, 2_000_000), Rung("low", 360, 600_000))
    assert ladder.preset == "medium"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "at least one", id="no-rungs"),
        pytest.param('[[rungs]]\nname = "A"\nheight = 1\nbitrate = 1\n', "lowercase slug", id="bad-name"),
        pytest.param(
            '[[rungs]]\nname = "a"\nheight = -1\nbitrate = 1\n',
            "'height' must be a positive integer",
            id="negative",
        ),
        pytest.param(
            '[[rungs]]\nname = "a"\nheight = 1\nbitrate = 1\n'
            '[[rungs]]\nname = "a"\nheight = 2\nbitrate = 1\n',
            "unique",
            id="duplicate",
        ),
        pytest.param(
            'preset = "warp"\n[[rungs]]\nname = "a"\nheight = 1\nbitrate = 1\n',
            "unknown x264 preset",
            id="preset",
        ),
        pytest.param(
            'gop_seconds = 0\n[[rungs]]\nname = "a"\nheight = 1\nbitrate = 1\n', "gop_seconds", id="gop"
        ),
        pytest.param("rungs = [", "not valid TOML", id="syntax"),
    ],
)
def test_bad_ladder_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "ladder.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_ladder(path)


def test_missing_ladder_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ladder file not found"):
        load_ladder(tmp_path / "nope.toml")
