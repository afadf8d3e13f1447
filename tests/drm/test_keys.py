from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest

from drm.keys import ContentKey, keys_for, new_content_key, parse_policy, track_class
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable


def counter_bytes() -> Callable[[int], bytes]:
    counter = itertools.count()
    return lambda n: bytes(next(counter) % 256 for _ in range(n))


def test_keys_come_from_the_injected_source_and_never_show_in_repr() -> None:
    key = new_content_key("hd", counter_bytes())
    assert key.kid == bytes(range(16))
    assert key.key == bytes(range(16, 32))
    assert key.kid_hex == "000102030405060708090a0b0c0d0e0f"
    assert key.kid_uuid == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    assert key.key.hex() not in repr(key)


def test_default_keys_are_random_and_distinct() -> None:
    a, b = new_content_key(), new_content_key()
    assert len({a.kid, a.key, b.kid, b.key}) == 4


@pytest.mark.parametrize(
    ("kind", "height", "expected"),
    [("audio", 0, "audio"), ("video", 240, "sd"), ("video", 576, "sd"), ("video", 720, "hd"),
     ("video", 1080, "hd"), ("video", 2160, "uhd")],
)  # fmt: skip
def test_track_classes(kind: str, height: int, expected: str) -> None:
    assert track_class(kind, height) == expected  # type: ignore[arg-type]


def test_single_policy_shares_one_key_and_per_class_gives_each_its_own() -> None:
    classes = {"audio", "sd", "hd"}
    single = keys_for("single", classes)  # type: ignore[arg-type]
    assert len({k.kid for k in single.values()}) == 1
    per_class = keys_for("per-class", classes)  # type: ignore[arg-type]
    assert sorted(per_class) == ["audio", "hd", "sd"]
    assert len({k.kid for k in per_class.values()}) == 3
    assert per_class["hd"].track_class == "hd"


def test_bad_sizes_and_policies_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="16 bytes"):
        ContentKey(b"short", bytes(16))
    with pytest.raises(ConfigError, match="unknown key policy 'each'"):
        parse_policy("each")
    assert parse_policy("per-class") == "per-class"
