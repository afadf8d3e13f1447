"""A/V sync: a master whose sound starts at a known time plays it at that time, HLS and DASH.

Each master's audio is silence, then a loud tone from a known instant (0 ms, and 500 ms in a
second master). It goes through ``vodpipe ingest``; the published audio (its init segment and
media segments, as a player fetches them from the HLS playlist and from the DASH template) is
decoded by FFmpeg, which applies the init segment's edit list as players do, and the first
non-silent sample is found. Before the edit list, the packaged sound came 1024 samples late.
"""

from __future__ import annotations

import array
import re
import struct
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import m3u8
import pytest
from mpegdash.parser import MPEGDASHParser

from player_test.media import find
from tests.conftest import vodpipe_env
from tests.processes import run_cli

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

RATE = 48_000
AAC_FRAME = Fraction(1024, RATE)
MS = Fraction(1, 1000)
LOUD = 3277  # a tenth of full scale: the tone (0.8) passes it within 3 samples, coding noise does not
LADDER = '[[rungs]]\nname = "180p"\nheight = 180\nbitrate = 300000\n'


def sound_start(ffmpeg_exe: str, media: Path) -> Fraction:
    """Presentation time of the first loud sample, decoded by FFmpeg from presentation time 0.

    ``-copyts`` keeps the file's own timestamps, and ``aresample`` pads from 0, so a late start
    shows as leading silence instead of being shifted away.
    """
    pcm = subprocess.run(
        [
            *(ffmpeg_exe, "-loglevel", "error", "-copyts", "-i", str(media), "-map", "0:a:0"),
            *("-af", "aresample=async=1:first_pts=0", "-ac", "1", "-ar", str(RATE), "-f", "s16le", "-"),
        ],
        check=True,
        capture_output=True,
    ).stdout
    samples = array.array("h", pcm)
    first = next(i for i, value in enumerate(samples) if abs(value) >= LOUD)
    return Fraction(first, RATE)


def first_presented(media: Path) -> Fraction:
    """Earliest presentation time of the first fragment, as ISO/IEC 14496-12 and browsers have it.

    tfdt plus each sample's signed composition offset (trun v1, §8.8.8), less any edit list's
    media_time. FFmpeg's demuxer is not used here: it delays video whose composition offsets are
    negative by the largest of them (its ``dts_shift``), which no browser does.
    """
    data = media.read_bytes()
    timescale = _u32(data, _payload(data, ["moov", "trak", "mdia", "mdhd"]) + 12)
    elst = find(data, ["moov", "trak", "edts", "elst"])
    media_time = _u32(data, elst[0][0] + 12) if elst else 0  # version 0, first entry
    decode = int.from_bytes(data[_payload(data, ["moof", "traf", "tfdt"]) + 4 :][:8], "big")
    trun = _payload(data, ["moof", "traf", "trun"])
    flags, count = _u32(data, trun) & 0xFFFFFF, _u32(data, trun + 4)
    assert flags & 0x100  # every sample's duration is given: what vodpipe writes
    pos = trun + 8 + 4 * bin(flags & 0x5).count("1")  # data_offset, first_sample_flags
    fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
    earliest = None
    for _ in range(count):
        values = {}
        for bit in fields:  # composition offsets are signed in version 1
            (values[bit],) = struct.unpack_from(">i" if bit == 0x800 else ">I", data, pos)
            pos += 4
        present = decode + values.get(0x800, 0)
        earliest = present if earliest is None else min(earliest, present)
        decode += values[0x100]
    assert earliest is not None
    return Fraction(earliest - media_time, timescale)


def _payload(data: bytes, path: list[str]) -> int:
    return find(data, path)[0][0]


