from __future__ import annotations

from dataclasses import replace

import pytest

from ingest.probe import AudioInfo, MasterInfo, VideoInfo
from ingest.validate import MasterLimits, validate
from vodpipe.errors import InvalidMasterError

VIDEO = VideoInfo("h264", 1920, 1080, "1", "30", False, 300, 0, False, "sdr", "yuv420p")
GOOD = MasterInfo(
    "mov,mp4",
    1000,
    10.0,
    ("video h264", "audio aac"),
    VIDEO,
    (AudioInfo(0, "aac", 2, "stereo", 48000, "en"),),
    10.0,
    None,
)


def test_a_good_master_passes() -> None:
    validate(GOOD, MasterLimits())
    validate(replace(GOOD, audio=(), streams=("video h264",)), MasterLimits())  # video-only is fine


@pytest.mark.parametrize(
    ("info", "message"),
    [
        pytest.param(
            replace(GOOD, video=None, streams=("audio aac",)),
            "master has no video stream (streams: audio aac)",
            id="no-video",
        ),
        pytest.param(replace(GOOD, duration=0.0), "master has zero duration", id="zero-duration"),
        pytest.param(
            replace(GOOD, duration=0.04), "master is too short: 0.040 s (minimum 0.1 s)", id="too-short"
        ),
        pytest.param(
            replace(GOOD, duration=200_000.0),
            "master duration 200000 s is absurd (maximum 86400 s)",
            id="absurd-duration",
        ),
        pytest.param(
            replace(GOOD, video=replace(VIDEO, width=8, height=8)),
            "master dimensions 8x8 are absurd (each side must be 16-8192 pixels)",
            id="tiny",
        ),
        pytest.param(
            replace(GOOD, video=replace(VIDEO, width=20000)), "dimensions 20000x1080 are absurd", id="huge"
        ),
        pytest.param(
            replace(GOOD, video_end=4.2),
            "master is truncated: video stops at 4.20 s of 10.00 s",
            id="truncated",
        ),
        pytest.param(
            replace(GOOD, undecodable_at=5.0),
            "master is corrupt: video frames do not decode at 5.00 s",
            id="corrupt",
        ),
        pytest.param(
            replace(GOOD, video=replace(VIDEO, frame_count=0)), "video stream has no frames", id="no-frames"
        ),
    ],
)
def test_bad_masters_get_one_precise_line(info: MasterInfo, message: str) -> None:
    with pytest.raises(InvalidMasterError) as error:
        validate(info, MasterLimits())
    assert message in error.value.message
    assert "\n" not in error.value.message


def test_probe_record_round_trips_through_json_shape() -> None:
    assert MasterInfo.from_dict(GOOD.to_dict()) == GOOD
