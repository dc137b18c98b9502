"""GoPro GPMF telemetry from real camera files (../shared/data/gopro), through both backends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import av
import numpy as np
import pytest

from mtbsync_core.errors import GpsParseError
from mtbsync_core.gps import (
    estimate_clock_offset,
    get_backend,
    make_track,
    read_imu,
    read_track,
    video_start_utc,
)
from mtbsync_core.gps.read import creation_time_utc

GOPRO = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gopro"


@pytest.fixture(scope="module")
def gopro() -> Path:
    if not (GOPRO / "max-heromode.mp4").exists():
        reason = f"real GoPro samples not found at {GOPRO.resolve()} (shared data folder absent)"
        print(reason)
        pytest.skip(reason)
    return GOPRO


def test_max_gps5_fixes_and_timing(gopro):
    tr = read_track(gopro / "max-heromode.mp4")
    assert tr.source == "gpmf" and tr.clock == "video"
    assert len(tr) == 191 and (tr.fix == 3).all()
    assert 0.0 <= tr.t_s[0] < 0.1 and 10.3 < tr.t_s[-1] < 10.6
    assert np.all(np.diff(tr.t_s) > 0)
    assert abs(tr.rate_hz - 18.1) < 0.5  # GoPro GPS5 runs at ~18 Hz
    np.testing.assert_allclose([tr.lat_deg[0], tr.lon_deg[0]], [33.12677, -117.3273436])
    assert abs(tr.ele_m[0] - (-22.959)) < 1e-6 and abs(tr.speed_m_s[0] - 1.046) < 1e-6
    assert tr.camera == "GoPro Max"
    assert 5.0 < tr.length_m() < 30.0  # a short walk


def test_max_gps_time_gives_video_start_utc(gopro):
    # GPSU of the first payload reads 2019-11-18 23:45:14; the camera's creation_time tag is its
    # local clock (UTC-8) labelled UTC: 15:45:32 "Z".
    utc0 = video_start_utc(gopro / "max-heromode.mp4")
    expected = dt.datetime(2019, 11, 18, 23, 45, 15, tzinfo=dt.UTC).timestamp()
    assert abs(utc0 - expected) < 1.5
    created = creation_time_utc(gopro / "max-heromode.mp4")
    assert created == dt.datetime(2019, 11, 18, 15, 45, 32, tzinfo=dt.UTC).timestamp()
    assert video_start_utc(gopro / "max-heromode.mp4", source="creation_time") == created


def test_backends_agree_on_max(gopro):
    a = get_backend("gpmf-parser").read_gps(gopro / "max-heromode.mp4")
    b = get_backend("telemetry-parser").read_gps(gopro / "max-heromode.mp4")
    assert len(a) == len(b)
    np.testing.assert_allclose(a.lat_deg, b.lat_deg, atol=1e-7)
    np.testing.assert_allclose(a.lon_deg, b.lon_deg, atol=1e-7)
    assert np.median(np.abs(a.t_s - b.t_s)) < 0.5  # the two place samples in a payload differently
    assert abs(a.utc_at_video_zero_s - b.utc_at_video_zero_s) < 0.5
    assert b.camera == "GoPro Max"


def test_karma_has_imu_but_no_gps_fix(gopro):
    with pytest.raises(GpsParseError, match="no GPS"):
        read_track(gopro / "karma.mp4")
    imu = read_imu(gopro / "karma.mp4")
    assert len(imu.t_accl_s) > 2000 and len(imu.t_gyro_s) > 4000
    assert 150 < imu.accl_rate_hz < 220 and 300 < imu.gyro_rate_hz < 420
    g = np.linalg.norm(imu.accl_m_s2, axis=1)
    assert abs(np.median(g) - 9.81) < 0.5  # gravity, in m/s^2
    assert imu.t_accl_s[-1] == pytest.approx(12.0, abs=1.0)


def test_imu_backends_agree(gopro):
    a = get_backend("gpmf-parser").read_imu(gopro / "karma.mp4")
    b = get_backend("telemetry-parser").read_imu(gopro / "karma.mp4")
    assert b.camera == "GoPro HERO5 Black"
    assert len(a.t_gyro_s) == len(b.t_gyro_s)
    assert np.median(np.linalg.norm(a.gyro_rad_s, axis=1)) == pytest.approx(
        np.median(np.linalg.norm(b.gyro_rad_s, axis=1)), rel=0.02
    )


def test_raw_payloads(gopro):
    hero5 = read_track(gopro / "hero5.raw")
    assert hero5.clock == "video" and len(hero5) == 18 and (hero5.fix == 3).all()
    assert abs(hero5.lat_deg[0] - 33.1264969) < 1e-6
    with pytest.raises(GpsParseError, match="none with a 2D/3D fix"):
        read_track(gopro / "hero6.raw")
    assert len(read_imu(gopro / "hero6.raw").t_accl_s) > 100


def test_mp4_without_telemetry(tmp_path):
    path = tmp_path / "plain.mp4"
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=10)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        for _ in range(3):
            for pkt in st.encode(
                av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="bgr24")
            ):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    with pytest.raises(GpsParseError, match="no GoPro telemetry track"):
        read_track(path)
    assert video_start_utc(path, source="gps") is None


def _video_with_creation_time(path: Path, created: str) -> Path:
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        out.metadata["creation_time"] = created
        st = out.add_stream("libx264", rate=10)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        for _ in range(20):
            for pkt in st.encode(
                av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="bgr24")
            ):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    return path


def test_clock_offset_from_creation_time_detects_local_time(tmp_path):
    # The camera wrote its local clock (UTC+2) as UTC; the GPX (true UTC) covers the ride.
    video = _video_with_creation_time(tmp_path / "cam.mp4", "2024-05-01T10:00:00Z")
    t = dt.datetime(2024, 5, 1, 7, 55, tzinfo=dt.UTC).timestamp() + np.arange(900.0)
    gpx = make_track(t, np.full(900, 46.5), np.full(900, 7.9), source="gpx", clock="utc")
    off = estimate_clock_offset(gpx, video, video_duration_s=2.0)
    assert off.method == "creation_time+tz"
    assert off.offset_s == dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC).timestamp()
    # a track that already covers the tag's time keeps it as is
    gpx_utc = make_track(
        t + 2 * 3600, np.full(900, 46.5), np.full(900, 7.9), source="gpx", clock="utc"
    )
    assert estimate_clock_offset(gpx_utc, video, video_duration_s=2.0).method == "creation_time"


def test_clock_offset_video_clock_and_gps_time(gopro):
    own = read_track(gopro / "max-heromode.mp4")
    assert estimate_clock_offset(own).offset_s == 0.0
    as_utc = own.shifted(-own.utc_at_video_zero_s)  # what a GPX logged alongside would look like
    off = estimate_clock_offset(
        make_track(as_utc.t_s, as_utc.lat_deg, as_utc.lon_deg, source="gpx", clock="utc"),
        gopro / "max-heromode.mp4",
    )
    assert off.method == "gps-time" and off.offset_s == pytest.approx(own.utc_at_video_zero_s)
