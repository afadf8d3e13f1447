"""HLS playlists (RFC 8216, Apple HLS authoring spec), rendered with ``m3u8``.

Pure functions: a :class:`Presentation` in, playlist text out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import m3u8

from packager.model import (
    IFRAME_PLAYLIST,
    INIT_NAME,
    MEDIA_PLAYLIST,
    Presentation,
    Rendition,
    segment_name,
    target_duration,
)

if TYPE_CHECKING:
    from fractions import Fraction

AUDIO_GROUP = "audio"
AVC = ("avc1.", "avc3.")
DEFAULT_START_BITRATE = 2_000_000  # the variant a client starts on is the one nearest this
HLS_VERSION = 7  # EXT-X-MAP in playlists without I-frames-only needs 6; 7 is Apple's floor


def _playlist(segments: list[m3u8.Segment], durations: list[Fraction], *, iframes: bool) -> str:
    playlist = m3u8.M3U8()
    playlist.version = HLS_VERSION
    playlist.target_duration = target_duration(durations)
    playlist.playlist_type = "vod"
    playlist.is_independent_segments = True
    playlist.is_i_frames_only = iframes
    playlist.is_endlist = True
    for segment in segments:
        playlist.add_segment(segment)
    text: str = playlist.dumps(infspec="microseconds")
    return text


def media_playlist(rendition: Rendition) -> str:
    """The media playlist of one rendition (§4.3.3), one EXTINF per CMAF segment."""
    durations = [rendition.seconds(s.duration) for s in rendition.segments]
    segments = [
        m3u8.Segment(uri=segment_name(s.number), duration=float(d), init_section={"uri": INIT_NAME})
        for s, d in zip(rendition.segments, durations, strict=True)
    ]
    return _playlist(segments, durations, iframes=False)


def iframe_playlist(rendition: Rendition) -> str:
    """An I-frame playlist (§4.3.3.6): each keyframe as a byte range of its segment."""
    durations: list[Fraction] = []
    segments = []
    for s in rendition.segments:
        for frame in s.iframes:
            duration = rendition.seconds(frame.duration)
            durations.append(duration)
            segments.append(
                m3u8.Segment(
                    uri=segment_name(s.number),
                    duration=float(duration),
                    byterange=f"{frame.length}@{frame.offset}",
                    init_section={"uri": INIT_NAME},
                )
            )
    return _playlist(segments, durations, iframes=True)


def _language_name(code: str) -> str:
    names = {"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español", "und": "Audio"}
    return names.get(code, code)


def variant_order(presentation: Presentation, start_bitrate: int) -> list[Rendition]:
    """Video rungs in the order the multivariant playlist lists them.

    Safari, and hls.js without a bandwidth estimate, start on the first variant listed; the
    authoring spec advises a moderate one there. So the rung whose BANDWIDTH (with the audio) is
    nearest ``start_bitrate`` comes first (the lower one on a tie), the rest from the top down.
    The first rung is an H.264 one where there is any: a client that starts on a codec it cannot
    decode may fail before it looks further (and hls.js keeps to the first variant's codecs).
    """
    audio_peak = max((a.peak_bitrate for a in presentation.audio), default=0)
    by_rate = sorted(presentation.video, key=lambda r: r.peak_bitrate, reverse=True)
    avc = [r for r in by_rate if r.codec.startswith(AVC)] or by_rate
    start = min(reversed(avc), key=lambda r: abs(r.peak_bitrate + audio_peak - start_bitrate))
    return [start, *(r for r in by_rate if r is not start)]


def master_playlist(presentation: Presentation, start_bitrate: int = DEFAULT_START_BITRATE) -> str:
    """The multivariant playlist (§4.3.4): audio renditions, one variant and I-frame stream per rung."""
    master = m3u8.M3U8()
    master.version = HLS_VERSION
    master.is_independent_segments = True
    for i, audio in enumerate(presentation.audio):
        master.add_media(
            m3u8.Media(
                uri=f"{audio.path}/{MEDIA_PLAYLIST}",
                type="AUDIO",
                group_id=AUDIO_GROUP,
                language=audio.language,
                name=_language_name(audio.language),
                default="YES" if i == 0 else "NO",
                autoselect="YES",
                channels=str(audio.channels),
            )
        )
    # §4.3.4.2: BANDWIDTH is the peak of the variant with every rendition it may play.
    audio_peak = max((a.peak_bitrate for a in presentation.audio), default=0)
    audio_average = max((a.average_bitrate for a in presentation.audio), default=0)
    for video in variant_order(presentation, start_bitrate):
        codecs = video.codec + (f",{presentation.audio[0].codec}" if presentation.audio else "")
        info: dict[str, object] = {
            "bandwidth": video.peak_bitrate + audio_peak,
            "average_bandwidth": video.average_bitrate + audio_average,
            "codecs": codecs,
            "resolution": f"{video.width}x{video.height}",
            "frame_rate": float(video.frame_rate or 0),
            # QA1801 and the authoring spec: say there are no captions, or iOS and Safari
            # offer an empty CC menu (the variant's video may carry CEA-608 as far as they know)
            "closed_captions": "NONE",
        }
        if presentation.audio:
            info["audio"] = AUDIO_GROUP
        master.add_playlist(m3u8.Playlist(f"{video.path}/{MEDIA_PLAYLIST}", info, master.media, None))
    for video in sorted(presentation.video, key=lambda r: r.peak_bitrate, reverse=True):
        master.add_iframe_playlist(
            m3u8.IFramePlaylist(
                None,
                f"{video.path}/{IFRAME_PLAYLIST}",
                {
                    "bandwidth": video.iframe_peak_bitrate,
                    "average_bandwidth": video.iframe_average_bitrate,
                    "codecs": video.codec,
                    "resolution": f"{video.width}x{video.height}",
                },
            )
        )
    text: str = master.dumps()
    return text
