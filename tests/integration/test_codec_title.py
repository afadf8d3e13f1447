"""A title with H.264, AV1 and HEVC rungs, through `vodpipe ingest --codecs` and `vodpipe serve`.

HEVC is checked by bytes and by the checker (Debian's Chromium cannot decode it); AV1 playback
in browsers is tests/player_test/test_browser_av1.py.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree

import m3u8
import pytest

from packager.codecs import codec_string
from packager.isobmff.box import iter_boxes
from packager.samples import iter_samples, read_header
from tests.conftest import vodpipe_env
from tests.processes import Server, fetch, run_cli

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import MakeMaster

pytestmark = pytest.mark.integration

# The fast ladder's shape at two rungs, with the fastest presets of each encoder.
LADDER = """
gop_seconds = 2.0
preset = "ultrafast"
hevc_preset = "ultrafast"
av1_preset = 10
[[rungs]]
name = "360p"
height = 360
bitrate = 800000
[[rungs]]
name = "240p"
height = 240
bitrate = 400000
"""
RUNGS = ["360p", "240p", "360p-av1", "240p-av1", "360p-hevc", "240p-hevc"]
FOURCC = {"": ("avc1", "avcC"), "av1": ("av01", "av1C"), "hevc": ("hvc1", "hvcC")}
_NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}


class Title:
    def __init__(self, base: str, env: dict[str, str]) -> None:
        self.base = base
        self.env = env

    def get(self, path: str) -> bytes:
        response = fetch(f"{self.base}/{path}")
        assert response.status == 200, path
        return response.body

    def master(self) -> m3u8.M3U8:
        return m3u8.loads(self.get("master.m3u8").decode())


@pytest.fixture(scope="module")
def title(tmp_path_factory: pytest.TempPathFactory, make_master: MakeMaster) -> Iterator[Title]:
    master = make_master("codecs-4s-360p.mp4", seconds=4, size="640x360", rate="25")
    root = tmp_path_factory.mktemp("codecs")
    ladder = root / "ladder.toml"
    ladder.write_text(LADDER)
    env = {**vodpipe_env(root), "VODPIPE_LADDER": str(ladder)}
    result = run_cli("ingest", str(master), "--title", "codecs", "--codecs", "h264,av1,hevc", env=env)
    assert result.returncode == 0, result.stderr
    found = re.search(r"^hls: \S+/media/codecs/(v\w+)/master.m3u8$", result.stdout, re.M)
    assert found, result.stdout
    server = Server(["serve", "--port", "0"], env)
    try:
        origin = re.search(r"(http://\S+)/media/", server.wait_for("origin: "))
        assert origin
        yield Title(f"{origin.group(1)}/media/codecs/{found.group(1)}", env)
    finally:
        assert server.stop() == 0


def _variants(title: Title) -> dict[str, m3u8.Playlist]:
    return {p.uri.split("/")[1]: p for p in title.master().playlists}


def test_every_codec_has_its_sample_entry_configuration_and_brands(title: Title) -> None:
    for rung in RUNGS:
        init = title.get(f"video/{rung}/init.mp4")
        fourcc, config = FOURCC[rung.partition("-")[2]]
        _, header = read_header(io.BytesIO(init))
        assert header.entry.fourcc == fourcc, rung
        assert header.entry.config_box(config), rung
        ftyp = next(iter_boxes(init))
        brands = {bytes(ftyp.payload[i : i + 4]).decode() for i in range(8, len(ftyp.payload), 4)}
        assert {"iso6", "cmfc"} <= brands
        assert ({"av01", "cav1"} <= brands) == (fourcc == "av01"), (rung, brands)


def test_hls_lists_every_rung_with_the_codecs_of_its_bytes_and_one_audio_group(title: Title) -> None:
    variants = _variants(title)
    assert sorted(variants) == sorted(RUNGS)
    (group,) = {m.group_id for m in title.master().media}
    for rung, variant in variants.items():
        _, header = read_header(io.BytesIO(title.get(f"video/{rung}/init.mp4")))
        video_codec, audio_codec = variant.stream_info.codecs.split(",")
        assert video_codec == codec_string(header.entry)
        assert audio_codec == "mp4a.40.2"
        assert variant.stream_info.audio == group
    assert re.fullmatch(r"av01\.0\.\d\dM\.08", variants["360p-av1"].stream_info.codecs.split(",")[0])
    assert re.fullmatch(r"hvc1\.1\.6\.L\d+\.90", variants["360p-hevc"].stream_info.codecs.split(",")[0])
    # a client that starts on the first variant starts on H.264
    assert title.master().playlists[0].stream_info.codecs.startswith("avc1.")


def test_dash_has_one_adaptation_set_per_codec(title: Title) -> None:
    root = ElementTree.fromstring(title.get("manifest.mpd"))
    sets = [s for s in root.findall("d:Period/d:AdaptationSet", _NS) if s.get("contentType") == "video"]
    ids = [[r.get("id") for r in s.findall("d:Representation", _NS)] for s in sets]
    codecs = [{r.get("codecs", "").split(".")[0] for r in s.findall("d:Representation", _NS)} for s in sets]
    assert ids == [["240p", "360p"], ["240p-av1", "360p-av1"], ["240p-hevc", "360p-hevc"]]
    assert codecs == [{"avc1"}, {"av01"}, {"hvc1"}]


def test_keyframes_and_segments_are_aligned_across_codecs(title: Title) -> None:
    timelines = {}
    for rung in RUNGS:
        init = title.get(f"video/{rung}/init.mp4")
        playlist = m3u8.loads(title.get(f"video/{rung}/index.m3u8").decode())
        body = b"".join(title.get(f"video/{rung}/{s.uri}") for s in playlist.segments)
        stream = io.BytesIO(init + body)
        _, header = read_header(stream)
        samples = iter_samples(stream, header)
        keyframes = [(s.decode_time + s.composition_offset) / header.timescale for s in samples if s.is_sync]
        timelines[rung] = (keyframes, [s.duration for s in playlist.segments])
    assert timelines["360p"][0] == [0.0, 2.0]
    assert all(t == timelines["360p"] for t in timelines.values()), timelines


@pytest.mark.parametrize("manifest", ["master.m3u8", "manifest.mpd"])
def test_vodpipe_check_passes(title: Title, manifest: str) -> None:
    result = run_cli("check", f"{title.base}/{manifest}", env=title.env)
    assert result.returncode == 0, result.stdout + result.stderr
    for codec in ("avc1.", "av01.", "hvc1."):
        assert codec in result.stdout


def test_an_encrypted_title_with_av1_rungs_is_refused_before_anything_is_stored(
    tmp_path: Path, make_master: MakeMaster
) -> None:
    master = make_master("codecs-4s-360p.mp4", seconds=4, size="640x360", rate="25")
    env = vodpipe_env(tmp_path)
    result = run_cli("ingest", str(master), "--encryption", "cbcs", "--codecs", "h264,av1", env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("vodpipe: error: AV1 rungs (")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists() or not any(Path(tmp_path / "data").rglob("*.*"))


def test_an_unknown_codec_is_a_usage_error(tmp_path: Path, make_master: MakeMaster) -> None:
    master = make_master("codecs-4s-360p.mp4", seconds=4, size="640x360", rate="25")
    result = run_cli("ingest", str(master), "--codecs", "h264,vp9", env=vodpipe_env(tmp_path))
    assert result.returncode == 2
    assert "--codecs: must be a comma-separated list of h264, av1, hevc" in result.stderr
