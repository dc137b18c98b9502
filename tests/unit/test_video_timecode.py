"""Start timecode and exact frame rate read from real files (PyAV-written and GoPro)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from export_samples import encode_video

from mtbsync_core.errors import VideoOpenError
from mtbsync_core.video.timecode import read_start_timecode, read_video_rate, read_video_timing

GOPRO = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gopro"


@pytest.mark.parametrize(
    "fps,tc",
    [
        (Fraction(30000, 1001), "01:00:00;00"),
        (Fraction(25), "10:20:30:12"),
        (Fraction(24000, 1001), "00:59:59:23"),
        (Fraction(60000, 1001), "23:10:00;40"),
    ],
)
def test_tmcd_track_written_by_pyav_is_read(tmp_path, fps, tc):
    p = tmp_path / "tc.mp4"
    encode_video(p, fps, 6, size=(64, 48), timecode=tc)
    assert read_start_timecode(p) == tc
    assert read_video_rate(p) == fps
    timing = read_video_timing(p)
    assert (timing.width, timing.height, timing.start_tc) == (64, 48, tc)
    assert timing.duration_s == pytest.approx(6 / float(fps), abs=1e-3)


def test_video_without_timecode(tmp_path):
    p = tmp_path / "plain.mp4"
    encode_video(p, Fraction(30), 3, size=(64, 48))
    assert read_start_timecode(p) is None
    assert read_video_rate(p) == Fraction(30)


def test_not_a_video(tmp_path):
    p = tmp_path / "x.mp4"
    p.write_text("not a video")
    with pytest.raises(VideoOpenError, match="x.mp4"):
        read_video_rate(p)
    with pytest.raises(VideoOpenError, match="does not exist"):
        read_start_timecode(tmp_path / "missing.mp4")


@pytest.mark.parametrize(
    "name,tc", [("karma.mp4", "19:26:48:04"), ("max-heromode.mp4", "15:44:35:10")]
)
def test_gopro_files_carry_their_timecode(name, tc):
    path = GOPRO / name
    if not path.is_file():
        pytest.skip(f"real GoPro sample {path} is absent (see ../shared/data/gopro/README.md)")
    assert read_start_timecode(path) == tc
    assert read_video_rate(path) == Fraction(30000, 1001)
