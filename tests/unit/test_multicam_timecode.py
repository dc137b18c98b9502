"""Start clocks: MP4 tmcd timecode written by PyAV, real GoPro files, creation_time as a coarse check."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from mtbsync_core.multicam import sync_cameras
from mtbsync_core.multicam.timecode import estimate_clock_pair, read_start_clocks

GOPRO = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gopro"


def _write(path: Path, timecode: str, n: int = 90) -> None:
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=30)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        vs.metadata["timecode"] = timecode
        for i in range(n):
            f = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i % 255, np.uint8), format="bgr24")
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)


def test_timecode_sync_of_two_files(tmp_path):
    _write(tmp_path / "a.mp4", "10:00:00:00")
    _write(tmp_path / "b.mp4", "10:00:01:15")  # 1.5 s later at 30 fps
    res = sync_cameras([tmp_path / "a.mp4", tmp_path / "b.mp4"], method="timecode")
    b = res.camera("b")
    assert b.status == "ok" and b.method == "timecode"
    assert abs(b.offset_s - 1.5) < 1e-9 and b.drift_ppm == 0.0
    assert res.params["clock_check"]["b"]["clock"] == "timecode"


def test_timecode_across_days_is_not_used():
    ref = {"timecode": 100.0, "creation_time": 1_700_000_000.0}
    cam = {"timecode": 160.0, "creation_time": 1_700_000_000.0 + 3 * 86400}
    est = estimate_clock_pair(ref, cam)
    assert est.status == "ambiguous" and "creation_time" in est.message  # falls to the coarse clock


def test_real_gopro_clocks():
    if not GOPRO.is_dir():
        pytest.skip(f"real GoPro samples not found at {GOPRO}")
    karma = read_start_clocks(GOPRO / "karma.mp4", 29.97)
    frames = (19 * 3600 + 26 * 60 + 48) * 30 + 4  # 19:26:48:04, non-drop at 30000/1001
    assert abs(karma["timecode"] - frames * 1001 / 30000) < 1e-6
    assert "creation_time" in karma
    hero = read_start_clocks(GOPRO / "max-heromode.mp4", 29.97)
    assert "gps" in hero and hero["gps"] > 1.5e9  # UTC from GPMF GPSU / GPS9
    assert estimate_clock_pair(karma, hero).status == "ambiguous"  # different days: coarse only
