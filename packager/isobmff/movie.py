"""What an initialisation segment says about its track (ISO/IEC 14496-12 §8.2-§8.5, §8.8.3).

Only the fields that packaging and manifests need are read: handler, timescale, language,
the sample entry (with its avcC/hvcC/esds configuration) and the trex defaults.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction

from packager.isobmff.box import Box, child, iter_boxes, parse_full_header
from packager.isobmff.edit import EMPTY_EDIT, EditList
from vodpipe.errors import BoxParseError, PackagingError

# §12.1.3 VisualSampleEntry: 6 reserved, data_reference_index, 16 pre_defined/reserved,
# then width and height; its child boxes start after 78 bytes.
_VISUAL_CHILDREN = 78
# §12.2.3 AudioSampleEntry (version 0): children start after 28 bytes.
_AUDIO_CHILDREN = 28


@dataclass(frozen=True)
class TrackDefaults:
    """trex (§8.8.3): what a fragment's samples default to when tfhd and trun are silent."""

    sample_description_index: int = 1
    sample_duration: int = 0
    sample_size: int = 0
    sample_flags: int = 0


@dataclass(frozen=True)
class SampleEntry:
    """The codec description of a track: its fourcc and the configuration boxes it carries."""

    fourcc: str
    width: int = 0
    height: int = 0
    channel_count: int = 0
    sample_rate: int = 0
    config: dict[str, bytes] | None = None

    def config_box(self, fourcc: str) -> bytes | None:
        return (self.config or {}).get(fourcc)

    @property
    def pixel_aspect(self) -> Fraction:
        """pasp (§12.1.4): hSpacing:vSpacing, the sample aspect ratio; square without one."""
        pasp = self.config_box("pasp")
        if pasp is None or len(pasp) < 8:
            return Fraction(1)
        h_spacing, v_spacing = struct.unpack_from(">II", pasp)
        return Fraction(h_spacing, v_spacing) if h_spacing and v_spacing else Fraction(1)


@dataclass(frozen=True)
class TrackHeader:
    """The facts of one track in a moov."""

    track_id: int
    handler: str  # 'vide' or 'soun'
    timescale: int
    language: str
    entry: SampleEntry
    defaults: TrackDefaults
    edit_list: EditList | None = None
    movie_timescale: int = 1000

    @property
    def presentation_offset(self) -> int:
        """Media ticks to subtract from a composition time to get its presentation time.

        §8.6.6: an empty edit delays the presentation by its duration (movie timescale); the
        media edit that follows starts it ``media_time`` ticks into the media (encoder priming).
        Only that shape is supported: more than one media edit, or a rate other than 1, is not.
        """
        if self.edit_list is None:
            return 0
        delay = 0
        media = [e for e in self.edit_list.edits if e.media_time != EMPTY_EDIT]
        if len(media) > 1 or any(e.media_rate != 1 for e in media):
            raise PackagingError(f"track {self.track_id}: edit lists other than one offset are not supported")
        for e in self.edit_list.edits:
            if e.media_time != EMPTY_EDIT:
                break
            delay += e.segment_duration * self.timescale // self.movie_timescale
        return (media[0].media_time if media else 0) - delay


def _mdhd(b: Box) -> tuple[int, str]:
    version, _, rest = parse_full_header(b)
    if version not in (0, 1):
        raise BoxParseError(b.type, b.offset, f"unsupported version {version}")
    pos = 16 if version == 1 else 8  # creation and modification times
    if len(rest) < pos + 4 + (8 if version == 1 else 4) + 2:
        raise BoxParseError(b.type, b.offset, "fields are truncated")
    (timescale,) = struct.unpack_from(">I", rest, pos)
    pos += 4 + (8 if version == 1 else 4)
    (packed,) = struct.unpack_from(">H", rest, pos)
    # §8.4.2.3: ISO-639-2/T code, three 5-bit letters offset by 0x60.
    language = "".join(chr(((packed >> shift) & 0x1F) + 0x60) for shift in (10, 5, 0))
    return timescale, language


