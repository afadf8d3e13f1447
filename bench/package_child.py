"""One vodpipe packaging run of ``vodpipe bench package``, in its own process.

Kept apart from ``bench.package`` so that the timed process imports what packaging needs and
nothing that only the harness does (statistics, subprocess, tempfile, Shaka's lookup).
Prints its packaging time, without the interpreter's start and imports, as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from fractions import Fraction
from pathlib import Path

from drm.keys import ContentKey
from packager.package import EncodedTrack, package
from packager.protect import Encryption

# A fixed key for the benchmark only: the content is a generated test pattern.
BENCH_KID = bytes.fromhex("00112233445566778899aabbccddeeff")
BENCH_KEY = bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0")


def main(argv: list[str]) -> None:
    """``MODE OUT TARGET KIND:ID:PATH...``: package the renditions into OUT."""
    mode, out, target, *specs = argv
    tracks = []
    for spec in specs:
        kind, rid, path = spec.split(":", 2)
        tracks.append(EncodedTrack("video" if kind == "video" else "audio", rid, Path(path)))
    encryption = None
    if mode != "clear":
        key = ContentKey(BENCH_KID, BENCH_KEY)
        encryption = Encryption(
            "cenc" if mode == "cenc" else "cbcs", {"sd": key, "hd": key, "uhd": key, "audio": key}
        )
    started = time.perf_counter()
    package(tracks, Path(out), Fraction(target), encryption=encryption)
    print(json.dumps({"package_seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(sys.argv[1:])
