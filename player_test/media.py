"""What a player sees in fetched media, read independently of vodpipe's packager."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error

NON_SYNC = 0x00010000


class MediaError(ValueError):
    """Bytes that are not the ISO-BMFF a player expects."""


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[str, int, int]]:
    """(type, offset, size) of the boxes laid end to end in data[start:end]."""
    out = []
    pos, stop = start, len(data) if end is None else end
    while pos + 8 <= stop:
        size, kind = struct.unpack_from(">I4s", data, pos)
        if size == 1:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
        elif size == 0:
            size = stop - pos
        if size < 8 or pos + size > stop:
            raise MediaError(f"box {kind!r} at {pos} has an impossible size {size}")
        out.append((kind.decode("latin-1"), pos, size))
        pos += size
    return out


def find(data: bytes, path: list[str], start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Payload (start, end) of every box along a path of container types."""
    found = []
    for kind, offset, size in boxes(data, start, end):
        if kind == path[0]:
            payload = (offset + 8, offset + size)
            found += [payload] if len(path) == 1 else find(data, path[1:], *payload)
    return found


def _one(data: bytes, path: list[str], start: int = 0, end: int | None = None) -> tuple[int, int]:
    found = find(data, path, start, end)
    if not found:
        raise MediaError(f"no {'/'.join(path)} box")
    return found[0]


@dataclass(frozen=True)
class InitInfo:
    kind: str  # "video" or "audio"
    codec: str
    timescale: int
    width: int
    height: int
    default_duration: int
    default_flags: int
    protection: tuple[str, ...]  # scheme types from sinf/schm, e.g. ("cenc",)
    default_kid: str | None = None  # tenc default_KID, 32 lowercase hex digits
    pssh_systems: tuple[str, ...] = ()  # system IDs of the moov's pssh boxes
    # ISO/IEC 14496-12 §8.6.6 edit list, in media ticks: an empty edit delays the presentation,
    # the first non-empty edit's media_time is skipped (AAC priming, B-frame composition delay).
    edit_delay: int = 0
    edit_skip: int = 0
    has_edit_list: bool = False
    sample_rate: int = 0  # audio sample entry's samplerate (16.16 fixed point, §12.2.3)


def read_edit_list(
    data: bytes, trak: tuple[int, int], movie_timescale: int, timescale: int
) -> tuple[int, int, bool]:
    """(delay, skip, present) from trak/edts/elst, both in the track's media timescale."""
    found = find(data, ["edts", "elst"], *trak)
    if not found:
        return 0, 0, False
    at, end = found[0]
    version = data[at]
    count = struct.unpack_from(">I", data, at + 4)[0]
    entry = ">Qq" if version == 1 else ">Ii"
    step = struct.calcsize(entry) + 4  # media_rate_integer and media_rate_fraction
    delay = 0
    pos = at + 8
    for _ in range(count):
        if pos + step > end:
            raise MediaError(f"elst at {at} is shorter than its {count} entries")
        segment_duration, media_time = struct.unpack_from(entry, data, pos)
        pos += step
        if media_time == -1:  # an empty edit: nothing plays for segment_duration (movie timescale)
            delay += segment_duration * timescale // max(movie_timescale, 1)
            continue
        return delay, media_time, True
    return delay, 0, True


