"""MPEG-2 Transport Stream segments as a player reads them, with the checker's own parser.

ISO/IEC 13818-1: 188-byte packets, the PAT (PID 0) names the PMT, the PMT names each
elementary stream and its stream_type; PES packets carry PTS/DTS on a 90 kHz clock. HLS puts
whole PES packets in each segment and starts every video segment with a random access point
(RFC 8216bis §3.2, §6.2.4 for timestamps shared across renditions).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from player_test.media import InitInfo, MediaError, SegmentTiming

PACKET = 188
CLOCK = 90_000
# ISO/IEC 13818-1 Table 2-34 and the registered private types HLS uses.
STREAM_TYPES = {
    0x1B: ("video", "avc1"),
    0x24: ("video", "hvc1"),
    0x0F: ("audio", "mp4a"),
    0x03: ("audio", "mp4a.40.34"),
    0x04: ("audio", "mp4a.40.34"),
    0x81: ("audio", "ac-3"),
    0x87: ("audio", "ec-3"),
}
ADTS_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


@dataclass
class Pes:
    pts: int | None
    dts: int | None
    random_access: bool
    payload: bytearray = field(default_factory=bytearray)


@dataclass
class Stream:
    pid: int
    stream_type: int
    pes: list[Pes] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return STREAM_TYPES.get(self.stream_type, ("other", ""))[0]


def _section(payload: bytes, pusi: bool) -> bytes:
    """A PSI section from one packet's payload (pointer_field first when PUSI is set)."""
    start = 1 + payload[0] if pusi else 0
    table = payload[start:]
    length = ((table[1] & 0x0F) << 8) | table[2]
    return table[: 3 + length]


def _timestamp(data: bytes, at: int) -> int:
    """33-bit PTS/DTS from its 5-byte marker layout (ISO/IEC 13818-1 §2.4.3.7)."""
    b = data[at : at + 5]
    return ((b[0] >> 1) & 0x07) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1


def parse(data: bytes) -> dict[int, Stream]:
    """Elementary streams of a TS segment, by PID, with their PES packets in order."""
    if not data or len(data) % PACKET or data[0] != 0x47:
        raise MediaError(f"not an MPEG-TS segment ({len(data)} bytes, not whole 188-byte packets)")
    pmt_pid: int | None = None
    streams: dict[int, Stream] = {}
    for at in range(0, len(data), PACKET):
        packet = data[at : at + PACKET]
        if packet[0] != 0x47:
            raise MediaError(f"lost TS sync at byte {at}")
        pusi = bool(packet[1] & 0x40)
        pid = ((packet[1] & 0x1F) << 8) | packet[2]
        control = (packet[3] >> 4) & 0x3
        payload_at = 4
        random_access = False
        if control & 0x2:  # adaptation field
            length = packet[4]
            random_access = length > 0 and bool(packet[5] & 0x40)
            payload_at = 5 + length
        if not control & 0x1 or payload_at >= PACKET:
            continue
        payload = packet[payload_at:]
        if pid == 0 and pusi:
            pat = _section(payload, pusi)
            for entry in range(8, len(pat) - 4, 4):
                program = (pat[entry] << 8) | pat[entry + 1]
                if program:
                    pmt_pid = ((pat[entry + 2] & 0x1F) << 8) | pat[entry + 3]
        elif pid == pmt_pid and pusi:
            pmt = _section(payload, pusi)
            info_length = ((pmt[10] & 0x0F) << 8) | pmt[11]
            pos = 12 + info_length
            while pos + 5 <= len(pmt) - 4:
                es_pid = ((pmt[pos + 1] & 0x1F) << 8) | pmt[pos + 2]
                streams.setdefault(es_pid, Stream(es_pid, pmt[pos]))
                pos += 5 + (((pmt[pos + 3] & 0x0F) << 8) | pmt[pos + 4])
        elif pid in streams:
            stream = streams[pid]
            if pusi:
                if payload[:3] != b"\x00\x00\x01":
                    raise MediaError(f"PID {pid}: PES packet without a start code at byte {at}")
                flags, header_length = payload[7], payload[8]
                pts = _timestamp(payload, 9) if flags & 0x80 else None
                dts = _timestamp(payload, 14) if flags & 0xC0 == 0xC0 else pts
                stream.pes.append(Pes(pts, dts, random_access, bytearray(payload[9 + header_length :])))
            elif stream.pes:
                stream.pes[-1].payload += payload
    if pmt_pid is None:
        raise MediaError("no PAT: not a self-contained TS segment")
    return streams


