"""A static DASH MPD (ISO/IEC 23009-1, DASH-IF IOP), rendered with ``mpegdash``.

SegmentTemplate with a SegmentTimeline built from the written segments' real decode times and
durations, one video AdaptationSet per codec and one audio AdaptationSet per language.
"""

from __future__ import annotations

from fractions import Fraction

from mpegdash.nodes import (
    MPEGDASH,
    AdaptationSet,
    Descriptor,
    Period,
    Representation,
    S,
    SegmentTemplate,
    SegmentTimeline,
)
from mpegdash.parser import MPEGDASHParser

from packager.bitrate import dash_bandwidth
from packager.model import DASH_SEGMENT_TEMPLATE, INIT_NAME, Presentation, Rendition

PROFILES = "urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019"
CHANNEL_SCHEME = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"
ROLE_SCHEME = "urn:mpeg:dash:role:2011"


def iso_duration(seconds: Fraction) -> str:
    """xs:duration with microsecond precision, e.g. ``PT10.000000S``."""
    return f"PT{float(seconds):.6f}S"


def microseconds(seconds: Fraction) -> Fraction:
    """``seconds`` to the microsecond, exactly as :func:`iso_duration` writes it."""
    return Fraction(f"{float(seconds):.6f}")


def frame_rate(rate: Fraction) -> str:
    """@frameRate (§5.3.7.2): an integer or ``num/den``."""
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def timeline(rendition: Rendition) -> SegmentTimeline:
    """S elements with run-length repeats; ``t`` is given where the timeline starts or jumps."""
    entries: list[S] = []
    expected: int | None = None
    for segment in rendition.segments:
        last = entries[-1] if entries else None
        if last is not None and segment.start == expected and segment.duration == last.d:
            last.r = (last.r or 0) + 1
        else:
            entry = S()
            entry.d = segment.duration
            if segment.start != expected:
                entry.t = segment.start
            entries.append(entry)
        expected = segment.start + segment.duration
    result = SegmentTimeline()
    result.Ss = entries
    return result


def ratio(value: Fraction) -> str:
    """@sar and @par (§5.3.3.2, §5.3.7.2): ``num:den``."""
    return f"{value.numerator}:{value.denominator}"


def _template(rendition: Rendition) -> SegmentTemplate:
    template = SegmentTemplate()
    template.timescale = rendition.timescale
    template.initialization = f"{rendition.path}/{INIT_NAME}"
    template.media = f"{rendition.path}/{DASH_SEGMENT_TEMPLATE}"
    template.start_number = 1
    template.segment_timelines = [timeline(rendition)]
    return template


def _descriptor(scheme: str, value: str) -> Descriptor:
    d = Descriptor()
    d.scheme_id_uri = scheme
    d.value = value
    return d


def video_families(renditions: tuple[Rendition, ...]) -> list[tuple[Rendition, ...]]:
    """Rungs grouped by codec (its sample entry fourcc), in order of first appearance.

    Players switch within an AdaptationSet as if seamless, and MSE cannot change codec there
    (shaka-player#391); switching across sets is opt-in (DASH-IF IOP v4.2 §3.8). So each codec
    gets its own AdaptationSet, and a player that cannot decode AV1 keeps the H.264 one.
    """
    groups: dict[str, list[Rendition]] = {}
    for r in renditions:
        groups.setdefault(r.codec.split(".")[0], []).append(r)
    return [tuple(group) for group in groups.values()]


def _video_set(renditions: tuple[Rendition, ...], min_buffer: Fraction, index: int = 0) -> AdaptationSet:
    aset = AdaptationSet()
    aset.id = index
    aset.content_type = "video"
    aset.mime_type = "video/mp4"
    aset.segment_alignment = "true"
    aset.start_with_sap = 1
    aset.max_width = max(r.width for r in renditions)
    aset.max_height = max(r.height for r in renditions)
    rates = [r.frame_rate for r in renditions if r.frame_rate]
    if rates:
        aset.max_frame_rate = frame_rate(max(rates))
    # DASH-IF IOP §3.2.4: @par shall be present; every rung has the master's display aspect.
    aspects = {r.display_aspect for r in renditions}
    if len(aspects) == 1:
        aset.par = ratio(aspects.pop())
    aset.representations = []
    for r in sorted(renditions, key=lambda r: r.peak_bitrate):
        rep = Representation()
        rep.id = r.id
        rep.bandwidth = dash_bandwidth(r.sized, min_buffer)
        rep.codecs = r.codec
        rep.width = r.width
        rep.height = r.height
        rep.sar = ratio(r.sar)
        if r.frame_rate:
            rep.frame_rate = frame_rate(r.frame_rate)
        rep.segment_templates = [_template(r)]
        aset.representations.append(rep)
    return aset


def _audio_set(index: int, rendition: Rendition, min_buffer: Fraction) -> AdaptationSet:
    aset = AdaptationSet()
    aset.id = index
    aset.content_type = "audio"
    aset.mime_type = "audio/mp4"
    aset.lang = rendition.language
    aset.segment_alignment = "true"
    aset.start_with_sap = 1
    aset.roles = [_descriptor(ROLE_SCHEME, "main")]
    rep = Representation()
    rep.id = f"audio-{rendition.id}"
    rep.bandwidth = dash_bandwidth(rendition.sized, min_buffer)
    rep.codecs = rendition.codec
    rep.audio_sampling_rate = str(rendition.sample_rate)
    rep.audio_channel_configurations = [_descriptor(CHANNEL_SCHEME, str(rendition.channels))]
    rep.segment_templates = [_template(rendition)]
    aset.representations = [rep]
    return aset


def render_mpd(presentation: Presentation) -> str:
    mpd = MPEGDASH()
    mpd.xmlns = "urn:mpeg:dash:schema:mpd:2011"
    mpd.type = "static"
    mpd.profiles = PROFILES
    mpd.media_presentation_duration = iso_duration(presentation.duration)
    mpd.max_segment_duration = iso_duration(presentation.max_segment_duration)
    # @minBufferTime: one segment of the longest kind; each @bandwidth is the smallest that the
    # buffer model of §5.3.5.2 passes with it, as written (to the microsecond).
    min_buffer = microseconds(presentation.max_segment_duration)
    mpd.min_buffer_time = iso_duration(min_buffer)
    period = Period()
    period.id = "0"
    period.start = "PT0S"
    families = video_families(presentation.video)
    period.adaptation_sets = [_video_set(f, min_buffer, i) for i, f in enumerate(families)]
    first_audio = len(families)
    period.adaptation_sets += [
        _audio_set(first_audio + i, a, min_buffer) for i, a in enumerate(presentation.audio)
    ]
    mpd.periods = [period]
    text: str = MPEGDASHParser.get_as_doc(mpd).toprettyxml(indent="  ", encoding="UTF-8").decode()
    return text
