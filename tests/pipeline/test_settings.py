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
    assert settings.start_bitrate == 2_000_000
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
            "VODPIPE_START_BITRATE": "1500000",
            "OTHER": "ignored",
        }
    )
    assert settings.data_dir == Path("/srv/vod")
    assert settings.segment_seconds == Fraction(6)
    assert settings.port == 9000
    assert settings.ladder == Path("ladder.toml")
    assert settings.start_bitrate == 1_500_000
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
        ("VODPIPE_START_BITRATE", "2M", "VODPIPE_START_BITRATE='2M' is invalid"),
        ("VODPIPE_START_BITRATE", "0", "from 1000 to 1000000000"),
        ("VODPIPE_HLS_AES128", "yes", "use 1 \\(on\\) or 0 \\(off\\)"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({name: value})


def test_the_hls_aes128_flag_is_off_unless_set_to_1() -> None:
    assert Settings().hls_aes128 is False
    assert Settings.from_env({"VODPIPE_HLS_AES128": "1"}).hls_aes128 is True
    assert Settings.from_env({"VODPIPE_HLS_AES128": "0"}).hls_aes128 is False


def test_ffmpeg_defaults_to_the_wheel_binary() -> None:
    assert Path(Settings.from_env({}).ffmpeg_exe()).is_file()
    assert Settings.from_env({"VODPIPE_FFMPEG": "/opt/ffmpeg"}).ffmpeg_exe() == "/opt/ffmpeg"


def test_readme_lists_every_setting() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert settings_table() in readme


def test_s3_secret_never_shows_in_the_settings_repr() -> None:
    settings = Settings.from_env({"VODPIPE_S3_SECRET_ACCESS_KEY": "s3cr3t-value", "VODPIPE_S3_BUCKET": "b"})
    assert settings.s3_secret_access_key is not None
    assert settings.s3_secret_access_key.reveal() == b"s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings)
    assert "s3_bucket='b'" in repr(settings)


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


@pytest.mark.parametrize(
    ("cores", "environ", "slots"),
    [
        pytest.param(2, {}, (1, 2), id="2-cores-one-task-two-threads"),
        pytest.param(16, {}, (4, 4), id="16-cores-four-tasks-of-four"),
        pytest.param(16, {"VODPIPE_WORKER_CONCURRENCY": "2"}, (2, 8), id="concurrency-set"),
        pytest.param(8, {"VODPIPE_FFMPEG_THREADS": "3"}, (2, 3), id="threads-set"),
    ],
)
def test_workers_are_sized_for_the_host(cores: int, environ: dict[str, str], slots: tuple[int, int]) -> None:
    assert Settings.from_env(environ).worker_slots(cores) == slots


def test_distributed_settings_are_parsed() -> None:
    settings = Settings.from_env(
        {
            "VODPIPE_BROKER_URL": "redis://redis:6379/0",
            "VODPIPE_CHUNK_SECONDS": "30",
            "VODPIPE_VISIBILITY_TIMEOUT": "600",
            "VODPIPE_TASK_TIME_LIMIT": "500",
        }
    )
    assert (settings.chunk_seconds, settings.visibility_timeout, settings.task_time_limit) == (30.0, 600, 500)
    assert settings.result_backend is None  # the broker's URL is used
    with pytest.raises(ConfigError, match="VODPIPE_CHUNK_SECONDS='0' is invalid"):
        Settings.from_env({"VODPIPE_CHUNK_SECONDS": "0"})
    with pytest.raises(ConfigError, match="VODPIPE_TASK_TIME_LIMIT='-1' is invalid: must be positive"):
        Settings.from_env({"VODPIPE_TASK_TIME_LIMIT": "-1"})


def test_video_codecs_are_a_list_of_known_codecs() -> None:
    settings = Settings.from_env(
        {"VODPIPE_VIDEO_CODECS": "h264, av1,av1", "VODPIPE_AV1_BITRATE_FACTOR": "0.5"}
    )
    assert settings.video_codecs == ("h264", "av1")
    assert settings.av1_bitrate_factor == 0.5
    assert Settings.from_env({}).video_codecs == ("h264",)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        pytest.param("VIDEO_CODECS", "h264,vp9", "comma-separated list of h264, av1, hevc", id="unknown"),
        pytest.param("VIDEO_CODECS", ",", "comma-separated list", id="empty"),
        pytest.param("AV1_BITRATE_FACTOR", "3", "from 0.1 to 2", id="factor"),
    ],
)
def test_bad_codec_settings_say_what_is_wrong(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"VODPIPE_{name}='.*' is invalid: must be .*{message}"):
        Settings.from_env({f"VODPIPE_{name}": value})
