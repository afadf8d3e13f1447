"""Decrypting a common-encryption fragmented MP4 in place (ISO/IEC 23001-7), whoever wrote it.

The output has the same layout byte for byte except that protected sample data is clear, the
sample entry takes back its original format (from frma) and the sinf and senc boxes become
``free`` boxes of the same size, so every offset in the file stays right and any MP4 reader
decodes it. One track per file, its key found by the tenc default_KID.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packager.cenc import BLOCK, decrypt_sample
from packager.isobmff.box import Box, iter_boxes
from packager.isobmff.fragment import (
    TFHD_BASE_DATA_OFFSET,
    TrackFragmentHeader,
    TrackRun,
)
from packager.isobmff.movie import parse_moov
from packager.isobmff.protection import ProtectionSchemeInfo
from packager.isobmff.sample_aux import SampleEncryptionBox
from vodpipe.errors import PackagingError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from packager.cenc import Scheme
    from packager.isobmff.movie import TrackDefaults

_ENTRY_CHILDREN = {"encv": 78, "enca": 28}  # where a sample entry's child boxes start (§12.1.3, §12.2.3)
_STSD_CHILDREN = 8


def _path(data: bytearray, start: int, end: int, path: tuple[str, ...]) -> Box:
    found: Box | None = None
    for fourcc in path:
        found = next((b for b in iter_boxes(memoryview(data), start, end) if b.type == fourcc), None)
        if found is None:
            raise PackagingError(f"no {fourcc} on the way to {'/'.join(path)}")
        start, end = found.offset + 8, found.offset + found.size
    assert found is not None
    return found


def _rename(data: bytearray, b: Box, fourcc: str) -> None:
    data[b.offset + 4 : b.offset + 8] = fourcc.encode("latin-1")


def decrypt_file(source: bytes, keys: Mapping[bytes, bytes]) -> bytes:
    """``source`` (init segment and fragments, one track) with every sample decrypted.

    ``keys`` maps KIDs to keys. A file that is not encrypted is returned unchanged.
    """
    data = bytearray(source)
    moov = next((b for b in iter_boxes(memoryview(data)) if b.type == "moov"), None)
    if moov is None:
        raise PackagingError("the file has no moov")
    stsd = _path(data, moov.offset + 8, moov.offset + moov.size, ("trak", "mdia", "minf", "stbl", "stsd"))
    entry = next(iter_boxes(memoryview(data), stsd.offset + 8 + _STSD_CHILDREN, stsd.offset + stsd.size))
    if entry is None or entry.type not in _ENTRY_CHILDREN:
        return bytes(data)
    children = entry.offset + 8 + _ENTRY_CHILDREN[entry.type]
    inside = iter_boxes(memoryview(data), children, entry.offset + entry.size)
    sinf_box = next((b for b in inside if b.type == "sinf"), None)
    if sinf_box is None:
        raise PackagingError(f"{entry.type} sample entry has no sinf")
    sinf = ProtectionSchemeInfo.parse(sinf_box)
    tenc = sinf.tenc
    scheme_type = sinf.scheme.scheme_type
    if scheme_type not in ("cenc", "cbcs"):
        raise PackagingError(f"protection scheme '{scheme_type}' is not supported (cenc, cbcs)")
    scheme: Scheme = "cenc" if scheme_type == "cenc" else "cbcs"
    key = keys.get(tenc.default_kid)
    if key is None:
        raise PackagingError(f"no key for KID {tenc.default_kid.hex()}")
    header = parse_moov(next(iter_boxes(memoryview(data), moov.offset, moov.offset + moov.size)))
    _rename(data, entry, sinf.original_format.data_format)
    _rename(data, sinf_box, "free")
    pattern = (tenc.crypt_byte_block, tenc.skip_byte_block)
    for moof in [b for b in iter_boxes(memoryview(data)) if b.type == "moof"]:
        for traf in iter_boxes(memoryview(data), moof.offset + 8, moof.offset + moof.size):
            if traf.type != "traf":
                continue
            parts = list(iter_boxes(memoryview(data), traf.offset + 8, traf.offset + traf.size))
            _decrypt_traf(
                data,
                moof,
                parts,
                header.defaults,
                key,
                tenc.per_sample_iv_size,
                tenc.constant_iv,
                scheme,
                pattern,
            )
    return bytes(data)


def _decrypt_traf(
    data: bytearray,
    moof: Box,
    parts: list[Box],
    defaults: TrackDefaults,
    key: bytes,
    iv_size: int,
    constant_iv: bytes,
    scheme: Scheme,
    pattern: tuple[int, int],
) -> None:
    tfhd_box = next((b for b in parts if b.type == "tfhd"), None)
    senc_box = next((b for b in parts if b.type == "senc"), None)
    if tfhd_box is None:
        raise PackagingError(f"traf in the moof at {moof.offset} has no tfhd")
    if senc_box is None:
        if iv_size:
            raise PackagingError(f"traf in the moof at {moof.offset} has no senc for its per-sample IVs")
        entries = None
    else:
        entries = SampleEncryptionBox.parse(senc_box, iv_size).samples
        _rename(data, senc_box, "free")
    tfhd = TrackFragmentHeader.parse(tfhd_box)
    base = moof.offset
    if tfhd.flags & TFHD_BASE_DATA_OFFSET and tfhd.base_data_offset is not None:
        base = tfhd.base_data_offset
    index = 0
    for run_box in (b for b in parts if b.type == "trun"):
        run = TrackRun.parse(run_box)
        pos = base + (run.data_offset or 0)
        for sample in run.samples:
            size = next(
                v for v in (sample.size, tfhd.default_sample_size, defaults.sample_size) if v is not None
            )
            if entries is not None and index >= len(entries):
                raise PackagingError(f"senc in the moof at {moof.offset} has fewer entries than samples")
            entry = entries[index] if entries is not None else None
            iv = entry.iv if entry is not None and entry.iv else constant_iv
            if len(iv) not in (8, BLOCK):
                raise PackagingError(f"sample {index} of the moof at {moof.offset} has no usable IV")
            subsamples = entry.subsamples if entry is not None else None
            data[pos : pos + size] = decrypt_sample(
                key, iv, bytes(data[pos : pos + size]), subsamples, scheme, pattern
            )
            pos += size
            index += 1