def nal_units(data: bytes) -> list[bytes]:
    """H.264 Annex B NAL units (start codes 00 00 01 or 00 00 00 01)."""
    units, pos = [], data.find(b"\x00\x00\x01")
    while pos >= 0:
        start = pos + 3
        pos = data.find(b"\x00\x00\x01", start)
        units.append(data[start : pos if pos >= 0 else len(data)].rstrip(b"\x00"))
    return [u for u in units if u]


def adts_frames(data: bytes) -> list[tuple[int, int, int]]:
    """(object type, sample rate, samples) of each ADTS frame (ISO/IEC 14496-3 §1.A.2)."""
    frames, pos = [], 0
    while pos + 7 <= len(data):
        if data[pos] != 0xFF or data[pos + 1] & 0xF0 != 0xF0:
            raise MediaError(f"ADTS sync lost at byte {pos} of a PES payload")
        profile = data[pos + 2] >> 6
        rate = ADTS_RATES[(data[pos + 2] >> 2) & 0x0F]
        length = ((data[pos + 3] & 0x03) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
        blocks = (data[pos + 6] & 0x03) + 1
        if length < 7:
            raise MediaError(f"ADTS frame of impossible length {length}")
        frames.append((profile + 1, rate, 1024 * blocks))
        pos += length
    return frames


@dataclass(frozen=True)
class TsMedia:
    """What one TS segment holds, in the terms the checker's fMP4 path uses."""

    info: InitInfo
    codecs: tuple[str, ...]  # every elementary stream's codec string
    timing: SegmentTiming
    end: int  # presentation end of the measured stream, 90 kHz


def read_ts(data: bytes) -> TsMedia:
    """Codecs, timing and random access of a TS segment; the first video stream is measured, else audio."""
    streams = [s for s in parse(data).values() if s.kind in ("video", "audio") and s.pes]
    if not streams:
        raise MediaError("no audio or video elementary stream with a PES packet")
    codecs = tuple(_codec(s) for s in streams)
    main = next((s for s in streams if s.kind == "video"), streams[0])
    stamped = [p for p in main.pes if p.pts is not None]
    if not stamped:
        raise MediaError(f"PID {main.pid}: no PES packet carries a PTS")
    pts = sorted(p.pts for p in stamped if p.pts is not None)
    first_dts = stamped[0].dts if stamped[0].dts is not None else pts[0]
    if main.kind == "video":
        steps = sorted(b - a for a, b in itertools.pairwise(pts) if b > a)
        frame = steps[len(steps) // 2] if steps else 0
        end = pts[-1] + frame
        first = main.pes[0]
        sync = first.random_access or any(u[0] & 0x1F == 5 for u in nal_units(bytes(first.payload)))
        info = InitInfo("video", codecs[streams.index(main)], CLOCK, 0, 0, frame, 0, ())
    else:
        last = stamped[-1]
        frames = adts_frames(bytes(last.payload)) if main.stream_type == 0x0F else []
        rate = frames[0][1] if frames else 48000
        samples = sum(f[2] for f in frames)
        frame = 1024 * CLOCK // rate
        end = (last.pts or 0) + samples * CLOCK // rate
        sync = True
        info = InitInfo("audio", codecs[streams.index(main)], CLOCK, 0, 0, frame, 0, ())
    timing = SegmentTiming(first_dts, end - pts[0], len(main.pes), sync, pts[0], frame)
    return TsMedia(info, codecs, timing, end)


def _codec(stream: Stream) -> str:
    kind, name = STREAM_TYPES.get(stream.stream_type, ("other", f"stream_type 0x{stream.stream_type:02x}"))
    if stream.stream_type == 0x1B:
        for pes in stream.pes:
            for unit in nal_units(bytes(pes.payload)):
                if unit[0] & 0x1F == 7 and len(unit) >= 4:  # SPS: profile, constraints, level
                    return f"avc1.{unit[1]:02x}{unit[2]:02x}{unit[3]:02x}"
        raise MediaError(f"PID {stream.pid}: H.264 without an SPS in the segment")
    if stream.stream_type == 0x0F:
        frames = adts_frames(bytes(stream.pes[0].payload))
        if not frames:
            raise MediaError(f"PID {stream.pid}: no ADTS frame")
        return f"mp4a.40.{frames[0][0]}"
    del kind
    return name