def _esds_codec(esds: bytes) -> str:
    """mp4a.OO.A from an ES_Descriptor (ISO/IEC 14496-1), walking tags 03 > 04 > 05."""
    pos = 4
    object_type = 0
    while pos < len(esds):
        tag = esds[pos]
        pos += 1
        length = 0
        while True:
            byte = esds[pos]
            pos += 1
            length = (length << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        if tag == 0x03:
            flags = esds[pos + 2]
            pos += 3 + (2 if flags & 0x80 else 0) + (2 if flags & 0x20 else 0)
        elif tag == 0x04:
            object_type = esds[pos]
            pos += 13
        elif tag == 0x05:
            aot = esds[pos] >> 3
            if aot == 31:
                aot = 32 + (((esds[pos] & 7) << 3) | (esds[pos + 1] >> 5))
            return f"mp4a.{object_type:02x}.{aot}"
        else:
            pos += length
    return f"mp4a.{object_type:02x}"


def _hvcc_codec(entry_type: str, hvcc: bytes) -> str:
    """hvc1/hev1 string of ISO/IEC 14496-15 Annex E.3 from the first 13 bytes of an hvcC."""
    space, tier, profile = hvcc[1] >> 6, (hvcc[1] >> 5) & 1, hvcc[1] & 0x1F
    flags = struct.unpack_from(">I", hvcc, 2)[0]
    reversed_flags = sum(1 << (31 - bit) for bit in range(32) if flags >> bit & 1)
    constraints = hvcc[6:12].rstrip(b"\0") or b"\0"
    head = f"{entry_type}.{'' if space == 0 else 'ABC'[space - 1]}{profile}.{reversed_flags:X}"
    return f"{head}.{'LH'[tier]}{hvcc[12]}." + ".".join(f"{b:02X}" for b in constraints)


def _av1c_codec(av1c: bytes, colr: bytes) -> str:
    """av01.P.LLT.DD[.M.CCC.cp.tc.mc.F] (AV1 ISOBMFF binding, codecs parameter string).

    The colour part comes from an nclx colr; it is written only when it says something other
    than the defaults (no description, or H.273 "unspecified" for all three, counts as none).
    """
    profile, level = av1c[1] >> 5, av1c[1] & 0x1F
    bits = av1c[2]
    depth = 8
    if bits & 0x40:
        depth = 12 if profile == 2 and bits & 0x20 else 10
    codec = f"av01.{profile}.{level:02d}{'MH'[bits >> 7]}.{depth:02d}"
    colour = (1, 1, 1, 0)
    if colr[:4] == b"nclx" and len(colr) >= 11:
        described = (*struct.unpack_from(">HHH", colr, 4), colr[10] >> 7)
        colour = colour if described[:3] == (2, 2, 2) else described
    tail = (bits >> 4 & 1, f"{bits >> 3 & 1}{bits >> 2 & 1}{bits & 3}", *colour)
    if tail == (0, "110", 1, 1, 1, 0):
        return codec
    return codec + ".{}.{}.{:02d}.{:02d}.{:02d}.{}".format(*tail)


def read_init(data: bytes) -> InitInfo:
    """Codec string, timescale, size and defaults of a CMAF header."""
    trak = _one(data, ["moov", "trak"])
    mvhd, _ = _one(data, ["moov", "mvhd"])
    movie_timescale = struct.unpack_from(">I", data, mvhd + (20 if data[mvhd] == 1 else 12))[0]
    mdhd, _ = _one(data, ["mdia", "mdhd"], *trak)
    timescale = struct.unpack_from(">I", data, mdhd + (20 if data[mdhd] == 1 else 12))[0]
    hdlr, _ = _one(data, ["mdia", "hdlr"], *trak)
    handler = data[hdlr + 8 : hdlr + 12]
    stsd, stsd_end = _one(data, ["mdia", "minf", "stbl", "stsd"], *trak)
    (entry_type, entry, entry_size), *_ = boxes(data, stsd + 8, stsd_end)
    body, end = entry + 8, entry + entry_size
    protection: tuple[str, ...] = ()
    default_kid: str | None = None
    children_at = body + (78 if handler == b"vide" else 28)
    if entry_type in ("encv", "enca"):
        schm = find(data, ["sinf", "schm"], children_at, end)
        protection = tuple(data[s + 4 : s + 8].decode("latin-1") for s, _ in schm)
        tenc = find(data, ["sinf", "schi", "tenc"], children_at, end)
        # ISO/IEC 23001-7 §8.2: version/flags, 2 reserved-or-pattern bytes, isProtected, IV size, KID.
        default_kid = data[tenc[0][0] + 8 : tenc[0][0] + 24].hex() if tenc else None
        frma = find(data, ["sinf", "frma"], children_at, end)
        entry_type = data[frma[0][0] : frma[0][0] + 4].decode("latin-1") if frma else entry_type
    width = height = sample_rate = 0
    if handler == b"vide":
        width, height = struct.unpack_from(">HH", data, body + 24)
        kind = "video"
        config = dict((k, (o, s)) for k, o, s in boxes(data, children_at, end))
        if "avcC" in config:
            at = config["avcC"][0] + 8
            codec = f"{entry_type}.{data[at + 1]:02x}{data[at + 2]:02x}{data[at + 3]:02x}"
        elif "hvcC" in config:
            at = config["hvcC"][0] + 8
            codec = _hvcc_codec(entry_type, data[at : at + 13])
        elif "av1C" in config:
            at = config["av1C"][0] + 8
            colr = config.get("colr")
            codec = _av1c_codec(data[at : at + 4], data[colr[0] + 8 : colr[0] + colr[1]] if colr else b"")
        else:
            codec = entry_type
    elif handler == b"soun":
        kind = "audio"
        sample_rate = struct.unpack_from(">I", data, body + 24)[0] >> 16
        config = dict((k, (o, s)) for k, o, s in boxes(data, children_at, end))
        if "esds" in config:
            offset, size = config["esds"]
            codec = _esds_codec(data[offset + 8 : offset + size])
        else:
            codec = entry_type
    else:
        raise MediaError(f"track handler {handler!r} is neither video nor audio")
    defaults = (0, 0)
    for start, _ in find(data, ["moov", "mvex", "trex"]):
        defaults = (
            struct.unpack_from(">II", data, start + 12)[0],
            struct.unpack_from(">I", data, start + 20)[0],
        )
    systems = tuple(data[start + 4 : start + 20].hex() for start, _ in find(data, ["moov", "pssh"]))
    delay, skip, has_edit_list = read_edit_list(data, trak, movie_timescale, timescale)
    return InitInfo(
        kind,
        codec,
        timescale,
        width,
        height,
        defaults[0],
        defaults[1],
        protection,
        default_kid,
        systems,
        delay,
        skip,
        has_edit_list,
        sample_rate,
    )


@dataclass(frozen=True)
class SegmentTiming:
    start: int  # decode time of the first sample, in the track's timescale
    duration: int  # sum of sample durations
    samples: int
    starts_with_sync: bool
    earliest: int | None = None  # earliest presentation time: min(decode + composition offset)
    frame: int = 0  # the longest sample duration: one video frame or one audio frame

    @property
    def earliest_media(self) -> int:
        return self.start if self.earliest is None else self.earliest


def read_segment(data: bytes, init: InitInfo) -> SegmentTiming:
    """Timing of a media segment from its tfdt and trun boxes (ISO/IEC 14496-12 §8.8.8, §8.8.12)."""
    first: int | None = None
    earliest: int | None = None
    total = count = longest = 0
    sync: bool | None = None
    for moof_start, moof_end in find(data, ["moof"]):
        for traf, traf_end in find(data, ["traf"], moof_start, moof_end):
            tfhd, _ = _one(data, ["tfhd"], traf, traf_end)
            tf_flags = int.from_bytes(data[tfhd + 1 : tfhd + 4], "big")
            pos = tfhd + 8 + (8 if tf_flags & 1 else 0) + (4 if tf_flags & 2 else 0)
            default_duration, default_flags = init.default_duration, init.default_flags
            if tf_flags & 0x08:
                default_duration = struct.unpack_from(">I", data, pos)[0]
                pos += 4
            pos += 4 if tf_flags & 0x10 else 0
            if tf_flags & 0x20:
                default_flags = struct.unpack_from(">I", data, pos)[0]
            tfdt, _ = _one(data, ["tfdt"], traf, traf_end)
            decode = struct.unpack_from(">Q" if data[tfdt] == 1 else ">I", data, tfdt + 4)[0]
            first = decode if first is None else first
            for trun, _ in find(data, ["trun"], traf, traf_end):
                version = data[trun]
                flags = int.from_bytes(data[trun + 1 : trun + 4], "big")
                n = struct.unpack_from(">I", data, trun + 4)[0]
                pos = trun + 8 + (4 if flags & 0x1 else 0)
                first_flags = None
                if flags & 0x4:
                    first_flags = struct.unpack_from(">I", data, pos)[0]
                    pos += 4
                fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
                # trun version 1 makes the composition offset signed (§8.8.8.2).
                layout = ">" + "".join("i" if bit == 0x800 and version == 1 else "I" for bit in fields)
                for i in range(n):
                    values = dict(zip(fields, struct.unpack_from(layout, data, pos), strict=True))
                    pos += 4 * len(fields)
                    duration = values.get(0x100, default_duration)
                    presented = decode + values.get(0x800, 0)
                    earliest = presented if earliest is None else min(earliest, presented)
                    decode += duration
                    total += duration
                    longest = max(longest, duration)
                    if sync is None:
                        sample_flags = (
                            first_flags
                            if i == 0 and first_flags is not None
                            else values.get(0x400, default_flags)
                        )
                        sync = not sample_flags & NON_SYNC
                count += n
    if first is None:
        raise MediaError("segment has no moof/traf/tfdt")
    return SegmentTiming(first, total, count, bool(sync), earliest, longest)


@dataclass(frozen=True)
class Decoded:
    frames: int
    width: int
    height: int
    seconds: Fraction


def frame_size(data: bytes) -> tuple[int, int]:
    """Width and height of the first video stream in a self-contained segment (TS), by PyAV."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise MediaError("no video stream")
            context = container.streams.video[0].codec_context
            return context.width, context.height
    except av.error.FFmpegError as exc:
        raise MediaError(f"does not open: {exc}") from None


def decode(init: bytes, segments: list[bytes]) -> Decoded:
    """Decode a whole rendition with PyAV from its init and media segments."""
    try:
        with av.open(io.BytesIO(init + b"".join(segments)), mode="r") as container:
            stream = container.streams[0]
            frames = width = height = 0
            end = Fraction(0)
            for frame in container.decode(stream):
                frames += 1
                if (
                    not isinstance(frame, av.VideoFrame | av.AudioFrame)
                    or frame.pts is None
                    or not frame.time_base
                ):
                    continue
                start = Fraction(frame.pts * frame.time_base)
                if isinstance(frame, av.VideoFrame):
                    width, height = frame.width, frame.height
                    end = max(end, start)
                elif isinstance(frame, av.AudioFrame):
                    end = max(end, start + Fraction(frame.samples, frame.sample_rate))
    except av.error.FFmpegError as exc:
        raise MediaError(f"does not decode: {exc}") from None
    return Decoded(frames, width, height, end)
