"""Edit lists: write, read back, compare; golden bytes; the moov rewrite; the presentation offset."""

from __future__ import annotations

import pytest

from packager.isobmff.box import box, child, full_box, iter_boxes
from packager.isobmff.edit import EMPTY_EDIT, Edit, EditList, skip_edit, with_edit_list
from packager.isobmff.movie import SampleEntry, TrackDefaults, TrackHeader
from vodpipe.errors import BoxParseError, PackagingError


@pytest.mark.parametrize(
    "edits",
    [
        pytest.param(skip_edit(1024), id="aac-priming"),
        pytest.param(EditList((Edit(500, EMPTY_EDIT), Edit(0, 2048))), id="empty-then-media"),
        pytest.param(EditList((Edit(2**33, 7),)), id="needs-version-1"),
    ],
)
def test_round_trip(edits: EditList) -> None:
    (parsed,) = iter_boxes(edits.to_bytes())
    assert EditList.parse(parsed) == edits


def test_priming_edit_golden_bytes() -> None:
    # §8.6.6.2 version 0: entry_count 1, segment_duration 0, media_time 1024, rate 1.0
    assert skip_edit(1024).to_bytes() == bytes.fromhex(
        "0000001c656c73740000000000000001000000000000040000010000"
    )


def test_truncated_entries_are_refused() -> None:
    data = full_box("elst", 0, 0, (2).to_bytes(4, "big"), b"\x00" * 12)
    with pytest.raises(BoxParseError, match="'elst' at offset 0: 2 entries are truncated"):
        EditList.parse(next(iter_boxes(data)))


def _moov(*trak_children: bytes) -> bytes:
    return box("moov", box("mvhd", b"m"), box("trak", *trak_children), box("mvex", b"x"))


def test_with_edit_list_puts_edts_after_tkhd_and_keeps_the_rest() -> None:
    moov = _moov(box("tkhd", b"t"), box("mdia", b"media"))
    rewritten = with_edit_list(moov, skip_edit(1024))
    trak = child(rewritten, "moov/trak")
    assert trak is not None
    assert [b.type for b in iter_boxes(trak.payload)] == ["tkhd", "edts", "mdia"]
    elst = child(trak, "edts/elst")
    assert elst is not None
    assert EditList.parse(elst) == skip_edit(1024)
    assert [b.type for b in iter_boxes(next(iter_boxes(rewritten)).payload)] == ["mvhd", "trak", "mvex"]
    assert with_edit_list(rewritten, None) == moov  # removing it gives the original back


def test_with_edit_list_replaces_the_encoders_edts() -> None:
    old = box("edts", EditList((Edit(10, 5),)).to_bytes())
    rewritten = with_edit_list(_moov(box("tkhd", b"t"), old, box("mdia", b"")), skip_edit(2112))
    elst = child(rewritten, "moov/trak/edts/elst")
    assert elst is not None
    assert EditList.parse(elst) == skip_edit(2112)
    assert len(rewritten) == len(_moov(box("tkhd", b"t"), box("mdia", b""))) + 36


def header(edits: EditList | None) -> TrackHeader:
    return TrackHeader(2, "soun", 48_000, "eng", SampleEntry("mp4a"), TrackDefaults(), edits, 1000)


@pytest.mark.parametrize(
    ("edits", "offset"),
    [
        pytest.param(None, 0, id="none"),
        pytest.param(skip_edit(1024), 1024, id="priming"),
        pytest.param(EditList((Edit(100, EMPTY_EDIT), Edit(0, 1024))), 1024 - 4800, id="delayed-100ms"),
    ],
)
def test_presentation_offset(edits: EditList | None, offset: int) -> None:
    assert header(edits).presentation_offset == offset


def test_two_media_edits_are_not_supported() -> None:
    with pytest.raises(PackagingError, match="track 2: edit lists other than one offset"):
        _ = header(EditList((Edit(100, 0), Edit(100, 500)))).presentation_offset
