"""Encrypting a CMAF track (ISO/IEC 23001-7, ISO/IEC 23000-19 §8): the init segment's protected
sample entry and pssh boxes, and each fragment's encrypted samples with their senc/saiz/saio.

Which key a track gets comes from its track class (``drm.keys.track_class``); the keys, the
license URLs and the IV source are passed in, so callers (the pipeline, the key store) decide.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from drm.keys import ContentKey, RandomBytes, TrackClass, track_class
from drm.systems import KeySystem, pssh_box
from packager.cenc import (
    BLOCK,
    CENC_IV_SIZE,
    NO_PATTERN,
    SCHEMES,
    VIDEO_PATTERN,
    SampleCipher,
    Scheme,
    Subsample,
    counter_ivs,
)
from packager.isobmff.box import iter_boxes
from packager.isobmff.protection import (
    OriginalFormat,
    ProtectionSchemeInfo,
    SchemeType,
    TrackEncryption,
)
from packager.isobmff.sample_aux import (
    SENC_HEADER,
    AuxInfoOffsets,
    AuxInfoSizes,
    SampleEncryption,
    SampleEncryptionBox,
)
from packager.subsamples import avc_length_size, hevc_length_size, nal_subsamples
from vodpipe.errors import ConfigError, PackagingError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from packager.isobmff.movie import TrackHeader
    from packager.samples import Sample

# Sample entries whose samples are length-prefixed NAL units, and their configuration box.
_NAL_CONFIG = {"avc1": "avcC", "avc3": "avcC", "hvc1": "hvcC", "hev1": "hvcC"}
_AUDIO_ENTRIES = ("mp4a", "ac-3", "ec-3", "Opus")
DEFAULT_SYSTEMS: tuple[KeySystem, ...] = ("common", "widevine", "playready")


@dataclass(frozen=True)
class Encryption:
    """How a title is encrypted, and where players get its keys.

    ``keys`` maps each track class to its key (``drm.keys.keys_for`` makes such a map).
    ``license_url`` is the ClearKey license server (DASH ``dashif:Laurl``, HLS
    ``KEYFORMAT="org.w3.clearkey"``, e.g. ``drm.license.clearkey_url(base)``); ``key_uri`` gives
    a KID's HLS ``identity`` key URI, which returns the raw key (e.g.
    ``functools.partial(drm.license.aes128_key_uri, base)``); ``fairplay_uri`` the ``skd://`` URI of the
    FairPlay key server. ``hls_clearkey`` chooses the HLS ClearKey KEYFORMATs (see hls_keys).
    """

    scheme: Scheme
    keys: Mapping[TrackClass, ContentKey]
    systems: tuple[KeySystem, ...] = DEFAULT_SYSTEMS
    license_url: str | None = None
    key_uri: Callable[[bytes], str] | None = field(default=None, repr=False)
    fairplay_uri: str | None = None
    hls_clearkey: tuple[str, ...] | None = None
    random_bytes: RandomBytes = field(default=secrets.token_bytes, repr=False)

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ConfigError(f"unknown encryption scheme {self.scheme!r}: use cenc or cbcs")
        if self.fairplay_uri is not None and self.scheme != "cbcs":
            raise ConfigError("FairPlay needs the cbcs scheme: drop the skd:// URI or encrypt with cbcs")
        if not self.keys:
            raise ConfigError("encryption needs at least one content key")

    def key_for(self, kind: Literal["video", "audio"], height: int = 0) -> ContentKey:
        cls = track_class(kind, height)
        key = self.keys.get(cls) or self.keys.get("all")
        if key is None:
            have = ", ".join(sorted(self.keys)) or "none"
            raise ConfigError(f"no content key for {cls} tracks (keys given for: {have})")
        return key

    @property
    def kids(self) -> list[bytes]:
        return sorted({k.kid for k in self.keys.values()})

    def pssh_boxes(self) -> bytes:
        """One pssh per configured system, each naming every KID of the title (§8.1)."""
        return b"".join(pssh_box(system, self.kids, self.scheme) for system in self.systems)


@dataclass(frozen=True)
class ProtectedRun:
    """A fragment's encrypted sample data (the mdat's payload), and its senc/saiz/saio for the traf."""

    payload: bytearray
    entries: list[SampleEncryption]

    def boxes(self, at: int) -> bytes:
        """saiz, saio and senc, for a traf in which they start ``at`` bytes after the moof's start.

        saio points at senc's first entry, relative to the moof (default-base-is-moof, §8.7.9).
        """
        saiz = AuxInfoSizes.of([e.aux_size() for e in self.entries]).to_bytes()
        saio_size = len(AuxInfoOffsets((0,)).to_bytes())
        saio = AuxInfoOffsets((at + len(saiz) + saio_size + SENC_HEADER,)).to_bytes()
        return saiz + saio + SampleEncryptionBox(tuple(self.entries)).to_bytes()


class TrackProtector:
    """Encrypts one track's samples, fragment after fragment, and describes it for the init segment."""

    def __init__(self, encryption: Encryption, header: TrackHeader, height: int = 0) -> None:
        entry = header.entry
        self.scheme = encryption.scheme
        self.original_format = entry.fourcc
        self.key = encryption.key_for("video" if header.handler == "vide" else "audio", height)
        self.length_size: int | None = None
        self.hevc = False
        config = _NAL_CONFIG.get(entry.fourcc)
        if config is not None:
            record = entry.config_box(config)
            if record is None:
                raise PackagingError(f"{entry.fourcc} sample entry has no {config}")
            self.hevc = config == "hvcC"
            self.length_size = hevc_length_size(record) if self.hevc else avc_length_size(record)
        elif entry.fourcc not in _AUDIO_ENTRIES:
            raise PackagingError(f"cannot encrypt '{entry.fourcc}' samples: only AVC, HEVC and audio")
        # §10.4.1: cbcs video uses the 1:9 pattern; audio is encrypted whole (Shaka Packager: 0:0).
        self.pattern = VIDEO_PATTERN if self.scheme == "cbcs" and config else NO_PATTERN
        self._cipher = SampleCipher(self.key.key, self.scheme, self.pattern)
        if self.scheme == "cbcs":
            self.constant_iv = encryption.random_bytes(BLOCK)
            self._ivs: Callable[[], bytes] = lambda: self.constant_iv
        else:
            self.constant_iv = b""
            self._ivs = counter_ivs(encryption.random_bytes(CENC_IV_SIZE))

    @property
    def sample_entry_type(self) -> str:
        return "encv" if self.length_size is not None else "enca"

    def sinf(self) -> ProtectionSchemeInfo:
        if self.scheme == "cbcs":
            crypt, skip = self.pattern
            tenc = TrackEncryption(self.key.kid, 1, 0, crypt, skip, self.constant_iv, version=1)
        else:
            tenc = TrackEncryption(self.key.kid, 1, CENC_IV_SIZE)
        return ProtectionSchemeInfo(OriginalFormat(self.original_format), SchemeType(self.scheme), tenc)

    def subsamples(self, data: bytes) -> list[Subsample] | None:
        if self.length_size is None:
            return None
        return nal_subsamples(data, self.length_size, self.scheme, hevc=self.hevc)

    def protect(self, samples: Sequence[Sample]) -> ProtectedRun:
        """The fragment's samples encrypted, one after another as the mdat holds them."""
        payload = bytearray(sum(len(s.data) for s in samples))
        view = memoryview(payload)
        entries: list[SampleEncryption] = []
        cbcs = self.scheme == "cbcs"
        pos = 0
        for sample in samples:
            iv = self._ivs()
            data = sample.data
            subsamples = self.subsamples(data)
            self._cipher.transform_into(iv, data, subsamples, view[pos : pos + len(data)])
            pos += len(data)
            # Under cbcs the IV is the constant one in tenc, and senc carries none (§10.4.1).
            entries.append(SampleEncryption(b"" if cbcs else iv, tuple(subsamples) if subsamples else None))
        return ProtectedRun(payload, entries)


