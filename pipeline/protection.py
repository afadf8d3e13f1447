"""An encrypted title's keys and the packager's ``Encryption``: the job's bridge to ``drm/``.

Keys are made per the key policy (``drm.keys``) and written to the key store, envelope-encrypted
under the key-encryption key, *before* anything is packaged: a title is never published with a
key that the license server cannot hand out. A title keeps its keys across versions (a retry or
a re-encode signals the same KIDs, so licenses that players already hold stay valid); a class the
title had no key for yet (a new rung in the ladder, a switch to ``per-class``) gets a new one.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from drm.keys import ContentKey, TrackClass, keys_for, new_content_key, parse_policy, track_class
from drm.keystore import ObjectKeyStore
from drm.license import aes128_key_uri, clearkey_url
from packager.protect import Encryption
from vodpipe.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from drm.keys import KeyPolicy
    from drm.keystore import KeyStore
    from encoder.ladder import Ladder
    from ingest.catalog import EncryptionMode
    from pipeline.settings import Settings
    from storage.base import ObjectStore


def track_classes(video_heights: Iterable[int], audio: bool) -> set[TrackClass]:
    classes = {track_class("video", h) for h in video_heights}
    return classes | {"audio"} if audio else classes


def title_keys(
    keys: KeyStore, title: str, policy: KeyPolicy, classes: set[TrackClass]
) -> dict[TrackClass, ContentKey]:
    """The title's key for every class in ``classes``: the stored ones, plus new ones stored now."""
    stored = {s.key.track_class: s.key for s in keys.keys_for_title(title)}
    if policy == "single":
        key = stored.get("all") or keys_for("single", {"all"})["all"]
        chosen = dict.fromkeys(classes, key)
    else:
        missing = {c for c in classes if c not in stored}
        chosen = {**{c: stored[c] for c in classes if c in stored}, **keys_for("per-class", missing)}
    for key in {k.kid: k for k in chosen.values()}.values():
        if stored.get(key.track_class) != key:
            keys.put(title, key)
    return chosen


def aes128_key(keys: KeyStore, title: str) -> ContentKey:
    """The key of the title's HLS AES-128 variant set: the stored one, or a new one stored now.
    A key of its own, never one of the cenc/cbcs keys (one key, one AES mode)."""
    for stored in keys.keys_for_title(title):
        if stored.key.track_class == "aes128":
            return stored.key
    key = new_content_key("aes128")
    keys.put(title, key)
    return key


def title_aes128(
    settings: Settings, store: ObjectStore, title: str, mode: EncryptionMode
) -> ContentKey | None:
    """The AES-128 variant's key when the title is encrypted and ``VODPIPE_HLS_AES128`` is on."""
    if mode == "none" or not settings.hls_aes128:
        return None
    return aes128_key(key_store(settings, store), title)


def key_store(settings: Settings, store: ObjectStore) -> ObjectKeyStore:
    kek = settings.key_encryption_key
    if kek is None:
        raise ConfigError(
            "an encrypted title needs VODPIPE_KEY_ENCRYPTION_KEY (32 bytes, hex or base64) for its "
            "key store; `vodpipe demo --encrypt` makes a local one"
        )
    return ObjectKeyStore(store, kek.reveal())


def title_encryption(
    settings: Settings,
    store: ObjectStore,
    title: str,
    mode: EncryptionMode,
    classes: set[TrackClass],
) -> Encryption | None:
    """The packager's ``Encryption`` for ``title`` (``None`` when clear), its keys stored first."""
    if mode == "none":
        return None
    keys = title_keys(key_store(settings, store), title, parse_policy(settings.key_policy), classes)
    base = settings.license_base_url()
    return Encryption(
        scheme=mode,
        keys=keys,
        license_url=clearkey_url(base),
        key_uri=functools.partial(aes128_key_uri, base),
    )


def version_shape(settings: Settings, mode: EncryptionMode) -> dict[str, str]:
    """What of the encryption shapes the published bytes, for the version id (empty when clear,
    so clear titles keep the version ids they had)."""
    if mode == "none":
        return {}
    shape = {"encryption": mode, "key_policy": settings.key_policy, "license": settings.license_base_url()}
    return shape | {"hls_aes128": "1"} if settings.hls_aes128 else shape


def refuse_unprotectable(ladder: Ladder, mode: EncryptionMode) -> None:
    """Refuse an encrypted title with AV1 rungs, before anything is stored or encoded.

    Common Encryption of AV1 keeps each OBU header, the frame and tile-group headers clear and
    encrypts each tile on its own, block-aligned (AV1-ISOBMFF §7); finding the tiles needs the
    frame header parsed against the sequence header, which the packager does not do (yet).
    HEVC is encrypted like AVC, over its 2-byte NAL unit headers (``packager.subsamples``).
    """
    av1 = [r.name for r in ladder.rungs if r.codec == "av1"]
    if mode != "none" and av1:
        raise ConfigError(
            f"AV1 rungs ({', '.join(av1)}) cannot be encrypted yet: publish the title clear, or "
            "leave av1 out of VODPIPE_VIDEO_CODECS (and the ladder file) for encrypted titles"
        )
