"""VMAF, PSNR and SSIM by the shipped FFmpeg's libvmaf on a generated clip and real rungs."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from typing import TYPE_CHECKING

import pytest

from encoder.quality import QualityJob, QualityReport, host_threads, measure_quality
from encoder.runner import SubprocessRunner

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

SECONDS = 2
RATE = 25


def _run(args: list[str]) -> None:
    subprocess.run(args, check=True)


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory, ffmpeg_exe: str) -> Path:
    path = tmp_path_factory.mktemp("quality") / "master.mp4"
    source = f"testsrc2=size=320x180:rate={RATE}:duration={SECONDS}"
    _run([ffmpeg_exe, "-v", "error", "-y", "-f", "lavfi", "-i", source, "-pix_fmt", "yuv420p",
          "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", str(path)])  # fmt: skip
    return path


def _rung(ffmpeg_exe: str, master: Path, bitrate: str) -> Path:
    path = master.with_name(f"rung-{bitrate}.mp4")
    _run([ffmpeg_exe, "-v", "error", "-y", "-i", str(master), "-vf", "scale=160:90:flags=bicubic",
          "-c:v", "libx264", "-preset", "ultrafast", "-b:v", bitrate, str(path)])  # fmt: skip
    return path


def _measure(ffmpeg_exe: str, rung: Path, master: Path, log: Path, *, phone: bool = False) -> QualityReport:
    job = QualityJob(rung, master, 320, 180, log, n_subsample=2, threads=host_threads(), phone_model=phone)
    return measure_quality(
        SubprocessRunner(),
        ffmpeg_exe,
        job,
        duration=SECONDS,
        frame_rate=Fraction(RATE),
        segment_starts=[0.0, 1.0],
    )


def test_low_bitrate_rung_scores_below_high_bitrate_rung(master: Path, ffmpeg_exe: str) -> None:
    low = _measure(ffmpeg_exe, _rung(ffmpeg_exe, master, "20k"), master, master.with_name("low.json"))
    high = _measure(ffmpeg_exe, _rung(ffmpeg_exe, master, "600k"), master, master.with_name("high.json"))
    assert low.title.vmaf.mean < high.title.vmaf.mean
    assert low.title.psnr_y.mean < high.title.psnr_y.mean
    assert low.title.ssim is not None
    assert high.title.ssim is not None
    assert low.title.ssim.mean < high.title.ssim.mean
    # every second frame of 50 is scored, and the two 1-second segments share them
    assert low.title.frames == SECONDS * RATE // 2
    assert [s.frames for s in low.segments] == [13, 12]
    assert [f.frame for f in low.frames[:3]] == [0, 2, 4]
    assert low.title.vmaf.minimum <= low.title.vmaf.p5 <= low.title.vmaf.mean


def test_identical_input_scores_full_marks(master: Path, ffmpeg_exe: str, tmp_path: Path) -> None:
    # a log path that needs both levels of filtergraph escaping
    report = _measure(ffmpeg_exe, master, master, tmp_path / "a:b,c'd.json", phone=True)
    # VMAF's motion feature is 0 on the first frame, which alone scores a little below 100
    assert report.title.vmaf.mean == pytest.approx(100.0, abs=0.5)
    assert report.title.vmaf.p5 == pytest.approx(100.0, abs=0.5)
    assert report.title.vmaf.minimum > 95.0
    assert report.title.psnr_y.minimum == 60.0  # libvmaf's cap for 8-bit, not infinity
    assert report.title.ssim is not None
    assert report.title.ssim.minimum == pytest.approx(1.0, abs=1e-4)
    assert report.title.vmaf_phone is not None
    assert report.title.vmaf_phone.p5 == pytest.approx(100.0, abs=0.5)


def test_vmaf_only_pass_scores_the_same_vmaf(master: Path, ffmpeg_exe: str, tmp_path: Path) -> None:
    rung = _rung(ffmpeg_exe, master, "100k")
    full = _measure(ffmpeg_exe, rung, master, tmp_path / "full.json")
    job = QualityJob(rung, master, 320, 180, tmp_path / "vmaf.json", n_subsample=2, threads=1, ssim=False)
    lean = measure_quality(SubprocessRunner(), ffmpeg_exe, job, duration=SECONDS, frame_rate=Fraction(RATE))
    assert lean.title.ssim is None
    assert [f.vmaf for f in lean.frames] == [f.vmaf for f in full.frames]
    assert len(lean.segments) == 1
