"""The settings decide which title options a deployment honours, the same for ``vodpipe ingest``
and the upload API; the access record is written only when signed URLs were chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ingest.options import TitleOptions
from origin.access import access_key, read_signed_urls
from pipeline.settings import Settings
from pipeline.title_options import SettingsOptions, apply_title_options, check_title_options
from storage.local import LocalStore
from vodpipe.errors import InvalidFieldError, OptionError

if TYPE_CHECKING:
    from pathlib import Path

KEK = bytes(range(32)).hex()


@pytest.mark.parametrize(
    ("env", "options", "field", "says"),
    [
        ({}, TitleOptions("cbcs"), "encryption", "an encrypted title needs VODPIPE_KEY_ENCRYPTION_KEY"),
        (
            {"VODPIPE_KEY_ENCRYPTION_KEY": KEK, "VODPIPE_VIDEO_CODECS": "h264,av1"},
            TitleOptions("cenc"),
            "encryption",
            "AV1 rungs (",
        ),
    ],
    ids=["no-key-store", "settings-codecs-av1"],
)
def test_options_the_job_would_refuse_are_refused_first(
    tmp_path: Path, env: dict[str, str], options: TitleOptions, field: str, says: str
) -> None:
    settings = Settings.from_env({"VODPIPE_DATA_DIR": str(tmp_path), **env})
    store = LocalStore(tmp_path)
    with pytest.raises(OptionError) as refused:
        check_title_options(settings, store, options)
    assert (refused.value.field, refused.value.message.startswith(says)) == (field, True)
    with pytest.raises(InvalidFieldError) as answered:
        SettingsOptions(settings, store).check(options)
    assert answered.value.field == field
    assert answered.value.status == 400
    assert answered.value.message == f"{field}: {refused.value.message}"
    assert list(store.list("")) == []


def test_a_titles_own_codecs_can_leave_av1_out_of_an_encrypted_title(tmp_path: Path) -> None:
    settings = Settings.from_env({"VODPIPE_KEY_ENCRYPTION_KEY": KEK, "VODPIPE_VIDEO_CODECS": "h264,av1"})
    check_title_options(settings, LocalStore(tmp_path), TitleOptions("cbcs", video_codecs=("h264",)))
    check_title_options(settings, LocalStore(tmp_path), TitleOptions())


@pytest.mark.parametrize(("chosen", "stored"), [(None, None), (True, True), (False, False)])
def test_signed_urls_are_recorded_only_when_chosen(
    tmp_path: Path, chosen: bool | None, stored: bool | None
) -> None:
    store = LocalStore(tmp_path)
    apply_title_options(store, "t", TitleOptions(signed_urls=chosen))
    assert (read_signed_urls(store, "t") if store.exists(access_key("t")) else None) is stored


def test_the_view_of_signed_urls_includes_the_deployments_rule(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert SettingsOptions(Settings(), store).signed_urls("t") is False
    assert SettingsOptions(Settings.from_env({"VODPIPE_SIGNED_URLS": "1"}), store).signed_urls("t") is True
    apply_title_options(store, "t", TitleOptions(signed_urls=True))
    assert SettingsOptions(Settings(), store).signed_urls("t") is True
