"""What ``pipeline.serving`` sets up before an origin listens."""

from __future__ import annotations

import resource

from pipeline.serving import raise_open_files_limit


def test_the_soft_open_files_limit_is_raised_to_the_hard_limit() -> None:
    """A thousand connections need a thousand descriptors (two for a segment in flight)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
        assert raise_open_files_limit() == hard
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
