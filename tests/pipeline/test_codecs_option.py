"""``--codecs`` (and the API's ``codecs``) belong to the title: recorded at ingest, so that the
job's ladder has them wherever it runs, in-process or on a worker with other settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.catalog import TitleRecord
from ingest.options import TitleOptions
from ingest.service import IngestOutcome
from pipeline import cli
from pipeline.job import settings_ladder
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from ingest.validate import MasterLimits
    from storage.base import ObjectStore


def test_a_titles_codecs_replace_the_settings_in_its_ladder() -> None:
    settings = Settings.from_env({"VODPIPE_VIDEO_CODECS": "h264"})
    assert {r.codec for r in settings_ladder(settings).rungs} == {"h264"}
    assert {r.codec for r in settings_ladder(settings, ["h264", "av1"]).rungs} == {"h264", "av1"}
    assert {r.codec for r in settings_ladder(settings, ("hevc",)).rungs} == {"hevc"}


def test_ingest_records_its_options_with_the_title(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.from_env(
        {"VODPIPE_DATA_DIR": str(tmp_path), "VODPIPE_BROKER_URL": "redis://h:6379/0"}
    )
    monkeypatch.setattr(cli, "current_settings", lambda: settings)
    seen: list[TitleOptions | None] = []
    record = TitleRecord("t", "published", "masters/t/x.mp4", "x", "m.mp4", {}, published_version="v1")

    def ingest(
        store: ObjectStore, path: Path, title: str, limits: MasterLimits, options: TitleOptions | None
    ) -> IngestOutcome:
        seen.append(options)
        return IngestOutcome(record, is_new=False)

    monkeypatch.setattr(cli, "ingest_master", ingest)
    argv = [
        "ingest",
        str(tmp_path / "m.mp4"),
        "--title",
        "t",
        "--codecs",
        "h264,hevc",
        "--ladder",
        "per-title",
    ]
    assert cli.main(argv) == 0, capsys.readouterr().err  # a broker no longer refuses --codecs
    assert seen == [TitleOptions("none", None, "per-title", ("h264", "hevc"))]
