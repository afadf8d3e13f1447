"""``--codecs`` on `vodpipe ingest` and `vodpipe demo`: in-process jobs only."""

from __future__ import annotations

import pytest

from pipeline.cli import with_codecs_option
from pipeline.settings import Settings
from vodpipe.errors import ConfigError


def test_codecs_replace_the_settings_for_an_in_process_job() -> None:
    settings = Settings.from_env({"VODPIPE_VIDEO_CODECS": "h264"})
    assert with_codecs_option(settings, ("h264", "av1")).video_codecs == ("h264", "av1")
    assert with_codecs_option(settings, None) is settings


def test_codecs_with_a_broker_are_refused_as_workers_read_their_own() -> None:
    settings = Settings.from_env({"VODPIPE_BROKER_URL": "redis://localhost:6379/0"})
    with pytest.raises(ConfigError, match="set VODPIPE_VIDEO_CODECS on the workers"):
        with_codecs_option(settings, ("h264", "av1"))
