"""``vodpipe edge-config``: in-process through ``main``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from origin.edge_config import EdgeSettings, edge_config
from pipeline import cli

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_prints_the_configuration_of_the_settings_given(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["edge-config", "--origin", "http://10.0.0.1:8000", "--origin", "http://10.0.0.2:8000"]
    argv += ["--listen", "9090", "--max-size", "2g"]
    assert cli.main(argv) == 0
    expected = EdgeSettings(("http://10.0.0.1:8000", "http://10.0.0.2:8000"), listen="9090", max_size="2g")
    assert capsys.readouterr().out == edge_config(expected)


def test_writes_the_file_named_by_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "edge.conf"
    argv = ["edge-config", "--origin", "http://127.0.0.1:8000", "--run-dir", str(tmp_path), "-o", str(out)]
    assert cli.main(argv) == 0
    assert out.read_text() == edge_config(EdgeSettings(("http://127.0.0.1:8000",), run_dir=str(tmp_path)))
    assert capsys.readouterr().out == ""


def test_a_bad_setting_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "edge.conf"
    argv = ["edge-config", "--origin", "http://127.0.0.1:8000", "--max-size", "lots", "-o", str(out)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err == "vodpipe: error: --max-size 'lots' is not an nginx size such as 10g, 512m or 100k\n"
    assert not out.exists()


def test_an_unwritable_output_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "missing" / "edge.conf"
    assert cli.main(["edge-config", "--origin", "http://127.0.0.1:8000", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"vodpipe: error: cannot write {out}: ")
    assert err.count("\n") == 1
