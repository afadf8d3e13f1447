"""Encryption signalling in HLS and DASH, on the fixed presentation of test_manifests."""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING
from xml.dom import minidom

import m3u8
import pytest
import xmlschema
from mpegdash.parser import MPEGDASHParser

from drm.keys import ContentKey
from packager import dash, hls
from packager.protect import Encryption
from packager.signalling import (
    TitleProtection,
    signal_master_playlist,
    signal_media_playlist,
    signal_mpd,
)
from player_test.dash import SCHEMA, signalling
from tests.packager.test_manifests import AUDIO_EN, TITLE, VIDEO_360, VIDEO_720

if TYPE_CHECKING:
    from collections.abc import Callable

SD = ContentKey(bytes.fromhex("11" * 16), bytes.fromhex("aa" * 16), "sd")
HD = ContentKey(bytes.fromhex("22" * 16), bytes.fromhex("bb" * 16), "hd")
AUDIO = ContentKey(bytes.fromhex("33" * 16), bytes.fromhex("cc" * 16), "audio")
KIDS = {"video/720p": HD.kid, "video/360p": SD.kid, "audio/en": AUDIO.kid}
LICENSE = "https://license.example/clearkey"


def protection(scheme: str, **options: object) -> TitleProtection:
    encryption = Encryption(
        scheme,  # type: ignore[arg-type]
        {"sd": SD, "hd": HD, "audio": AUDIO},
        license_url=LICENSE,
        key_uri=lambda kid: f"https://license.example/keys/{kid.hex()}",
        **options,  # type: ignore[arg-type]
    )
    return TitleProtection(encryption, KIDS)


@pytest.mark.parametrize("scheme", ["cenc", "cbcs"])
def test_mpd_with_content_protection_is_valid_against_the_schema(scheme: str) -> None:
    text = signal_mpd(dash.render_mpd(TITLE), protection(scheme))
    assert list(xmlschema.XMLSchema(str(SCHEMA), allow="local").iter_errors(text)) == []


def test_mpd_splits_an_adaptation_set_whose_representations_have_different_keys() -> None:
    text = signal_mpd(dash.render_mpd(TITLE), protection("cbcs"))
    mpd = MPEGDASHParser.parse(text)
    sd, hd, audio = mpd.periods[0].adaptation_sets  # the split-off set follows, with the next free id
    assert [r.id for r in sd.representations] == ["360p"]
    assert [r.id for r in hd.representations] == ["720p"]
    assert (sd.id, hd.id, audio.id) == (0, 2, 1)
    said = signalling(hd)
    assert (said.schemes, said.kids) == ({"cbcs"}, {HD.kid.hex()})
    assert signalling(sd).kids == {SD.kid.hex()}
    # ClearKey, Widevine, PlayReady; never the W3C common system (dash.js rejects it).
    assert said.systems == {
        "e2719d58a985b3c9781ab030af78d30e",
        "edef8ba979d64acea3c827dcd51d21ed",
        "9a04f07998404286ab92e65be0885f95",
    }
    switching = [(p.scheme_id_uri, p.value) for p in sd.supplemental_properties]
    assert switching == [("urn:mpeg:dash:adaptation-set-switching:2016", "2")]
    assert [p.value for p in hd.supplemental_properties] == ["0"]
    assert signalling(audio).kids == {AUDIO.kid.hex()}
    assert not audio.supplemental_properties


def test_mpd_clearkey_carries_the_license_url_and_common_pssh() -> None:
    doc = minidom.parseString(signal_mpd(dash.render_mpd(TITLE), protection("cenc")))
    root = doc.documentElement
    assert root.getAttribute("xmlns:dashif") == "https://dashif.org/CPS"
    assert root.getAttribute("xmlns:cenc") == "urn:mpeg:cenc:2013"
    audio_set = next(
        a for a in root.getElementsByTagName("AdaptationSet") if a.getAttribute("contentType") == "audio"
    )
    first = next(n for n in audio_set.childNodes if n.nodeType == n.ELEMENT_NODE)
    assert (first.tagName, first.getAttribute("value")) == ("ContentProtection", "cenc")
    assert first.getAttribute("cenc:default_KID") == "33333333-3333-3333-3333-333333333333"
    clearkey = next(
        n
        for n in audio_set.getElementsByTagName("ContentProtection")
        if n.getAttribute("schemeIdUri") == "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"
    )
    assert clearkey.getElementsByTagName("dashif:Laurl")[0].firstChild.data == LICENSE
    # dash.js plays ClearKey only when the descriptor has no cenc:pssh (it derives keyids init
    # data from cenc:default_KID); the common pssh is in the init segment.
    assert clearkey.getElementsByTagName("cenc:pssh") == []


def test_mpd_descriptors_on_the_adaptation_set_when_one_key_serves_all() -> None:
    shared = TitleProtection(protection("cenc").encryption, dict.fromkeys(KIDS, SD.kid))
    mpd = MPEGDASHParser.parse(signal_mpd(dash.render_mpd(TITLE), shared))
    video = mpd.periods[0].adaptation_sets[0]
    assert signalling(video).kids == {SD.kid.hex()}
    assert all(not r.content_protections for r in video.representations)


