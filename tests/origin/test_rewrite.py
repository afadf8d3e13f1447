"""Manifests carrying a signature on: which URIs get the query, and the rest left byte for byte."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import m3u8
import pytest

from origin.rewrite import dash_template, hls_template
from origin.signing import sign
from vodpipe.errors import PackagingError

GRANT = sign(b"k" * 32, "/media/demo/", 1_900_000_000)
Q = GRANT.query
NARROW = sign(b"k" * 32, "/media/demo/v1/video/", 1_900_000_000)

MASTER = (
    b"#EXTM3U\n#EXT-X-VERSION:7\n"
    b'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",DEFAULT=YES,URI="audio/en/index.m3u8"\n'
    b'#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="aud"\n'
    b"video/360p/index.m3u8\n"
    b'#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="video/360p/iframes.m3u8"\n'
    b'#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="https://license.example/clearkey",KEYFORMAT="org.w3.clearkey"\n'
)
MEDIA = (
    b"#EXTM3U\r\n#EXT-X-TARGETDURATION:4\r\n"
    b'#EXT-X-KEY:METHOD=AES-128,URI="../../keys/k.bin",IV=0x01\r\n'
    b'#EXT-X-MAP:URI="init.mp4"\r\n'
    b"#EXTINF:4.0,\r\nseg-00001.m4s\r\n"
    b"#EXTINF:4.0,\r\nseg-00002.m4s?part=1#t=0\r\n"
    b"#EXTINF:4.0,\r\nhttp://other.example/seg-00003.m4s\r\n"
    b"#EXTINF:4.0,\r\n//other.example/seg-00004.m4s\r\n"
    b"#EXT-X-ENDLIST\r\n"
)


def test_master_playlist_names_signed_playlists_and_leaves_the_license_alone() -> None:
    out = hls_template(MASTER, "/media/demo/v1/master.m3u8").render(GRANT).decode()
    playlist = m3u8.loads(out)
    assert playlist.playlists[0].uri == f"video/360p/index.m3u8?{Q}"
    assert playlist.media[0].uri == f"audio/en/index.m3u8?{Q}"
    assert playlist.iframe_playlists[0].uri == f"video/360p/iframes.m3u8?{Q}"
    assert 'URI="https://license.example/clearkey"' in out
    assert out.replace(f"?{Q}", "").encode() == MASTER


def test_media_playlist_signs_map_segments_and_keys_under_the_prefix_only() -> None:
    out = hls_template(MEDIA, "/media/demo/v1/video/360p/index.m3u8").render(GRANT).decode()
    assert f'#EXT-X-MAP:URI="init.mp4?{Q}"\r\n' in out
    assert f"\r\nseg-00001.m4s?{Q}\r\n" in out
    assert f"\r\nseg-00002.m4s?part=1&{Q}#t=0\r\n" in out  # before the fragment, after a query
    assert '"../../keys/k.bin?' in out  # resolves to /media/demo/v1/keys/k.bin: ours, signed
    assert "\r\nhttp://other.example/seg-00003.m4s\r\n" in out
    assert "\r\n//other.example/seg-00004.m4s\r\n" in out
    assert out.count(Q) == 4


def test_a_narrower_grant_signs_only_what_it_covers() -> None:
    out = hls_template(MASTER, "/media/demo/v1/master.m3u8").render(NARROW).decode()
    assert f"video/360p/index.m3u8?{NARROW.query}" in out
    assert 'URI="audio/en/index.m3u8"' in out  # outside /media/demo/v1/video/: not given the query


def test_uris_that_climb_out_of_the_prefix_are_not_signed() -> None:
    playlist = b"#EXTM3U\n#EXTINF:4,\n../../../other/v1/seg.m4s\n#EXTINF:4,\n/media/other/v1/seg.m4s\n"
    out = hls_template(playlist, "/media/demo/v1/index.m3u8").render(GRANT)
    assert out == playlist


MPD = b"""<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S">
  <Period>
    <AdaptationSet contentType="video">
      <SegmentTemplate timescale="90000" media="video/$RepresentationID$/seg-$Number%05d$.m4s"
          initialization="video/$RepresentationID$/init.mp4" startNumber="1" duration="360000"/>
      <Representation id="360p" bandwidth="800000"/>
    </AdaptationSet>
    <AdaptationSet contentType="audio">
      <BaseURL>audio/en/</BaseURL>
      <Representation id="en" bandwidth="128000">
        <SegmentList duration="4">
          <Initialization sourceURL='init.mp4'/>
          <SegmentURL media="seg-00001.m4s"/>
          <SegmentURL media="http://other.example/seg-00002.m4s"/>
        </SegmentList>
      </Representation>
    </AdaptationSet>
    <AdaptationSet contentType="text">
      <Representation id="sub" bandwidth="1000">
        <BaseURL>subs/en.mp4</BaseURL>
        <SegmentBase indexRange="100-200"><Initialization range="0-99"/></SegmentBase>
      </Representation>
    </AdaptationSet>
    <AdaptationSet contentType="video">
      <BaseURL>https://cdn.example/x/</BaseURL>
      <SegmentTemplate media="seg-$Number$.m4s" initialization="init.mp4"/>
    </AdaptationSet>
  </Period>
