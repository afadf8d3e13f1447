"""HLS and DASH rendering from a typed presentation, parsed back with m3u8 / mpegdash / the XSD."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import m3u8
import pytest
import xmlschema
from mpegdash.parser import MPEGDASHParser

from packager import dash, hls
from packager.model import Presentation, Rendition
from packager.segmenter import IFrame, SegmentInfo
from player_test.dash import SCHEMA


def seg(number: int, start: int, duration: int, size: int) -> SegmentInfo:
    frames = (
        IFrame(24, size // 10, start, duration // 2),
        IFrame(size // 2, size // 20, start + duration // 2, duration // 2),
    )
    return SegmentInfo(number, start, duration, size, 120, frames)


VIDEO_720 = Rendition(
    "video",
    "720p",
    "avc1.64001f",
    90_000,
    (seg(1, 0, 360_000, 1_500_000), seg(2, 360_000, 360_000, 1_400_000), seg(3, 720_000, 180_000, 600_000)),
    1280,
    720,
    Fraction(30000, 1001),
)
VIDEO_360 = Rendition(
    "video",
    "360p",
    "avc1.64001e",
    90_000,
    (seg(1, 0, 360_000, 400_000), seg(2, 360_000, 360_000, 390_000), seg(3, 720_000, 180_000, 150_000)),
    640,
    360,
    Fraction(30000, 1001),
)
AUDIO_EN = Rendition(
    "audio",
    "en",
    "mp4a.40.2",
    48_000,
    (
        SegmentInfo(1, 0, 192_512, 65_000, 188, ()),
        SegmentInfo(2, 192_512, 191_488, 64_000, 187, ()),
        SegmentInfo(3, 384_000, 97_024, 33_000, 95, ()),
    ),
    language="en",
    channels=2,
    sample_rate=48_000,
)
TITLE = Presentation((VIDEO_720, VIDEO_360), (AUDIO_EN,))


def test_media_playlist_text() -> None:
    assert hls.media_playlist(VIDEO_720) == (
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:4\n"
        '#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI="init.mp4"\n'
        "#EXTINF:4.000000,\nseg-00001.m4s\n#EXTINF:4.000000,\nseg-00002.m4s\n"
        "#EXTINF:2.000000,\nseg-00003.m4s\n#EXT-X-ENDLIST\n"
    )


@pytest.mark.parametrize(
    ("durations", "expected"),
    [
        pytest.param([Fraction(4), Fraction(2)], 4, id="whole"),
        pytest.param([Fraction(4011, 1000)], 4, id="rounds-down"),
        pytest.param([Fraction(45, 10)], 5, id="half-rounds-up"),
        pytest.param([Fraction(1, 10)], 1, id="at-least-one"),
    ],
)
def test_target_duration_rounds_to_nearest(durations: list[Fraction], expected: int) -> None:
    assert hls.target_duration(durations) == expected


def test_master_playlist_describes_every_variant_from_the_media() -> None:
    master = m3u8.loads(hls.master_playlist(TITLE))
    assert master.version == 7
    assert master.is_independent_segments
    (audio,) = master.media
    assert (audio.type, audio.group_id, audio.language, audio.uri, audio.channels) == (
        "AUDIO",
        "audio",
        "en",
        "audio/en/index.m3u8",
        "2",
    )
    variants = {p.uri: p.stream_info for p in master.playlists}
    top = variants["video/720p/index.m3u8"]
    assert top.bandwidth == VIDEO_720.peak_bitrate + AUDIO_EN.peak_bitrate
    assert top.average_bandwidth == VIDEO_720.average_bitrate + AUDIO_EN.average_bitrate
    assert top.codecs == "avc1.64001f,mp4a.40.2"
    assert top.resolution == (1280, 720)
    assert top.frame_rate == pytest.approx(29.97)
    # 360p with audio is 930,607 b/s, 720p 3,130,607: 360p is the nearer to 2 Mb/s, and first
    assert [p.uri for p in master.playlists] == ["video/360p/index.m3u8", "video/720p/index.m3u8"]
    assert [p.uri for p in master.iframe_playlists] == ["video/720p/iframes.m3u8", "video/360p/iframes.m3u8"]


def test_every_variant_says_it_has_no_closed_captions() -> None:
    text = hls.master_playlist(TITLE)
    stream_infs = [line for line in text.splitlines() if line.startswith("#EXT-X-STREAM-INF:")]
    assert len(stream_infs) == 2
    assert all("CLOSED-CAPTIONS=NONE" in line.split(":", 1)[1].split(",") for line in stream_infs)
    assert [p.stream_info.closed_captions for p in m3u8.loads(text).playlists] == ["NONE", "NONE"]


def rung(name: str, segment_bytes: int) -> Rendition:
    """A video rung of two 4 s segments of the given size: 2 x bytes x 8 / 8 s b/s."""
    segments = (seg(1, 0, 360_000, segment_bytes), seg(2, 360_000, 360_000, segment_bytes))
    return Rendition("video", name, "avc1.64001f", 90_000, segments, 16, 9, Fraction(30))


LADDER = (rung("1080p", 2_500_000), rung("720p", 1_500_000), rung("540p", 900_000), rung("360p", 400_000))


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # variants are 5, 3, 1.8 and 0.8 Mb/s: 1.8 is the nearest to 2 Mb/s
        pytest.param(2_000_000, ["540p", "1080p", "720p", "360p"], id="default-2mbps"),
        pytest.param(10_000_000, ["1080p", "720p", "540p", "360p"], id="above-the-top"),
        pytest.param(100_000, ["360p", "1080p", "720p", "540p"], id="below-the-bottom"),
        # 2.4 Mb/s is 0.6 from both 1.8 and 3: the lower one wins a tie
        pytest.param(2_400_000, ["540p", "1080p", "720p", "360p"], id="tie-goes-down"),
    ],
)
def test_the_variant_nearest_the_start_bitrate_is_listed_first(start: int, expected: list[str]) -> None:
    title = Presentation(LADDER, ())
    assert [r.id for r in hls.variant_order(title, start)] == expected
    master = m3u8.loads(hls.master_playlist(title, start))
    assert [p.uri.split("/")[1] for p in master.playlists] == expected


def test_the_first_variant_is_h264_even_where_an_av1_rung_is_nearer_the_start() -> None:
    # 720p-av1 carries 1.9 Mb/s, nearer 2 Mb/s than any H.264 rung; 540p (1.8) is H.264's nearest
    av1 = replace(rung("720p-av1", 950_000), codec="av01.0.05M.08")
    title = Presentation((*LADDER, av1), ())
    order = [r.id for r in hls.variant_order(title, 2_000_000)]
    assert order == ["540p", "1080p", "720p", "720p-av1", "360p"]


def test_peak_bitrate_is_the_highest_segment_rate() -> None:
    # segment 1 (1.5 MB in 4 s) is the peak; the short last one (0.6 MB in 2 s) is 2.4 Mb/s
    assert VIDEO_720.peak_bitrate == 3_000_000
    assert VIDEO_720.average_bitrate == 2_800_000  # 3.5 MB over 10 s


def test_iframe_playlist_lists_each_keyframe_as_a_byte_range() -> None:
    playlist = m3u8.loads(hls.iframe_playlist(VIDEO_720))
    assert playlist.is_i_frames_only
    assert [(s.uri, s.byterange, s.duration) for s in playlist.segments[:2]] == [
        ("seg-00001.m4s", "150000@24", 2.0),
        ("seg-00001.m4s", "75000@750000", 2.0),
    ]
    assert sum(s.duration for s in playlist.segments) == pytest.approx(10.0)


def test_mpd_is_valid_against_the_schema() -> None:
    schema = xmlschema.XMLSchema(str(SCHEMA), allow="local")
    assert list(schema.iter_errors(dash.render_mpd(TITLE))) == []


def test_mpd_timelines_carry_the_real_durations() -> None:
    mpd = MPEGDASHParser.parse(dash.render_mpd(TITLE))
    assert mpd.type == "static"
    assert mpd.media_presentation_duration == "PT10.000000S"
    video, audio = mpd.periods[0].adaptation_sets
    assert (video.content_type, video.segment_alignment, video.start_with_sap) == ("video", True, 1)
    reps = {r.id: r for r in video.representations}
    # §5.3.5.2 with minBufferTime PT4.010667S (the audio's longest segment): the first two
    # segments, 23.2 Mbit, must arrive by 4.010667 + 4 s: 2,896,138.3 b/s, rounded up; the first
    # alone, 12 Mbit by 4.010667 s, needs 2,992,022.
    assert mpd.min_buffer_time == "PT4.010667S"
    assert reps["720p"].bandwidth == 2_992_022
    assert reps["720p"].frame_rate == "30000/1001"
    timeline = reps["720p"].segment_templates[0].segment_timelines[0].Ss
    assert [(s.t, s.d, s.r) for s in timeline] == [(0, 360_000, 1), (None, 180_000, None)]
    assert audio.lang == "en"
    (audio_rep,) = audio.representations
    assert [(s.t, s.d) for s in audio_rep.segment_templates[0].segment_timelines[0].Ss] == [
        (0, 192_512),
        (None, 191_488),
        (None, 97_024),
    ]


def test_video_sets_carry_par_and_representations_sar() -> None:
    mpd = MPEGDASHParser.parse(dash.render_mpd(TITLE))
    video, _ = mpd.periods[0].adaptation_sets
    assert (video.max_width, video.max_height, video.max_frame_rate, video.par) == (
        1280,
        720,
        "30000/1001",
        "16:9",
    )
    assert [r.sar for r in video.representations] == ["1:1", "1:1"]


def test_a_non_square_rung_signals_its_sar_and_the_same_par() -> None:
    # 1000x562 master (500:281): its 240-line rung is 428x240 with sar 30000:30067
    odd = replace(VIDEO_360, id="240p", width=428, height=240, sar=Fraction(30000, 30067))
    wide = replace(VIDEO_720, width=960, height=540, sar=Fraction(1125, 1124))
    mpd = MPEGDASHParser.parse(dash.render_mpd(Presentation((wide, odd), (AUDIO_EN,))))
    video, _ = mpd.periods[0].adaptation_sets
    assert video.par == "500:281"
    assert {r.id: (r.width, r.height, r.sar) for r in video.representations} == {
        "240p": (428, 240, "30000:30067"),
        "720p": (960, 540, "1125:1124"),
    }
    master = m3u8.loads(hls.master_playlist(Presentation((wide, odd), (AUDIO_EN,))))
    assert {p.stream_info.resolution for p in master.playlists} == {(428, 240), (960, 540)}  # coded size


def test_a_gap_in_the_timeline_restates_t() -> None:
    gappy = Rendition(
        "video",
        "v",
        "avc1.64001f",
        1000,
        (SegmentInfo(1, 0, 4000, 1, 1, ()), SegmentInfo(2, 5000, 4000, 1, 1, ())),
    )
    assert [(s.t, s.d) for s in dash.timeline(gappy).Ss] == [(0, 4000), (5000, 4000)]


def test_each_video_codec_gets_its_own_adaptation_set_and_the_mpd_stays_valid() -> None:
    av1_720 = replace(VIDEO_720, id="720p-av1", codec="av01.0.05M.08")
    hevc_360 = replace(VIDEO_360, id="360p-hevc", codec="hvc1.1.6.L93.90")
    video = (VIDEO_720, av1_720, VIDEO_360, hevc_360)
    assert dash.video_families(video) == [(VIDEO_720, VIDEO_360), (av1_720,), (hevc_360,)]
    text = dash.render_mpd(Presentation(video, (AUDIO_EN,)))
    assert list(xmlschema.XMLSchema(str(SCHEMA), allow="local").iter_errors(text)) == []
    sets = MPEGDASHParser.parse(text).periods[0].adaptation_sets
    assert [(s.id, s.content_type) for s in sets] == [(0, "video"), (1, "video"), (2, "video"), (3, "audio")]
    assert [[r.codecs for r in s.representations] for s in sets[:3]] == [
        ["avc1.64001e", "avc1.64001f"],  # by peak bit rate: 360p first
        ["av01.0.05M.08"],
        ["hvc1.1.6.L93.90"],
    ]
