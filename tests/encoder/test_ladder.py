from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import pytest

from encoder.ladder import (
    Ladder,
    Rung,
    SourceGeometry,
    display_size,
    load_ladder,
    plan_ladder,
    rung_size,
    with_codecs,
)
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

DEFAULT = load_ladder(None)


def sizes(source: SourceGeometry, ladder: Ladder = DEFAULT) -> list[tuple[str, int, int]]:
    planned = plan_ladder(ladder, source)
    width, height = display_size(source)
    # whatever the size, every rung shows exactly the master's display aspect
    assert [r.display_aspect for r in planned] == [width / height] * len(planned)
    return [(r.name, r.width, r.height) for r in planned]


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
                ("240p", 416, 234),
            ],
            id="1080p-full-ladder",
        ),
        pytest.param(
            SourceGeometry(1280, 720),
            [("720p", 1280, 720), ("540p", 960, 540), ("360p", 640, 360), ("240p", 416, 234)],
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
                ("240p", 234, 416),
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
                ("240p", 234, 416),
            ],
            id="rotated-90-becomes-portrait",
        ),
        pytest.param(
            SourceGeometry(1280, 720, rotation=180),
            [("720p", 1280, 720), ("540p", 960, 540), ("360p", 640, 360), ("240p", 416, 234)],
            id="rotated-180-stays-landscape",
        ),
        pytest.param(
            SourceGeometry(720, 576, sar=Fraction(64, 45)),
            [("540p", 960, 540), ("360p", 640, 360), ("240p", 416, 234)],
            id="anamorphic-pal-widescreen-to-square-pixels",
        ),
        pytest.param(SourceGeometry(320, 180), [("180p", 320, 180)], id="smaller-than-every-rung"),
        pytest.param(SourceGeometry(321, 181), [("180p", 320, 180)], id="tiny-odd-source"),
    ],
)
def test_plan(source: SourceGeometry, expected: list[tuple[str, int, int]]) -> None:
    assert sizes(source) == expected


@pytest.mark.parametrize(
    ("aspect", "nominal", "expected"),
    [
        # 16:9 has exact even sizes every 18 lines: 234 is the nearest below 240 (Apple: 416x234)
        pytest.param(Fraction(16, 9), 240, (416, 234, Fraction(1)), id="16:9-240-square"),
        pytest.param(Fraction(16, 9), 360, (640, 360, Fraction(1)), id="16:9-360-exact"),
        pytest.param(Fraction(4, 3), 240, (320, 240, Fraction(1)), id="4:3-240-exact"),
        # 64:27 every 54 lines: 702 is within 1/16 of 720; at 360, 324 is not, so the
        # sample aspect carries it: 854 x 1280/1281 / 360 = 64/27
        pytest.param(Fraction(64, 27), 720, (1664, 702, Fraction(1)), id="64:27-720-square"),
        pytest.param(Fraction(64, 27), 360, (854, 360, Fraction(1280, 1281)), id="64:27-360-sar"),
        # 500:281 has no even exact size under 562 lines: 428x240 with sar 30000:30067
        pytest.param(Fraction(500, 281), 240, (428, 240, Fraction(30000, 30067)), id="500:281-240-sar"),
    ],
)
def test_rung_size_keeps_the_aspect_exactly(
    aspect: Fraction, nominal: int, expected: tuple[int, int, Fraction]
) -> None:
    long_, short, sar = rung_size(aspect, nominal)
    assert (long_, short, sar) == expected
    assert long_ * sar / short == aspect
    assert long_ % 2 == short % 2 == 0


def test_the_old_240p_squeeze_is_gone() -> None:
    # 426x240 with square pixels was 71:40, a 0.16 % squeeze of 16:9
    assert Fraction(426, 240) == Fraction(71, 40) != Fraction(16, 9)
    (rung,) = [r for r in plan_ladder(DEFAULT, SourceGeometry(1920, 1080)) if r.name == "240p"]
    assert (rung.width, rung.height, rung.sar, rung.display_aspect) == (416, 234, 1, Fraction(16, 9))


