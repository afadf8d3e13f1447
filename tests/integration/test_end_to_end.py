"""A 10-second master with audio, through ingest, encode, package, publish and the origin.

Everything is fetched over HTTP from a running ``vodpipe serve``; the media is read back with
PyAV and with a box walk of its own, independent of the packager's code.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import m3u8
import pytest
import xmlschema
from mpegdash.parser import MPEGDASHParser

from player_test.dash import SCHEMA as DASH_SCHEMA
from player_test.media import Decoded, SegmentTiming, decode, read_init, read_segment
from tests.conftest import FAST_LADDER
from tests.processes import Server, count_frames, fetch, run_cli

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration
MS = Fraction(1, 1000)


@dataclass
class Rendition:
    uri: str  # media playlist URL
    init: bytes
    segments: list[bytes]
    extinf: list[Fraction]
    timings: list[SegmentTiming]
    timescale: int
    decoded: Decoded

    @property
    def media_durations(self) -> list[Fraction]:
        return [Fraction(t.duration, self.timescale) for t in self.timings]

    @property
    def peak_bitrate(self) -> Fraction:
        return max(len(s) * 8 / d for s, d in zip(self.segments, self.media_durations, strict=True))


@dataclass
class Published:
    base: str  # .../media/{title}/{version}
    master: Path
    data_dir: Path
    ingest_stdout: str


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, master_10s: Path) -> Iterator[Published]:
    root = tmp_path_factory.mktemp("e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VODPIPE_")}
    env.update(
        {
            "VODPIPE_DATA_DIR": str(root / "data"),
            "VODPIPE_LADDER": str(FAST_LADDER),
            "VODPIPE_SCRATCH_DIR": str(root),
        }
    )
    result = run_cli("ingest", str(master_10s), "--title", "e2e", env=env)
    assert result.returncode == 0, result.stderr
    assert "encode e2e 100.0%" in result.stderr  # progress was shown
    hls_url = re.search(r"^hls: (\S+)$", result.stdout, re.M)
    assert hls_url
    version = hls_url.group(1).split("/")[-2]
    server = Server(["serve", "--port", "0"], env)
    try:
        origin = re.search(r"(http://\S+)/media/", server.wait_for("origin: "))
        assert origin
        yield Published(f"{origin.group(1)}/media/e2e/{version}", master_10s, root / "data", result.stdout)
    finally:
        assert server.stop() == 0


def load_rendition(playlist_url: str) -> Rendition:
    response = fetch(playlist_url)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    playlist = m3u8.loads(response.body.decode(), uri=playlist_url)
    assert playlist.version == 7
    assert playlist.is_independent_segments
    assert playlist.is_endlist
    assert playlist.playlist_type == "vod"
    base = playlist_url.rsplit("/", 1)[0]
    init_response = fetch(f"{base}/{playlist.segment_map[0].uri}")
    assert init_response.status == 200
    init = init_response.body
    segments = []
    for segment in playlist.segments:
        got = fetch(f"{base}/{segment.uri}")
        assert got.status == 200
        assert got.headers["Content-Type"] == "video/iso.segment"
        assert got.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        segments.append(got.body)
    info = read_init(init)
    ts = info.timescale
    timings = [read_segment(s, info) for s in segments]
    extinf = [Fraction(str(s.duration)) for s in playlist.segments]
    assert playlist.target_duration == max(round(d) for d in extinf)
    return Rendition(playlist_url, init, segments, extinf, timings, ts, decode(init, segments))


@pytest.fixture(scope="module")
def hls(published: Published) -> tuple[m3u8.M3U8, dict[str, Rendition], Rendition]:
    response = fetch(f"{published.base}/master.m3u8")
    assert response.status == 200
    master = m3u8.loads(response.body.decode(), uri=f"{published.base}/master.m3u8")
    video = {p.uri: load_rendition(f"{published.base}/{p.uri}") for p in master.playlists}
    (audio_media,) = master.media
    audio = load_rendition(f"{published.base}/{audio_media.uri}")
    return master, video, audio


def test_ladder_never_upscales_the_540p_master(
    hls: tuple[m3u8.M3U8, dict[str, Rendition], Rendition],
) -> None:
    master, _, _ = hls
    assert sorted(p.stream_info.resolution for p in master.playlists) == [(426, 240), (640, 360), (960, 540)]


def test_every_rung_decodes_to_the_masters_frame_count(
    published: Published, hls: tuple[m3u8.M3U8, dict[str, Rendition], Rendition]
) -> None:
    _, video, _ = hls
    expected = count_frames(str(published.master))
    assert expected == 300
    assert {uri: r.decoded.frames for uri, r in video.items()} == dict.fromkeys(video, expected)


def test_segment_boundaries_are_identical_across_rungs(
    hls: tuple[m3u8.M3U8, dict[str, Rendition], Rendition],
) -> None:
    _, video, _ = hls
    boundaries = {
        uri: [(Fraction(t.start, r.timescale), d) for t, d in zip(r.timings, r.media_durations, strict=True)]
        for uri, r in video.items()
    }
    reference = next(iter(boundaries.values()))
    assert [start for start, _ in reference] == [0, 4, 8]
    assert all(b == reference for b in boundaries.values())


def test_every_segment_starts_with_a_keyframe(hls: tuple[m3u8.M3U8, dict[str, Rendition], Rendition]) -> None:
    _, video, _ = hls
    for rendition in video.values():
        for segment in rendition.segments:
            decoded = decode(rendition.init, [segment])
            assert decoded.frames == 120 or segment is rendition.segments[-1]  # each one decodes alone


def test_extinf_matches_the_media_within_a_millisecond(
    hls: tuple[m3u8.M3U8, dict[str, Rendition], Rendition],
) -> None:
    _, video, audio = hls
    for rendition in [*video.values(), audio]:
        for declared, actual in zip(rendition.extinf, rendition.media_durations, strict=True):
            assert abs(declared - actual) < MS, rendition.uri


def test_audio_and_video_durations_agree(hls: tuple[m3u8.M3U8, dict[str, Rendition], Rendition]) -> None:
    _, video, audio = hls
    video_duration = sum(next(iter(video.values())).media_durations)
    assert video_duration == 10
    assert abs(sum(audio.media_durations) - video_duration) < Fraction(1, 10)
    assert abs(audio.decoded.seconds - 10) < Fraction(1, 10)
    assert read_init(audio.init).codec == "mp4a.40.2"


def test_codecs_resolution_and_bandwidth_match_the_media(
    hls: tuple[m3u8.M3U8, dict[str, Rendition], Rendition],
) -> None:
    master, video, audio = hls
    for playlist in master.playlists:
        rendition = video[playlist.uri]
        info = playlist.stream_info
        assert info.codecs == f"{read_init(rendition.init).codec},mp4a.40.2"
        assert info.resolution == (rendition.decoded.width, rendition.decoded.height)
        assert info.frame_rate == 30
        peak = rendition.peak_bitrate + audio.peak_bitrate
        assert peak <= info.bandwidth <= peak + 2  # the measured peak, rounded up
        average = sum(len(s) for s in rendition.segments) * 8 / sum(rendition.media_durations)
        average += sum(len(s) for s in audio.segments) * 8 / sum(audio.media_durations)
        assert average <= info.average_bandwidth <= average + 2
        assert info.average_bandwidth < info.bandwidth
        assert playlist.media[0].group_id == info.audio


def test_iframe_playlists_point_at_keyframes(
    published: Published, hls: tuple[m3u8.M3U8, dict[str, Rendition], Rendition]
) -> None:
    master, video, _ = hls
    for iframe in master.iframe_playlists:
        rendition = video[iframe.uri.replace("iframes.m3u8", "index.m3u8")]
        playlist = m3u8.loads(fetch(f"{published.base}/{iframe.uri}").body.decode())
        assert playlist.is_i_frames_only
        assert len(playlist.segments) == 5  # one keyframe every 2 s
        for entry in playlist.segments:
            length, offset = (int(x) for x in entry.byterange.split("@"))
            segment = rendition.segments[int(entry.uri[4:9]) - 1]
            ranged = fetch(
                f"{published.base}/{iframe.uri.rsplit('/', 1)[0]}/{entry.uri}",
                {"Range": f"bytes={offset}-{offset + length - 1}"},
            )
            assert ranged.status == 206
            assert ranged.body == segment[offset : offset + length]
            assert ranged.body[4:8] == b"moof"


def test_dash_manifest_is_valid_and_matches_the_media(
    published: Published, hls: tuple[m3u8.M3U8, dict[str, Rendition], Rendition]
) -> None:
    _, video, audio = hls
    response = fetch(f"{published.base}/manifest.mpd")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/dash+xml"
    text = response.body.decode()
    assert list(xmlschema.XMLSchema(str(DASH_SCHEMA), allow="local").iter_errors(text)) == []
    mpd = MPEGDASHParser.parse(text)
    assert mpd.type == "static"
    video_set, audio_set = mpd.periods[0].adaptation_sets
    assert (video_set.segment_alignment, video_set.start_with_sap) == (True, 1)
    assert audio_set.lang == "en"
    by_uri = {**{uri.split("/")[-2]: r for uri, r in video.items()}, "audio-en": audio}
    for aset in (video_set, audio_set):
        for rep in aset.representations:
            rendition = by_uri[rep.id]
            template = rep.segment_templates[0]
            durations: list[Fraction] = []
            for s in template.segment_timelines[0].Ss:
                durations += [Fraction(s.d, template.timescale)] * ((s.r or 0) + 1)
            assert len(durations) == len(rendition.segments)
            assert all(abs(a - b) < MS for a, b in zip(durations, rendition.media_durations, strict=True))
            assert rep.bandwidth >= rendition.peak_bitrate
            first_media = template.media.replace("$Number%05d$", "00001")
            assert fetch(f"{published.base}/{first_media}").body == rendition.segments[0]
            assert fetch(f"{published.base}/{template.initialization}").body == rendition.init
            if aset is video_set:
                assert rep.codecs == read_init(rendition.init).codec
                assert (rep.width, rep.height) == (rendition.decoded.width, rendition.decoded.height)


def test_manifests_are_cached_briefly_and_segments_forever(published: Published) -> None:
    manifest = fetch(f"{published.base}/master.m3u8")
    assert manifest.headers["Cache-Control"].startswith("public, max-age=10, stale-while-revalidate=")
    assert manifest.headers["CDN-Cache-Control"].startswith("public, max-age=60")
    assert manifest.headers["Access-Control-Allow-Origin"] == "*"
    again = fetch(f"{published.base}/master.m3u8", {"If-None-Match": manifest.headers["ETag"]})
    assert again.status == 304


def test_the_title_record_says_published(published: Published) -> None:
    record = json.loads((published.data_dir / "catalog/titles/e2e.json").read_text())
    assert record["status"] == "published"
    assert record["probe"]["video"]["frame_count"] == 300
    assert record["probe"]["audio"][0]["language"] == "en"
    assert [r["id"] for r in record["renditions"]] == ["540p", "360p", "240p", "en"]
    masters = list((published.data_dir / "masters/e2e").iterdir())
    assert [m.name for m in masters] == [f"{record['master_sha256']}.mp4"]


def test_published_files_are_world_readable_and_private_ones_are_not(published: Published) -> None:
    """An nginx or a CDN origin-pull running as another user reads media/; masters stay private."""
    data = published.data_dir
    published_paths = list((data / "media").rglob("*"))
    assert any(p.name == "master.m3u8" for p in published_paths)
    for path in published_paths:
        assert stat.S_IMODE(path.stat().st_mode) == (0o755 if path.is_dir() else 0o644), path
    for private in ("masters", "catalog"):
        for path in [data / private, *(data / private).rglob("*")]:
            assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
