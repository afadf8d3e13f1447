"""The checker's own MPEG-TS reader on hand-made packets: PSI, PES timestamps, ADTS, H.264 SPS."""

from __future__ import annotations

import pytest

from player_test.media import MediaError
from player_test.ts import PACKET, adts_frames, nal_units, parse, read_ts


def packet(pid: int, payload: bytes, *, start: bool, random_access: bool = False) -> bytes:
    """One 188-byte packet; the adaptation field stuffs it (and carries random_access_indicator)."""
    room = PACKET - 4 - len(payload)
    header = bytes([0x47, (0x40 if start else 0) | pid >> 8, pid & 0xFF])
    if room == 0 and not random_access:
        return header + bytes([0x10]) + payload
    field = bytes([room - 1]) + (
        bytes([0x40 if random_access else 0]) + b"\xff" * (room - 2) if room > 1 else b""
    )
    return header + bytes([0x30]) + field + payload


def section(table_id: int, body: bytes) -> bytes:
    length = len(body) + 5 + 4  # after section_length: 5 header bytes, body, CRC (not checked)
    return b"\x00" + bytes([table_id, 0xB0 | length >> 8, length & 0xFF, 0, 1, 0xC1, 0, 0]) + body + b"\0" * 4


def timestamp(value: int, marker: int) -> bytes:
    return bytes([
        marker << 4 | (value >> 29) & 0x0E | 1, (value >> 22) & 0xFF, (value >> 14) & 0xFE | 1,
        (value >> 7) & 0xFF, (value << 1) & 0xFE | 1,
    ])  # fmt: skip


def pes(stream_id: int, pts: int, data: bytes) -> bytes:
    return b"\x00\x00\x01" + bytes([stream_id, 0, 0, 0x80, 0x80, 5]) + timestamp(pts, 2) + data


ADTS = bytes([0xFF, 0xF1, 0x4C, 0x80, 0x01, 0x1F, 0xFC]) + b"\x00"  # AAC LC, 48 kHz, 8-byte frame
SPS = b"\x00\x00\x00\x01\x67\x64\x00\x1e\xac" + b"\x00\x00\x01\x65\x88"  # High, level 3.0; IDR


def segment(pid: int, stream_type: int, payloads: list[tuple[int, bytes]], stream_id: int) -> bytes:
    pat = packet(0, section(0x00, b"\x00\x01\xf0\x00"), start=True)
    pmt_body = b"\xe1\x00\xf0\x00" + bytes([stream_type, 0xE0 | pid >> 8, pid & 0xFF, 0xF0, 0])
    pmt = packet(0x1000, section(0x02, pmt_body), start=True)
    media = b"".join(
        packet(pid, pes(stream_id, pts, data), start=True, random_access=True) for pts, data in payloads
    )
    return pat + pmt + media


def test_audio_segment_timing_and_codec() -> None:
    data = segment(0x101, 0x0F, [(126000, ADTS), (126000 + 1920, ADTS)], 0xC0)
    media = read_ts(data)
    assert media.codecs == ("mp4a.40.2",)
    assert (media.timing.earliest, media.end) == (126000, 126000 + 1920 + 1920)  # 1024 samples = 1920 ticks
    assert media.info.kind == "audio"


def test_video_segment_codec_from_the_sps_and_keyframe() -> None:
    data = segment(0x100, 0x1B, [(3003, SPS), (6006, b"\x00\x00\x01\x41\x9a")], 0xE0)
    media = read_ts(data)
    assert media.codecs == ("avc1.64001e",)
    assert media.timing.starts_with_sync
    assert (media.timing.earliest, media.end) == (3003, 6006 + 3003)


def test_pes_timestamps_round_trip() -> None:
    streams = parse(segment(0x101, 0x0F, [(2**33 - 1, ADTS)], 0xC0))
    assert streams[0x101].pes[0].pts == 2**33 - 1


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"\x47" + bytes(186), "whole 188-byte packets"), (b"\x00" * 188, "not an MPEG-TS segment"),
     (packet(0x100, b"x", start=False), "no PAT")],
    ids=["cut", "no-sync", "no-pat"],
)  # fmt: skip
def test_bad_segments_are_media_errors(data: bytes, message: str) -> None:
    with pytest.raises(MediaError, match=message):
        parse(data)


def test_adts_and_nal_splitting() -> None:
    assert adts_frames(ADTS * 3) == [(2, 48000, 1024)] * 3
    assert [u[0] & 0x1F for u in nal_units(SPS)] == [7, 5]
    with pytest.raises(MediaError, match="ADTS sync lost"):
        adts_frames(b"\x00" * 8)
