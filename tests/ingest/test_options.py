"""A title's options read strictly from a JSON body and from tus Upload-Metadata."""

from __future__ import annotations

from typing import Any

import pytest

from encoder.ladder import CODECS as ENCODER_CODECS
from ingest.options import CODECS, TitleOptions, options_from_json, options_from_metadata
from vodpipe.errors import InvalidFieldError


def test_absent_fields_are_the_defaults() -> None:
    assert options_from_json({}) == TitleOptions()
    assert options_from_json({"title": "t", "length": 3, "colour": "blue"}) == TitleOptions()
    nulls = {"encryption": None, "signed_urls": None, "ladder": None, "codecs": None}
    assert options_from_json(nulls) == TitleOptions()
    assert options_from_metadata({}) == TitleOptions()
    assert options_from_metadata({"encryption": "", "codecs": " "}) == TitleOptions()


def test_every_option_is_read_and_spelt_back_as_sent() -> None:
    body = {"encryption": "cbcs", "signed_urls": True, "ladder": "per-title", "codecs": ["h264", "hevc"]}
    options = options_from_json(body)
    assert options == TitleOptions("cbcs", True, "per-title", ("h264", "hevc"))
    assert options.to_json() == body
    assert options_from_json(options.to_json()) == options  # how an upload's record keeps them
    assert TitleOptions().to_json() == {
        "encryption": None,
        "signed_urls": None,
        "ladder": None,
        "codecs": None,
    }


def test_metadata_carries_the_same_options_as_text() -> None:
    metadata = {"encryption": "cenc", "signed_urls": "false", "ladder": "fixed", "codecs": "h264, hevc"}
    assert options_from_metadata(metadata) == TitleOptions("cenc", False, "fixed", ("h264", "hevc"))


@pytest.mark.parametrize(
    "options",
    [
        TitleOptions(),
        TitleOptions("cbcs", True, "per-title", ("h264", "hevc")),
        TitleOptions(signed_urls=False),
    ],
    ids=["defaults", "all", "opened"],
)
def test_metadata_spelling_reads_back(options: TitleOptions) -> None:
    assert options_from_metadata(options.to_metadata()) == options
    assert TitleOptions().to_metadata() == {}  # nothing chosen, nothing sent


def test_the_codecs_named_are_the_encoders() -> None:
    assert sorted(CODECS) == sorted(ENCODER_CODECS)


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"encryption": "aes"}, "encryption", '"cenc", "cbcs" or null'),
        ({"encryption": "none"}, "encryption", "or null (clear)"),
        ({"encryption": True}, "encryption", "not True"),
        ({"signed_urls": "yes"}, "signed_urls", "true, false or null"),
        ({"signed_urls": 1}, "signed_urls", "not 1"),
        ({"ladder": "adaptive"}, "ladder", '"fixed", "per-title" or null'),
        ({"ladder": 2}, "ladder", "not 2"),
        ({"codecs": "h264,av1"}, "codecs", "a non-empty list of codec names"),
        ({"codecs": []}, "codecs", "a non-empty list"),
        ({"codecs": ["h264", 5]}, "codecs", "a non-empty list"),
        ({"codecs": ["vp9"]}, "codecs", "'vp9' is not a codec: use some of"),
        ({"codecs": ["h264", "h264"]}, "codecs", "names a codec twice"),
        ({"codecs": ["h264", "av1"], "encryption": "cbcs"}, "codecs", "AV1 cannot be encrypted yet"),
    ],
    ids=[
        "encryption-unknown",
        "encryption-none-spelt",
        "encryption-type",
        "signed-string",
        "signed-number",
        "ladder-unknown",
        "ladder-type",
        "codecs-string",
        "codecs-empty",
        "codecs-item-type",
        "codecs-unknown",
        "codecs-twice",
        "av1-encrypted",
    ],
)
def test_a_bad_field_is_named_with_what_it_allows(body: dict[str, Any], field: str, says: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        options_from_json(body)
    assert caught.value.field == field
    assert caught.value.message.startswith(f"{field}: ")
    assert says in caught.value.message
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ({"encryption": "aes"}, "encryption"),
        ({"signed_urls": "1"}, "signed_urls"),
        ({"ladder": "auto"}, "ladder"),
        ({"codecs": "h264,,av1"}, "codecs"),
        ({"codecs": "av1", "encryption": "cenc"}, "codecs"),
    ],
    ids=["encryption", "signed", "ladder", "codecs-empty-name", "av1-encrypted"],
)
def test_bad_metadata_is_named_too(metadata: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        options_from_metadata(metadata)
    assert caught.value.field == field
