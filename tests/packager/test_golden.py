"""Every manifest of a fixed presentation, compared whole with golden files.

Run ``pytest --update-golden`` after an intended change and review the diff of
``tests/resources/golden/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packager import dash, hls
from tests.packager.test_manifests import TITLE

if TYPE_CHECKING:
    from collections.abc import Callable


def test_manifests_match_their_golden_files(golden: Callable[[str, str], None]) -> None:
    golden("manifests/master.m3u8", hls.master_playlist(TITLE))
    golden("manifests/manifest.mpd", dash.render_mpd(TITLE))
    for rendition in (*TITLE.video, *TITLE.audio):
        golden(f"manifests/{rendition.path}/index.m3u8", hls.media_playlist(rendition))
        if rendition.kind == "video":
            golden(f"manifests/{rendition.path}/iframes.m3u8", hls.iframe_playlist(rendition))
