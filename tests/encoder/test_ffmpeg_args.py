from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from encoder.encode import SourceMedia, audio_outputs, output_frame_rate, plan_job
from encoder.ffmpeg_args import AudioOutput, EncodeJob, build_encode_args
from encoder.ladder import AudioSettings, PlannedRung, SourceGeometry, load_ladder

RUNGS = (
    PlannedRung("720p", 1280, 720, 3_000_000, 4_500_000, 6_000_000),
    PlannedRung("360p", 640, 360, 800_000, 1_200_000, 1_600_000),
)


def job(**changes: object) -> EncodeJob:
    base = EncodeJob(
        Path("/in/master.mov"),
        Path("/out"),
        RUNGS,
        (AudioOutput(0, "en", "en"),),
        AudioSettings(),
        Fraction(30),
    )
    return replace(base, **changes)


def video_args(name: str, bitrate: str, maxrate: str, bufsize: str) -> list[str]:
    return [
        "-f",
        "mp4",
        "-a53cc",
        "0",
        "-b:v",
        bitrate,
        "-bufsize",
        bufsize,
        "-c:v",
        "libx264",
        "-force_key_frames",
        "expr:eq(mod(n,60),0)",
        "-forced-idr",
        "1",
        "-fps_mode",
        "passthrough",
        "-maxrate",
        maxrate,
        "-movflags",
        "+frag_keyframe+empty_moov+default_base_moof+negative_cts_offsets",
        "-preset",
        "veryfast",
        "-profile:v",
        "high",
        "-video_track_timescale",
        "90000",
        "-x264-params",
        "keyint=120:min-keyint=60:scenecut=0:open-gop=0",
        f"/out/video_{name}.mp4",
    ]


TAIL = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats"]


def test_one_process_encodes_every_rung_and_the_audio() -> None:
    assert build_encode_args("ffmpeg", job()) == [
        "ffmpeg",
        "-i",
        "/in/master.mov",
        "-filter_complex",
        "[0:v:0]split=2[s0][s1];"
        "[s0]scale=1280:720:flags=bicubic[s2];[s2]setsar=1[s3];[s3]format=yuv420p[s4];"
        "[s1]scale=640:360:flags=bicubic[s5];[s5]setsar=1[s6];[s6]format=yuv420p[s7]",
        "-map",
        "[s4]",
        *video_args("720p", "3000k", "4500k", "6000k"),
        "-map",
        "[s7]",
        *video_args("360p", "800k", "1200k", "1600k"),
        "-map",
        "0:a:0",
        "-f",
        "mp4",
        "-ac",
        "2",
        "-ar",
        "48000",
        "-b:a",
        "128k",
        "-c:a",
        "aac",
        "-frag_duration",
        "2000000",
        "-movflags",
        "+frag_keyframe+empty_moov+delay_moov+default_base_moof",
        "/out/audio_en.mp4",
        *TAIL,
    ]


def test_interlaced_vfr_hdr_source_gets_deinterlace_fps_and_tonemap_before_the_split() -> None:
    args = build_encode_args(
        "ffmpeg",
        job(
            deinterlace=True,
            constant_frame_rate=False,
            tonemap=True,
            frame_rate=Fraction(30000, 1001),
            audio=(),
        ),
    )
    graph = args[args.index("-filter_complex") + 1]
    assert graph.startswith(
        "[0:v:0]bwdif=mode=send_frame[s0];[s0]fps=30000/1001[s1];[s1]zscale=npl=100:t=linear[s2];"
        "[s2]format=pix_fmts=gbrpf32le[s3];[s3]zscale=p=bt709[s4];[s4]tonemap=desat=0:tonemap=hable[s5];"
        "[s5]zscale=m=bt709:r=tv:t=bt709[s6];[s6]split=2"
    )
    assert "0:a:0" not in args
    assert "keyint=120:min-keyint=60:scenecut=0:open-gop=0" in args  # 2 s at 29.97 fps is 60 frames


def test_a_video_only_master_has_no_audio_output() -> None:
    args = build_encode_args("ffmpeg", job(audio=()))
    assert not [a for a in args if a.startswith("/out/audio")]


def test_repeated_languages_get_distinct_outputs() -> None:
    assert audio_outputs(("en", "fr", "en")) == (
        AudioOutput(0, "en", "en"),
        AudioOutput(1, "fr", "fr"),
        AudioOutput(2, "en-2", "en"),
    )


