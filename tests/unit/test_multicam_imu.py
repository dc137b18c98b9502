"""IMU sync: two GoPros on one bike from their gyroscopes (real GPMF sample, derived second mount)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mtbsync_core.gps.read import read_imu
from mtbsync_core.multicam import sync_cameras
from mtbsync_core.multicam.imu import estimate_imu_pair
from mtbsync_core.multicam.synth_imu import crop, mount_stream, payload_times

GOPRO = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gopro"


def _ride(name: str):
    path = GOPRO / name
    if not path.exists():
        pytest.skip(f"real GoPro sample {path} is absent (shared data not mounted)")
    return read_imu(path)


@pytest.mark.parametrize("name", ["karma.mp4", "max-heromode.mp4"])
@pytest.mark.parametrize("seed", [0, 1])
def test_second_mount_is_placed_within_1ms(name, seed):
    ride = _ride(name)
    rng = np.random.default_rng(seed)
    end = float(ride.t_gyro_s[-1])
    a0, off_b, drift = rng.uniform(0, 1), rng.uniform(0.5, 2.0), rng.uniform(-200, 200)
    ref = crop(ride, a0, end - 0.5)
    cam = mount_stream(
        ride, off_b, drift, start_s=off_b, end_s=end - 0.2, rotation_seed=seed, seed=seed
    )
    est = estimate_imu_pair(ref, cam)
    assert est.status == "ok", est.message
    assert est.method == "imu"
    t = np.linspace(0, float(cam.t_gyro_s[-1]), 30)
    truth = off_b - a0 + (1 + drift * 1e-6) * t
    assert np.max(np.abs(est.offset_s + (1 + est.drift_ppm * 1e-6) * t - truth)) < 0.001


def test_gyro_timing_comes_from_timestamps_not_sample_count():
    ride = _ride("karma.mp4")
    ref = crop(ride, 0.0, 12.0)
    cam = mount_stream(ride, 1.0, 0.0, start_s=1.0, rotation_seed=3, seed=3)
    # drop every 7th sample: a count-based clock would slide, timestamps keep their place
    keep = np.ones(len(cam.t_gyro_s), bool)
    keep[::7] = False
    thinned = type(cam)(cam.t_accl_s, cam.accl_m_s2, cam.t_gyro_s[keep], cam.gyro_rad_s[keep])
    est = estimate_imu_pair(ref, thinned)
    assert est.status == "ok"
    assert abs(est.offset_s - 1.0) < 0.001


def test_different_rides_are_ambiguous():
    karma, mx = _ride("karma.mp4"), _ride("max-heromode.mp4")
    for seed in range(3):
        est = estimate_imu_pair(
            crop(karma, 0, 12), mount_stream(mx, 0.5, 80, start_s=0.5, seed=seed)
        )
        assert est.status == "ambiguous", est.message
    # the same ride at moments that do not overlap
    est = estimate_imu_pair(crop(karma, 0, 5.5), mount_stream(karma, 6.5, 0, start_s=6.5, seed=4))
    assert est.status == "ambiguous"
    assert "do not agree" in est.message


def test_payload_times_are_gpmf_like():
    t = payload_times(0.0, 10.0, 200.0, seed=1)
    assert 1950 < len(t) < 2050 and np.all(np.diff(t) > 0)


def test_sync_cameras_by_imu_on_two_real_rides_is_ambiguous_not_wrong():
    karma, mx = GOPRO / "karma.mp4", GOPRO / "max-heromode.mp4"
    if not karma.exists():
        pytest.skip(f"real GoPro sample {karma} is absent (shared data not mounted)")
    res = sync_cameras([karma, mx], method="imu")
    cam = res.cameras[1]
    assert cam.status == "ambiguous" and cam.method == "imu"
    assert "gyroscopes do not agree" in cam.message


def test_sync_cameras_by_imu_without_telemetry_names_the_file(tmp_path):
    from mtbsync_core.errors import MulticamError
    from mtbsync_core.multicam.synth import CamSpec, make_camera_set

    truths = make_camera_set(
        tmp_path, [CamSpec("a", 0.0, 0.0, duration_s=2.0), CamSpec("b", 0.5, 0.0, duration_s=2.0)]
    )
    with pytest.raises(MulticamError, match="no gyroscope telemetry"):
        sync_cameras([t.path for t in truths], method="imu")


def test_cli_method_imu_on_two_real_rides_exits_4_with_the_reason(tmp_path, capsys):
    from mtbsync_core.cli import main

    karma, mx = GOPRO / "karma.mp4", GOPRO / "max-heromode.mp4"
    if not karma.exists():
        pytest.skip(f"real GoPro sample {karma} is absent (shared data not mounted)")
    rc = main(["multicam", "sync", str(karma), str(mx), "--method", "imu", "--out", str(tmp_path)])
    assert rc == 4
    assert "gyroscopes do not agree" in capsys.readouterr().err
    assert (tmp_path / "multicam.json").exists()


def test_drift_shrinks_only_when_the_windows_leave_it_uncertain():
    import numpy as np

    from mtbsync_core.multicam.imu import ImuParams, _shrink_drift

    t = np.linspace(1.5, 8.0, 6)
    exact = 0.5 + 150e-6 * t
    d, a = _shrink_drift(
        t, exact + 1e-6 * np.array([1, -1, 1, -1, 1, -1]), 150e-6, 0.5, ImuParams()
    )
    assert abs(d - 150e-6) < 1e-6 and abs(a - 0.5) < 1e-5
    noisy = exact + 1e-3 * np.array([1, -1, 0.5, -0.8, 1, -1])
    d, a = _shrink_drift(t, noisy, 150e-6, 0.5, ImuParams())
    assert 0 < d < 100e-6
    off = ImuParams(drift_prior_ppm=0.0)
    assert _shrink_drift(t, noisy, 150e-6, 0.5, off) == (150e-6, 0.5)


def test_whole_fit_recovers_drift_that_the_windows_cannot_and_uses_the_accelerometer():
    # a noise-free second mount on the 10-s GoPro MAX walk with 180 ppm drift: the windows'
    # line is shrunk by the prior; one fit over the whole overlap (gyro + accelerometer) fixes it
    from mtbsync_core.multicam.imu import ImuParams
    from mtbsync_core.multicam.imu_fit import refine_whole

    ride = _ride("max-heromode.mp4")
    end = float(ride.t_gyro_s[-1])
    ref = crop(ride, 0.3, end - 0.3)
    cam = mount_stream(
        ride, 1.0, 180.0, start_s=1.0, end_s=end - 0.2, noise_rel=0.0, vibration_rel=0.0,
        rotation_seed=2, seed=2, with_accel=True,
    )  # fmt: skip
    assert len(cam.t_accl_s) == len(cam.t_gyro_s) and len(ref.t_accl_s) > 0
    fit = refine_whole(ref, cam, 0.7, 0.0)
    assert fit is not None and fit.sensors == ("gyro", "accel")
    assert abs(fit.drift_ppm - 180.0) < 15.0 and abs(fit.offset_s - 0.7) < 1e-4
    est = estimate_imu_pair(ref, cam, prm=ImuParams(whole_fit=True))
    assert est.status == "ok" and "whole-overlap fit on gyro + accel" in est.message
    t = np.linspace(0, float(cam.t_gyro_s[-1]), 30)
    truth = 0.7 + (1 + 180e-6) * t
    assert np.max(np.abs(est.offset_s + (1 + est.drift_ppm * 1e-6) * t - truth)) < 2e-4
    # without an accelerometer the gyro alone is fitted; the gyro stream is the same
    gyro_only = mount_stream(
        ride, 1.0, 180.0, start_s=1.0, end_s=end - 0.2, noise_rel=0.0, vibration_rel=0.0,
        rotation_seed=2, seed=2,
    )  # fmt: skip
    assert np.array_equal(gyro_only.gyro_rad_s, cam.gyro_rad_s)
    assert refine_whole(ref, gyro_only, 0.7, 0.0).sensors == ("gyro",)
