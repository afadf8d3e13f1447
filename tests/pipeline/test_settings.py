from __future__ import annotations

import base64
from fractions import Fraction
from pathlib import Path

import pytest

from pipeline.settings import Settings, settings_table
from vodpipe.errors import ConfigError


def test_defaults_need_no_environment() -> None:
    settings = Settings.from_env({})
    assert settings.data_dir == Path("var")
    assert settings.segment_seconds == 4
    assert settings.broker_url is None
    assert settings.base_url() == "http://127.0.0.1:8080"


def test_values_are_parsed_and_typed() -> None:
    settings = Settings.from_env(
        {
            "VODPIPE_DATA_DIR": "/srv/vod",
            "VODPIPE_SEGMENT_SECONDS": "6",
            "VODPIPE_PORT": "9000",
            "VODPIPE_PUBLIC_URL": "https://origin.example/",
            "VODPIPE_LADDER": "ladder.toml",
            "OTHER": "ignored",
        }
    )
    assert settings.data_dir == Path("/srv/vod")
    assert settings.segment_seconds == Fraction(6)
    assert settings.port == 9000
    assert settings.ladder == Path("ladder.toml")
    assert settings.base_url() == "https://origin.example"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("VODPIPE_PORT", "eighty", "VODPIPE_PORT='eighty' is invalid"),
        ("VODPIPE_PORT", "70000", "must be a TCP port number"),
        ("VODPIPE_SEGMENT_SECONDS", "0.5", "between 1 and 30 seconds"),
        ("VODPIPE_MANIFEST_MAX_AGE", "-1", "must not be negative"),
        ("VODPIPE_STORE", "ftp", "must be one of local, s3"),
        ("VODPIPE_S3_RETRY_MODE", "legacy", "must be one of standard, adaptive"),
        ("VODPIPE_S3_MULTIPART_THRESHOLD", "1000", "at least 5242880 bytes"),
        ("VODPIPE_S3_MAX_ATTEMPTS", "0", "between 1 and 20"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({name: value})


def test_ffmpeg_defaults_to_the_wheel_binary() -> None:
    assert Path(Settings.from_env({}).ffmpeg_exe()).is_file()
    assert Settings.from_env({"VODPIPE_FFMPEG": "/opt/ffmpeg"}).ffmpeg_exe() == "/opt/ffmpeg"


def test_readme_lists_every_setting() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert settings_table() in readme


def test_secrets_are_parsed_from_hex_or_base64_and_never_shown() -> None:
    key = bytes(range(224, 256))  # its base64 has "+" and "/", so the URL-safe form differs
    url_safe = base64.urlsafe_b64encode(key).decode().rstrip("=")
    for text in [key.hex(), base64.b64encode(key).decode(), url_safe]:
        settings = Settings.from_env({"VODPIPE_KEY_ENCRYPTION_KEY": text, "VODPIPE_TOKEN_SECRET": "t" * 32})
        assert settings.key_encryption_key is not None
        assert settings.key_encryption_key.reveal() == key
        assert text not in repr(settings)
        assert key.hex() not in repr(settings)
        assert "t" * 32 not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("VODPIPE_KEY_ENCRYPTION_KEY", "ab" * 16, "must be 32 bytes"),
        ("VODPIPE_KEY_ENCRYPTION_KEY", "zz" * 32, "must be 32 bytes"),
        ("VODPIPE_TOKEN_SECRET", "too-short-secret", "at least 32 bytes"),
    ],
)
def test_a_bad_secret_names_the_variable_but_never_echoes_it(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        Settings.from_env({name: value})
    assert name in caught.value.message
    assert value not in caught.value.message


def test_secrets_never_show_in_the_settings_repr() -> None:
    settings = Settings.from_env({"VODPIPE_S3_SECRET_ACCESS_KEY": "s3cr3t-value", "VODPIPE_S3_BUCKET": "b"})
    assert settings.s3_secret_access_key == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings)
    assert "s3_bucket='b'" in repr(settings)