def test_vfr_sources_are_resampled_to_a_tidy_rate() -> None:
    source = SourceMedia(
        Path("m.mp4"), SourceGeometry(1280, 720), Fraction(2997, 100), 10.0, variable_frame_rate=True
    )
    assert output_frame_rate(source) == Fraction(30000, 1001)
    planned = plan_job(source, load_ladder(None), Path("/out"))
    assert not planned.constant_frame_rate
    assert planned.frame_rate == Fraction(30000, 1001)
    assert [r.name for r in planned.rungs] == ["720p", "540p", "360p", "240p"]


def test_a_capped_crf_rung_encodes_at_its_crf_under_its_maxrate() -> None:
    rung = PlannedRung("540p", 960, 540, 1_000_000, 1_500_000, 2_000_000, crf=27.5)
    args = build_encode_args("ffmpeg", job(rungs=(rung,)))
    out = args.index("/out/video_540p.mp4")
    options = args[args.index("-map", 0) : out]
    assert "-b:v" not in options
    assert options[options.index("-crf") + 1] == "27.5"
    assert options[options.index("-maxrate") + 1] == "1500k"
    assert options[options.index("-bufsize") + 1] == "2000k"
def _output_options(args: list[str], path: str) -> list[str]:
    """The options of the output written to ``path``: from its -map to the path."""
    end = args.index(path)
    start = max(i for i in range(end) if args[i] == "-map")
    return args[start + 2 : end]


def test_an_av1_rung_is_svtav1_vbr_with_a_fixed_closed_gop() -> None:
    rung = PlannedRung("360p-av1", 640, 360, 480_000, 720_000, 960_000, codec="av1")
    args = build_encode_args("ffmpeg", job(rungs=(rung,), audio=(), av1_preset=10, threads=2))
    assert _output_options(args, "/out/video_360p-av1.mp4") == [
        "-f",
        "mp4",
        "-a53cc",
        "0",
        "-b:v",
        "480k",
        "-c:v",
        "libsvtav1",
        "-force_key_frames",
        "expr:eq(mod(n,60),0)",
        "-fps_mode",
        "passthrough",
        "-movflags",
        "+frag_keyframe+empty_moov+default_base_moof+negative_cts_offsets",
        "-preset",
        "10",
        "-svtav1-params",
        "rc=1:keyint=60:irefresh-type=2:scd=0:overshoot-pct=50:lp=2",
        "-video_track_timescale",
        "90000",
    ]


def test_an_hevc_rung_is_x265_hvc1_with_vbv_caps() -> None:
    rung = PlannedRung("360p-hevc", 640, 360, 600_000, 900_000, 1_200_000, codec="hevc")
    args = build_encode_args("ffmpeg", job(rungs=(rung,), audio=()))
    assert _output_options(args, "/out/video_360p-hevc.mp4") == [
        "-f",
        "mp4",
        "-a53cc",
        "0",
        "-b:v",
        "600k",
        "-c:v",
        "libx265",
        "-force_key_frames",
        "expr:eq(mod(n,60),0)",
        "-forced-idr",
        "1",
        "-fps_mode",
        "passthrough",
        "-movflags",
        "+frag_keyframe+empty_moov+default_base_moof+negative_cts_offsets",
        "-preset",
        "veryfast",
        "-profile:v",
        "main",
        "-tag:v",
        "hvc1",
        "-video_track_timescale",
        "90000",
        "-x265-params",
        "keyint=60:min-keyint=60:scenecut=0:open-gop=0:vbv-maxrate=900:vbv-bufsize=1200:log-level=error",
    ]


def test_every_codec_forces_keyframes_on_the_same_frames() -> None:
    rungs = tuple(
        PlannedRung(f"360p-{c}", 640, 360, 800_000, 1_200_000, 1_600_000, codec=c)
        for c in ("h264", "av1", "hevc")
    )
    args = build_encode_args("ffmpeg", job(rungs=rungs, audio=(), frame_rate=Fraction(25)))
    forced = [args[i + 1] for i, a in enumerate(args) if a == "-force_key_frames"]
    assert forced == ["expr:eq(mod(n,50),0)"] * 3
    assert "keyint=50" in args[args.index("-svtav1-params") + 1].split(":")
    assert "keyint=50" in args[args.index("-x265-params") + 1].split(":")


def test_svtav1_parallelism_is_a_level_up_to_6_not_a_thread_count() -> None:
    rung = PlannedRung("360p-av1", 640, 360, 480_000, 720_000, 960_000, codec="av1")
    args = build_encode_args("ffmpeg", job(rungs=(rung,), audio=(), threads=16))
    assert args[args.index("-svtav1-params") + 1].endswith(":lp=6")