def _sample_entry(stsd: Box) -> SampleEntry:
    _, _, rest = parse_full_header(stsd)
    if len(rest) < 4:
        raise BoxParseError("stsd", stsd.offset, "entry_count is truncated")
    entry = next(iter_boxes(rest, 4), None)
    if entry is None:
        raise BoxParseError("stsd", stsd.offset, "has no sample entry")
    payload = entry.payload
    if entry.type in ("avc1", "avc3", "hvc1", "hev1", "encv", "av01"):
        if len(payload) < _VISUAL_CHILDREN:
            raise BoxParseError(entry.type, entry.offset, "visual sample entry is truncated")
        width, height = struct.unpack_from(">HH", payload, 24)
        config = {b.type: bytes(b.payload) for b in iter_boxes(payload, _VISUAL_CHILDREN)}
        return SampleEntry(entry.type, width=width, height=height, config=config)
    if entry.type in ("mp4a", "ac-3", "ec-3", "Opus", "enca"):
        if len(payload) < _AUDIO_CHILDREN:
            raise BoxParseError(entry.type, entry.offset, "audio sample entry is truncated")
        channels = struct.unpack_from(">H", payload, 16)[0]
        rate = struct.unpack_from(">I", payload, 24)[0] >> 16
        config = {b.type: bytes(b.payload) for b in iter_boxes(payload, _AUDIO_CHILDREN)}
        return SampleEntry(entry.type, channel_count=channels, sample_rate=rate, config=config)
    return SampleEntry(entry.type)


def _trex(moov: Box, track_id: int) -> TrackDefaults:
    mvex = child(moov, "mvex")
    if mvex is None:
        raise BoxParseError("moov", moov.offset, "has no mvex: the file is not fragmented")
    for b in iter_boxes(mvex.payload):
        if b.type != "trex":
            continue
        _, _, rest = parse_full_header(b)
        if len(rest) < 20:
            raise BoxParseError("trex", b.offset, "fields are truncated")
        tid, index, duration, size, flags = struct.unpack_from(">5I", rest)
        if tid == track_id:
            return TrackDefaults(index, duration, size, flags)
    raise BoxParseError("mvex", mvex.offset, f"has no trex for track {track_id}")


def parse_moov(moov: Box) -> TrackHeader:
    """Read the single track of a CMAF header's moov."""
    traks = [b for b in iter_boxes(moov.payload) if b.type == "trak"]
    if len(traks) != 1:
        raise BoxParseError("moov", moov.offset, f"has {len(traks)} tracks, CMAF needs exactly 1")
    trak = traks[0]
    tkhd = child(trak, "tkhd")
    mdhd = child(trak, "mdia/mdhd")
    hdlr = child(trak, "mdia/hdlr")
    stsd = child(trak, "mdia/minf/stbl/stsd")
    if tkhd is None or mdhd is None or hdlr is None or stsd is None:
        raise BoxParseError("trak", trak.offset, "lacks one of tkhd, mdhd, hdlr, stsd")
    version, _, rest = parse_full_header(tkhd)
    track_id = struct.unpack_from(">I", rest, 16 if version == 1 else 8)[0]
    timescale, language = _mdhd(mdhd)
    handler = bytes(hdlr.payload[8:12]).decode("latin-1")
    elst = child(trak, "edts/elst")
    return TrackHeader(
        track_id,
        handler,
        timescale,
        language,
        _sample_entry(stsd),
        _trex(moov, track_id),
        EditList.parse(elst) if elst is not None else None,
        _movie_timescale(moov),
    )


def _movie_timescale(moov: Box) -> int:
    mvhd = child(moov, "mvhd")
    if mvhd is None:
        raise BoxParseError("moov", moov.offset, "has no mvhd")
    version, _, rest = parse_full_header(mvhd)
    pos = 16 if version == 1 else 8  # creation and modification times (§8.2.2)
    if len(rest) < pos + 4:
        raise BoxParseError("mvhd", mvhd.offset, "timescale is truncated")
    timescale: int = struct.unpack_from(">I", rest, pos)[0]
    return timescale