_SIZE = struct.Struct(">I")
_STSD_CHILDREN = 8  # version/flags and entry_count (§8.5.2)


def protect_moov(moov: bytes, protector: TrackProtector, pssh: bytes) -> bytes:
    """The moov with its sample entry renamed encv/enca, a sinf appended to it, and pssh boxes
    at the end (§8.12: the sinf is the last child of the protected sample entry)."""
    sinf = protector.sinf().to_bytes()
    ancestors: list[int] = [0]  # offsets of moov, trak, mdia, minf, stbl, stsd
    start = 8
    end = len(moov)
    for fourcc in ("trak", "mdia", "minf", "stbl", "stsd"):
        found = next((b for b in iter_boxes(moov, start, end) if b.type == fourcc), None)
        if found is None:
            raise PackagingError(f"moov has no {fourcc} on the way to its sample entry")
        ancestors.append(found.offset)
        start, end = found.offset + 8, found.offset + found.size
    entry = next(iter_boxes(moov, start + _STSD_CHILDREN, end), None)
    if entry is None:
        raise PackagingError("stsd has no sample entry")
    out = bytearray(moov[: entry.offset + entry.size] + sinf + moov[entry.offset + entry.size :])
    for offset in (*ancestors, entry.offset):
        (size,) = _SIZE.unpack_from(out, offset)
        if size < 8:
            raise PackagingError(f"box at {offset} uses a size form that cannot grow in place")
        _SIZE.pack_into(out, offset, size + len(sinf))
    out[entry.offset + 4 : entry.offset + 8] = protector.sample_entry_type.encode("latin-1")
    _SIZE.pack_into(out, 0, len(out) + len(pssh))
    return bytes(out) + pssh
