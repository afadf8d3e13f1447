"""The checker's pure parts: DASH templates and durations, the esds reader, the findings report."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from player_test.dash import parse_duration
from player_test.dash_segments import fill
from player_test.findings import RULES, Report
from player_test.hls import KEY_SCHEMES
from player_test.media import MediaError, _esds_codec, boxes
from tests.packager.test_codecs import ESDS_AAC_LC


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("video/$RepresentationID$/seg-$Number%05d$.m4s", "video/720p/seg-00042.m4s"),
        ("$RepresentationID$/$Time$.m4s", "720p/360000.m4s"),
        ("b$Bandwidth$/n$Number$.mp4", "b3000000/n42.mp4"),
        ("init-$RepresentationID$.mp4", "init-720p.mp4"),
        ("price-$$5.m4s", "price-$5.m4s"),
    ],
)
def test_segment_template_identifiers(template: str, expected: str) -> None:
    assert fill(template, "720p", 3_000_000, number=42, time=360_000) == expected


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("PT30.000000S", Fraction(30)), ("PT1H2M3.5S", Fraction(7447, 2)), ("P1DT1S", Fraction(86401)),
     ("PT0S", Fraction(0)), ("garbage", Fraction(0)), (None, Fraction(0))],
)  # fmt: skip
def test_xs_duration(value: str | None, seconds: Fraction) -> None:
    assert parse_duration(value) == seconds


def test_esds_reader_agrees_with_the_packager_vector() -> None:
    assert _esds_codec(ESDS_AAC_LC) == "mp4a.40.2"


def test_hls_key_methods_name_cmaf_schemes() -> None:
    assert (KEY_SCHEMES["SAMPLE-AES"], KEY_SCHEMES["SAMPLE-AES-CTR"]) == ("cbcs", "cenc")


def test_impossible_box_sizes_are_media_errors() -> None:
    with pytest.raises(MediaError, match="impossible size"):
        boxes(b"\x00\x00\x00\x40moof" + b"\x00" * 8)


def test_report_table_and_json_name_every_error_and_warning() -> None:
    report = Report("http://o/t/master.m3u8", "hls")
    report.add("fetch", "http://o/t/a.m4s", True)
    report.add("fetch", "http://o/t/b.m4s", False, "HTTP 404")
    report.add("codecs", "http://o/t/v.m3u8", False, "CODECS 'x', media has 'y'")
    report.add("bandwidth", "http://o/t/v.m3u8", False, "5 % below the peak", severity="warning")
    assert not report.ok
    table = report.table()
    assert "ERROR [fetch] http://o/t/b.m4s: HTTP 404" in table
    assert "ERROR [codecs] http://o/t/v.m3u8" in table
    assert "WARN [bandwidth] http://o/t/v.m3u8: 5 % below the peak" in table
    assert table.endswith("FAIL: 2 error(s), 1 warning(s)")
    assert "RFC 8216bis §4.4.6.2" in table  # each rule row names its source
    data = json.loads(report.to_json())
    assert data["ok"] is False
    assert (data["errors"], data["warnings"]) == (2, 1)
    assert data["rules"]["fetch"] | {"source": ""} == {"checked": 2, "failed": 1, "warned": 0, "source": ""}
    assert data["rules"]["bandwidth"]["warned"] == 1
    assert [(f["rule"], f["severity"]) for f in data["failures"]] == [
        ("fetch", "error"),
        ("codecs", "error"),
        ("bandwidth", "warning"),
    ]


def test_warnings_alone_pass_unless_strict() -> None:
    report = Report("http://o/t/master.m3u8", "hls")
    report.add("captions", "http://o/t/master.m3u8", False, "no CLOSED-CAPTIONS", severity="warning")
    assert report.ok
    assert report.passes()
    assert not report.passes(strict=True)
    assert report.table().endswith("PASS: 0 error(s), 1 warning(s)")
    assert report.table(strict=True).endswith("FAIL: 0 error(s), 1 warning(s)")
    assert json.loads(report.to_json(strict=True))["ok"] is False
    assert [f.rule for f in report.warnings] == ["captions"]
    assert report.errors == []


def test_every_rule_names_its_source() -> None:
    assert all(rule.meaning and rule.source for rule in RULES.values())


def test_an_unknown_rule_is_a_programming_error() -> None:
    with pytest.raises(AssertionError):
        Report("u", "hls").add("vibes", "u", True)


def test_check_help_explains_severities_strict_and_packaging_modes() -> None:
    from pipeline.cli import build_parser

    parser = build_parser()
    check_parser = parser._subparsers._group_actions[0].choices["check"]
    text = check_parser.format_help()
    for words in ("--strict", "error ", "warning ", "MPEG-TS", "EXT-X-BYTERANGE", "AES-128", "SegmentBase"):
        assert words in text
