"""An encrypted title's keys (kept across versions, stored before packaging) and its version id."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from fractions import Fraction
from typing import TYPE_CHECKING

import pytest

from drm.keystore import ObjectKeyStore
from encoder.ladder import Ladder, load_ladder, with_codecs
from pipeline.job import version_id
from pipeline.protection import (
    refuse_unprotectable,
    title_aes128,
    title_encryption,
    title_keys,
    track_classes,
    version_shape,
)
from pipeline.settings import Secret, Settings
from storage.local import LocalStore
from tests.conftest import FAST_LADDER
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

KEK = bytes(range(32))


@pytest.fixture
def keys(tmp_path: Path) -> ObjectKeyStore:
    return ObjectKeyStore(LocalStore(tmp_path), KEK)


def test_track_classes_follow_the_rung_heights_and_audio() -> None:
    assert track_classes([1080, 720, 360], audio=True) == {"hd", "sd", "audio"}
    assert track_classes([2160], audio=False) == {"uhd"}


def test_one_key_for_every_class_is_stored_once_and_kept_for_the_next_version(keys: ObjectKeyStore) -> None:
    first = title_keys(keys, "film", "single", {"sd", "audio"})
    assert len({k.kid for k in first.values()}) == 1
    assert [s.key for s in keys.keys_for_title("film")] == [first["sd"]]
    again = title_keys(keys, "film", "single", {"sd", "hd", "audio"})
    assert set(again.values()) == {first["sd"]}
    assert len(keys.keys_for_title("film")) == 1


def test_per_class_keys_add_only_the_missing_class(keys: ObjectKeyStore) -> None:
    first = title_keys(keys, "film", "per-class", {"sd", "audio"})
    assert first["sd"] != first["audio"]
    more = title_keys(keys, "film", "per-class", {"sd", "hd", "audio"})
    assert (more["sd"], more["audio"]) == (first["sd"], first["audio"])
    assert sorted(s.key.track_class for s in keys.keys_for_title("film")) == ["audio", "hd", "sd"]


def test_titles_do_not_share_keys(keys: ObjectKeyStore) -> None:
    assert title_keys(keys, "one", "single", {"sd"})["sd"] != title_keys(keys, "two", "single", {"sd"})["sd"]


def test_an_encrypted_title_without_a_key_encryption_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="VODPIPE_KEY_ENCRYPTION_KEY"):
        title_encryption(Settings(), LocalStore(tmp_path), "film", "cbcs", {"sd"})
    assert title_encryption(Settings(), LocalStore(tmp_path), "film", "none", {"sd"}) is None


def test_the_encryption_names_the_license_server_and_the_stored_key(tmp_path: Path) -> None:
    settings = Settings(key_encryption_key=Secret(KEK), license_url="https://drm.example/")
    store = LocalStore(tmp_path)
    encryption = title_encryption(settings, store, "film", "cenc", {"sd", "audio"})
    assert encryption is not None
    assert (encryption.scheme, encryption.license_url) == ("cenc", "https://drm.example/license/clearkey")
    stored = ObjectKeyStore(store, KEK).keys_for_title("film")
    assert encryption.kids == [s.key.kid for s in stored]
    assert encryption.key_uri is not None
    assert (
        encryption.key_uri(stored[0].key.kid)
        == f"https://drm.example/license/aes128/{stored[0].key.kid.hex()}"
    )


def test_the_version_id_changes_with_the_encryption_and_not_for_clear_titles() -> None:
    ladder = load_ladder(FAST_LADDER)
    settings = Settings()

    def version(mode: str, s: Settings = settings) -> str:
        return version_id("ab" * 32, ladder, Fraction(4), 2_000_000, version_shape(s, mode))  # type: ignore[arg-type]

    assert version("none") == version_id("ab" * 32, ladder, Fraction(4), 2_000_000)  # clear ids unchanged
    assert len({version("none"), version("cenc"), version("cbcs")}) == 3
    other_server = dataclasses.replace(settings, license_url="https://drm.example")
    assert version("cbcs", other_server) != version("cbcs")
    assert version("none", other_server) == version("none")
    with_aes128 = dataclasses.replace(settings, hls_aes128=True)
    assert version("cbcs", with_aes128) != version("cbcs")
    assert version("none", with_aes128) == version("none")


def test_the_aes128_variant_has_its_own_key_kept_across_versions(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    settings = Settings(key_encryption_key=Secret(KEK), hls_aes128=True)
    encryption = title_encryption(settings, store, "film", "cbcs", {"sd", "audio"})
    key = title_aes128(settings, store, "film", "cbcs")
    assert encryption is not None
    assert key is not None
    assert key.track_class == "aes128"
    assert key.kid not in encryption.kids
    assert key.key not in {k.key for k in encryption.keys.values()}
    assert title_aes128(settings, store, "film", "cbcs") == key
    # title_keys still picks the cenc/cbcs key, never the AES-128 one.
    again = title_encryption(settings, store, "film", "cbcs", {"sd"})
    assert again is not None
    assert again.kids == encryption.kids
    stored = ObjectKeyStore(store, KEK).keys_for_title("film")
    assert sorted(s.key.track_class for s in stored) == ["aes128", "all"]


def test_no_aes128_key_when_clear_or_off(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    on = Settings(key_encryption_key=Secret(KEK), hls_aes128=True)
    assert title_aes128(on, store, "film", "none") is None
    assert title_aes128(Settings(key_encryption_key=Secret(KEK)), store, "film", "cbcs") is None
    assert ObjectKeyStore(store, KEK).keys_for_title("film") == []


def test_an_encrypted_title_with_av1_rungs_is_refused_and_a_clear_one_is_not() -> None:
    ladder = with_codecs(load_ladder(FAST_LADDER), ("h264", "av1", "hevc"), {"av1": 0.6, "hevc": 0.75})
    with pytest.raises(ConfigError, match=r"AV1 rungs \(720p-av1, 540p-av1, 360p-av1, 240p-av1\) cannot be"):
        refuse_unprotectable(ladder, "cbcs")
    refuse_unprotectable(ladder, "none")
    hevc = with_codecs(load_ladder(FAST_LADDER), ("h264", "hevc"), {"hevc": 0.75})
    refuse_unprotectable(hevc, "cenc")  # HEVC is encrypted over its 2-byte NAL unit headers


def test_the_version_id_of_an_h264_ladder_ignores_the_other_codecs_settings() -> None:
    ladder = load_ladder(FAST_LADDER)
    before_codecs = json.dumps(
        {"ladder": _old_shape(ladder), "segment": "4", "start_bitrate": 2_000_000}, sort_keys=True
    )
    old = "v" + hashlib.sha256(f"{'ab' * 32}:{before_codecs}".encode()).hexdigest()[:12]
    assert version_id("ab" * 32, ladder, Fraction(4), 2_000_000) == old
    assert version_id("ab" * 32, dataclasses.replace(ladder, av1_preset=4), Fraction(4), 2_000_000) == old
    with_av1 = with_codecs(ladder, ("h264", "av1"), {"av1": 0.6})
    assert version_id("ab" * 32, with_av1, Fraction(4), 2_000_000) != old
    faster = dataclasses.replace(with_av1, av1_preset=10)
    assert version_id("ab" * 32, faster, Fraction(4), 2_000_000) != version_id(
        "ab" * 32, with_av1, Fraction(4), 2_000_000
    )


def _old_shape(ladder: Ladder) -> dict[str, object]:
    """The ladder's JSON as version ids hashed it before rungs had a codec."""
    shape = dataclasses.asdict(ladder)
    del shape["av1_preset"], shape["hevc_preset"]
    for rung in shape["rungs"]:
        del rung["codec"]
    return shape