def test_a_portrait_rung_inverts_its_sample_aspect() -> None:
    planned = plan_ladder(DEFAULT, SourceGeometry(1000, 562, rotation=90))
    assert [(r.width, r.height, r.sar) for r in planned] == [
        (540, 960, Fraction(1124, 1125)),
        (360, 640, Fraction(1124, 1125)),
        (240, 428, Fraction(30067, 30000)),
    ]
    assert {r.display_aspect for r in planned} == {Fraction(281, 500)}


def test_a_sample_aspect_beyond_16_bits_is_approximated_within_the_vui() -> None:
    (rung,) = [r for r in plan_ladder(DEFAULT, SourceGeometry(1999, 1123)) if r.name == "240p"]
    assert max(rung.sar.numerator, rung.sar.denominator) <= 65_535
    assert abs(rung.display_aspect - Fraction(1999, 1123)) < Fraction(1, 10**8)


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
        pytest.param(
            '[[rungs]]\nname = "a"\nheight = 1\nbitrate = 1\ncodec = "vp9"\n',
            "'codec' must be one of",
            id="codec",
        ),
        pytest.param(
            'av1_preset = 14\n[[rungs]]\nname = "a"\nheight = 1\nbitrate = 1\n',
            "SVT-AV1 preset",
            id="av1-preset",
        ),
        pytest.param(
            'hevc_preset = "warp"\n[[rungs]]\nname = "a"\nheight = 1\nbitrate = 1\n', "x265 preset", id="x265"
        ),
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


FACTORS = {"av1": 0.6, "hevc": 0.75}


def test_each_codec_gets_a_twin_of_every_h264_rung() -> None:
    ladder = with_codecs(DEFAULT, ("h264", "av1", "hevc"), FACTORS)
    assert [(r.name, r.height, r.bitrate, r.codec) for r in ladder.rungs if r.height == 720] == [
        ("720p", 720, 3_000_000, "h264"),
        ("720p-av1", 720, 1_800_000, "av1"),
        ("720p-hevc", 720, 2_250_000, "hevc"),
    ]
    assert [r.codec for r in ladder.rungs] == ["h264"] * 5 + ["av1"] * 5 + ["hevc"] * 5


def test_a_codec_list_without_h264_drops_the_h264_rungs() -> None:
    ladder = with_codecs(DEFAULT, ("av1",), FACTORS)
    assert [r.name for r in ladder.rungs] == ["1080p-av1", "720p-av1", "540p-av1", "360p-av1", "240p-av1"]


def test_h264_alone_leaves_the_ladder_as_it_is() -> None:
    assert with_codecs(DEFAULT, ("h264",), FACTORS) == DEFAULT


def test_a_derived_name_that_repeats_a_rung_of_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ladder.toml"
    path.write_text(
        '[[rungs]]\nname = "360p"\nheight = 360\nbitrate = 600000\n'
        '[[rungs]]\nname = "360p-av1"\nheight = 360\nbitrate = 300000\ncodec = "av1"\n'
    )
    ladder = load_ladder(path)
    assert ladder.rungs[1] == Rung("360p-av1", 360, 300_000, codec="av1")
    assert with_codecs(ladder, ("h264",), FACTORS) == ladder  # a rung the file names stays
    with pytest.raises(ConfigError, match="unique across codecs: 360p-av1"):
        with_codecs(ladder, ("h264", "av1"), FACTORS)


def test_a_small_source_gets_one_rung_per_codec() -> None:
    planned = plan_ladder(with_codecs(DEFAULT, ("h264", "av1"), FACTORS), SourceGeometry(200, 150))
    assert [(r.name, r.height, r.bitrate, r.codec) for r in planned] == [
        ("150p", 150, 400_000, "h264"),
        ("150p-av1", 150, 240_000, "av1"),
    ]


def test_planned_rungs_keep_their_codec() -> None:
    planned = plan_ladder(with_codecs(DEFAULT, ("h264", "hevc"), FACTORS), SourceGeometry(640, 360))
    assert [(r.name, r.codec, r.maxrate) for r in planned] == [
        ("360p", "h264", 1_200_000),
        ("240p", "h264", 600_000),
        ("360p-hevc", "hevc", 900_000),
        ("240p-hevc", "hevc", 450_000),
    ]
