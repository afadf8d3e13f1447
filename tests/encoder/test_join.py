from __future__ import annotations

import pytest

from encoder.join import _rebase_moof
from packager.isobmff.box import box, child, full_box
from packager.isobmff.fragment import (
    TRUN_DATA_OFFSET,
    TRUN_DURATION,
    MovieFragmentHeader,
    RunSample,
    TrackFragmentDecodeTime,
    TrackFragmentHeader,
    TrackRun,
)
from vodpipe.errors import PackagingError


def moof(sequence: int, tfdt: bytes) -> bytes:
    run = TrackRun((RunSample(duration=3000), RunSample(duration=3000)), TRUN_DATA_OFFSET | TRUN_DURATION, 99)
    traf = box("traf", TrackFragmentHeader(1).to_bytes(), tfdt, run.to_bytes())
    return box("moof", MovieFragmentHeader(sequence).to_bytes(), traf)


@pytest.mark.parametrize(
    "tfdt",
    [
        pytest.param(full_box("tfdt", 0, 0, (6000).to_bytes(4, "big")), id="version-0"),
        pytest.param(TrackFragmentDecodeTime(6000).to_bytes(), id="version-1"),
    ],
)
def test_a_fragment_is_renumbered_and_rebased_in_place(tfdt: bytes) -> None:
    original = moof(7, tfdt)
    rebased = _rebase_moof(original, 3, 360_000)
    assert len(rebased) == len(original)  # trun data offsets stay right
    assert MovieFragmentHeader.parse(child(rebased, "moof/mfhd")).sequence_number == 3  # type: ignore[arg-type]
    decode = TrackFragmentDecodeTime.parse(child(rebased, "moof/traf/tfdt"))  # type: ignore[arg-type]
    assert decode.base_media_decode_time == 366_000
    assert child(rebased, "moof/traf/trun") == child(original, "moof/traf/trun")


def test_a_shift_that_overflows_a_version_0_tfdt_is_refused() -> None:
    with pytest.raises(PackagingError, match="does not fit"):
        _rebase_moof(moof(1, full_box("tfdt", 0, 0, (6000).to_bytes(4, "big"))), 1, 1 << 32)