def _u32(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from(">I", data, pos)[0]
    return value


@dataclass(frozen=True)
class Title:
    nominal: Fraction  # where the tone was generated to start
    master_sound: Fraction  # first loud sample of the master, decoded the same way
    folder: Path  # the published version folder: media/{title}/{version}


def publish(tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str, tone_ms: int, stream_ms: int) -> Title:
    """A 6 s master whose tone starts ``tone_ms`` into an audio stream that starts ``stream_ms``
    after the video (FFmpeg then writes an empty edit, which the packager turns into tfdt)."""
    root = tmp_path_factory.mktemp(f"sync-{tone_ms}-{stream_ms}")
    master = root / "master.mp4"
    seconds = 6 - stream_ms / 1000
    tone = f"aevalsrc=0.8*sin(2*PI*440*t)*gte(t\\,{tone_ms / 1000}):s={RATE}:d={seconds}"
    video = ("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:d=6")
    audio = ("-itsoffset", str(stream_ms / 1000), "-f", "lavfi", "-i", tone)
    subprocess.run(
        [
            *(ffmpeg_exe, "-loglevel", "error", "-y", *video, *audio),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"),
            *("-c:a", "aac", "-ac", "2", "-b:a", "128k", "-movflags", "+faststart", str(master)),
        ],
        check=True,
    )
    ladder = root / "ladder.toml"
    ladder.write_text(LADDER)
    env = {**vodpipe_env(root), "VODPIPE_LADDER": str(ladder)}
    result = run_cli("ingest", str(master), "--title", "sync", env=env)
    assert result.returncode == 0, result.stderr
    found = re.search(r"/media/sync/(v\w+)/master\.m3u8", result.stdout)
    assert found
    nominal = Fraction(tone_ms + stream_ms, 1000)
    return Title(nominal, sound_start(ffmpeg_exe, master), root / "data/media/sync" / found.group(1))


@pytest.fixture(
    scope="module",
    params=[(0, 0), (500, 0), (0, 100)],
    ids=["sound-at-0ms", "sound-at-500ms", "audio-stream-starts-at-100ms"],
)
def title(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str) -> Title:
    return publish(tmp_path_factory, ffmpeg_exe, *request.param)


def hls_rendition(folder: Path, playlist: str, out: Path) -> tuple[Path, Fraction]:
    """The init and media segments a playlist names, joined into one file; and its EXTINF sum."""
    media = m3u8.load(str(folder / playlist))
    base = (folder / playlist).parent
    parts = [base / media.segment_map[0].uri] + [base / s.uri for s in media.segments]
    out.write_bytes(b"".join(p.read_bytes() for p in parts))
    return out, sum((Fraction(str(s.duration)) for s in media.segments), Fraction(0))


def dash_rendition(folder: Path, content_type: str, out: Path) -> tuple[Path, Fraction, int]:
    """Init and media segments from the MPD's template and timeline; the timeline's span and first t."""
    mpd = MPEGDASHParser.parse((folder / "manifest.mpd").read_text())
    aset = next(a for a in mpd.periods[0].adaptation_sets if a.content_type == content_type)
    template = aset.representations[-1].segment_templates[0]
    ticks: list[int] = []
    for s in template.segment_timelines[0].Ss:
        ticks += [s.d] * ((s.r or 0) + 1)
    first_t = template.segment_timelines[0].Ss[0].t
    names = [template.initialization] + [
        template.media.replace("$Number%05d$", f"{n:05d}") for n in range(1, len(ticks) + 1)
    ]
    out.write_bytes(b"".join((folder / name).read_bytes() for name in names))
    return out, Fraction(sum(ticks), template.timescale), first_t


def test_hls_audio_starts_when_the_masters_does(title: Title, ffmpeg_exe: str, tmp_path: Path) -> None:
    master = m3u8.load(str(title.folder / "master.m3u8"))
    audio, audio_span = hls_rendition(title.folder, master.media[0].uri, tmp_path / "audio.mp4")
    video, video_span = hls_rendition(title.folder, master.playlists[0].uri, tmp_path / "video.mp4")
    assert first_presented(video) == 0
    offset = sound_start(ffmpeg_exe, audio) - title.master_sound
    assert abs(offset) <= MS, f"sound moved by {float(offset) * 1000:.2f} ms"  # was +21.33 ms
    assert video_span == 6
    # audio ends with the video, within one AAC frame (it was 1024 samples longer, and late)
    assert abs(max(Fraction(0), first_presented(audio)) + audio_span - video_span) <= AAC_FRAME


def test_dash_audio_starts_when_the_masters_does(title: Title, ffmpeg_exe: str, tmp_path: Path) -> None:
    audio, audio_span, audio_t = dash_rendition(title.folder, "audio", tmp_path / "audio.mp4")
    video, video_span, video_t = dash_rendition(title.folder, "video", tmp_path / "video.mp4")
    assert video_t == 0
    assert first_presented(video) == 0
    # S@t is the presentation time of what is presented: primed samples before 0 are not
    assert Fraction(audio_t, RATE) == max(Fraction(0), first_presented(audio))
    offset = sound_start(ffmpeg_exe, audio) - title.master_sound
    assert abs(offset) <= MS, f"sound moved by {float(offset) * 1000:.2f} ms"
    assert video_span == 6
    assert abs(Fraction(audio_t, RATE) + audio_span - video_span) <= AAC_FRAME  # was 961024/960000 on 20 s


def test_the_master_itself_starts_its_sound_on_time(title: Title) -> None:
    # the reference the packaged title is held to: the tone's nominal start, within 1 ms
    assert abs(title.master_sound - title.nominal) <= MS