</MPD>
"""
NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}


def test_mpd_templates_lists_and_file_base_urls_carry_the_query_escaped() -> None:
    out = dash_template(MPD, "/media/demo/v1/manifest.mpd").render(GRANT)
    root = ET.fromstring(out)  # still well-formed: the & are escaped
    ours, theirs = root.findall(".//d:SegmentTemplate", NS)
    assert ours.get("media") == f"video/$RepresentationID$/seg-$Number%05d$.m4s?{Q}"
    assert ours.get("initialization") == f"video/$RepresentationID$/init.mp4?{Q}"
    assert theirs.get("media") == "seg-$Number$.m4s"  # under another server's BaseURL
    assert theirs.get("initialization") == "init.mp4"
    init, *urls = root.findall(".//d:SegmentList/*", NS)
    assert init.get("sourceURL") == f"init.mp4?{Q}"
    assert [u.get("media") for u in urls] == [f"seg-00001.m4s?{Q}", "http://other.example/seg-00002.m4s"]
    base_urls = [b.text for b in root.iter("{urn:mpeg:dash:schema:mpd:2011}BaseURL")]
    assert base_urls == ["audio/en/", f"subs/en.mp4?{Q}", "https://cdn.example/x/"]
    assert out.replace(f"?{Q}".replace("&", "&amp;").encode(), b"") == MPD
    assert parse_qs(urlsplit(ours.get("media", "")).query)["sig"] == [GRANT.signature]


def test_a_base_url_folder_moves_what_the_prefix_is_checked_against() -> None:
    narrow = sign(b"k" * 32, "/media/demo/v1/audio/", 1_900_000_000)
    out = dash_template(MPD, "/media/demo/v1/manifest.mpd").render(narrow).decode()
    assert f"sourceURL='init.mp4?{narrow.query}'".replace("&", "&amp;") in out  # audio/en/init.mp4
    assert 'initialization="video/$RepresentationID$/init.mp4"' in out  # video/: not covered


def test_an_mpd_that_is_not_xml_is_refused() -> None:
    with pytest.raises(PackagingError, match="not well-formed XML"):
        dash_template(b"<MPD><Period></MPD>", "/media/demo/v1/manifest.mpd")


def test_a_playlist_that_is_not_utf8_still_gets_queries() -> None:
    playlist = b"#EXTM3U\n#EXTINF:4,\nseg-\xff.m4s\n"
    out = hls_template(playlist, "/media/demo/v1/index.m3u8").render(GRANT)
    assert out == playlist.replace(b".m4s", f".m4s?{Q}".encode())