def test_clear_title_manifests_are_unchanged() -> None:
    text = dash.render_mpd(TITLE)
    assert signal_mpd(text, None) == text
    playlist = hls.media_playlist(VIDEO_720)
    assert signal_media_playlist(playlist, VIDEO_720, None) == playlist


ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def _keys(text: str) -> list[dict[str, str]]:
    """Attribute lists of the key tags (RFC 8216 §4.2: quoted strings may hold commas)."""
    return [dict(ATTRIBUTE.findall(line.split(":", 1)[1])) for line in text.splitlines() if "-KEY:" in line]


def test_hls_cbcs_keys_for_clearkey_widevine_playready_fairplay() -> None:
    text = signal_media_playlist(
        hls.media_playlist(VIDEO_720), VIDEO_720, protection("cbcs", fairplay_uri="skd://fp.example/k")
    )
    keys = _keys(text)
    assert {k["METHOD"] for k in keys} == {"SAMPLE-AES"}
    formats = [k["KEYFORMAT"] for k in keys]
    assert formats == [
        '"org.w3.clearkey"',
        '"urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed"',
        '"com.microsoft.playready"',
        '"com.apple.streamingkeydelivery"',
    ]
    assert keys[0]["URI"] == f'"{LICENSE}"'
    assert keys[0]["KEYID"] == "0x" + HD.kid.hex()
    widevine = base64.b64decode(keys[1]["URI"].strip('"').removeprefix("data:text/plain;base64,"))
    assert widevine[4:8] == b"pssh"
    assert HD.kid in widevine
    assert keys[3]["URI"] == '"skd://fp.example/k"'
    # Key tags come before the EXT-X-MAP they apply to, and m3u8 reads them back.
    assert text.index("#EXT-X-KEY") < text.index("#EXT-X-MAP")
    parsed = m3u8.loads(text)
    assert parsed.segments[0].key is not None


def test_hls_cenc_clearkey_has_both_keyformats_by_default() -> None:
    text = signal_media_playlist(
        hls.media_playlist(VIDEO_360), VIDEO_360, protection("cenc", systems=("common",))
    )
    keys = _keys(text)
    assert [(k["METHOD"], k["KEYFORMAT"], k["URI"]) for k in keys] == [
        ("SAMPLE-AES-CTR", '"org.w3.clearkey"', f'"{LICENSE}"'),
        ("SAMPLE-AES-CTR", '"identity"', f'"https://license.example/keys/{SD.kid.hex()}"'),
    ]
    per_player = signal_media_playlist(
        hls.media_playlist(VIDEO_360),
        VIDEO_360,
        protection("cbcs", systems=("common",), hls_clearkey=("identity",)),
    )
    assert [k["KEYFORMAT"] for k in _keys(per_player)] == ['"identity"']


def test_master_playlist_has_a_session_key_per_kid_and_system() -> None:
    text = signal_master_playlist(
        hls.master_playlist(TITLE), protection("cenc", systems=("common", "widevine"))
    )
    keys = _keys(text)
    assert len(keys) == 3 * 3  # three KIDs; ClearKey twice (both keyformats) and Widevine
    assert text.index("#EXT-X-SESSION-KEY") < text.index("#EXT-X-MEDIA")
    assert {k["KEYID"] for k in keys if "KEYID" in k} == {"0x" + k.hex() for k in KIDS.values()}
    assert m3u8.loads(text).session_keys


def test_fairplay_needs_cbcs() -> None:
    with pytest.raises(ValueError, match="FairPlay needs the cbcs scheme"):
        protection("cenc", fairplay_uri="skd://x")


def test_no_key_for_a_track_class_is_a_clear_error() -> None:
    encryption = Encryption("cenc", {"audio": AUDIO})
    with pytest.raises(ValueError, match=r"no content key for sd tracks \(keys given for: audio\)"):
        encryption.key_for("video", 360)
    assert encryption.key_for("audio") == AUDIO


@pytest.mark.parametrize("scheme", ["cenc", "cbcs"])
def test_encrypted_manifests_match_their_golden_files(
    golden: Callable[[str, str], None], scheme: str
) -> None:
    """Fixed KIDs make the signalling deterministic; review diffs of tests/resources/golden/encrypted/."""
    options: dict[str, object] = {"fairplay_uri": "skd://fairplay.example/key"} if scheme == "cbcs" else {}
    title = protection(scheme, **options)
    golden(f"encrypted/{scheme}/master.m3u8", signal_master_playlist(hls.master_playlist(TITLE), title))
    golden(f"encrypted/{scheme}/manifest.mpd", signal_mpd(dash.render_mpd(TITLE), title))
    for rendition in (VIDEO_720, AUDIO_EN):
        text = signal_media_playlist(hls.media_playlist(rendition), rendition, title)
        golden(f"encrypted/{scheme}/{rendition.path}/index.m3u8", text)


def test_an_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown encryption scheme 'cens': use cenc or cbcs"):
        Encryption("cens", {"all": SD})  # type: ignore[arg-type]
