"""GPMF-like gyro streams of a second camera on the same ride, with a known clock (tests, bench).

A real camera's gyroscope is the ride's motion. A second camera on the same bike sees the same
angular rate turned by its mount's fixed rotation, adds its own mount noise (white noise and a
resonant vibration) and samples on its own clock (offset, drift) in GPMF payloads: about one
payload a second whose samples are spread evenly between the payload's start and end times.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt
from scipy.spatial.transform import Rotation

from ..gps.track import Imu


def payload_times(start_s: float, end_s: float, rate_hz: float, seed: int) -> np.ndarray:
    """Sample times as a GPMF reader gives them: payloads of ~1 s, samples spread evenly."""
    rng = np.random.default_rng(seed)
    out, t = [], start_s
    while t < end_s:
        dur = 1.001 + rng.normal(0, 0.002)
        n = int(round(dur * rate_hz + rng.integers(-1, 2)))
        out.append(t + np.arange(n) * dur / n)
        t += dur
    times = np.concatenate(out)
    return times[times < end_s]


def mount_stream(
    ride: Imu,
    offset_s: float,
    drift_ppm: float,
    *,
    start_s: float = 0.0,
    end_s: float | None = None,
    rate_hz: float = 200.0,
    noise_rel: float = 0.3,
    vibration_rel: float = 0.3,
    rotation_seed: int | None = 0,
    seed: int = 0,
    with_accel: bool = False,
) -> Imu:
    """A second camera's gyro: ``ride`` time = ``offset_s`` + (1 + drift) * own time.

    Own time runs from 0; the stream covers ride times ``start_s`` .. ``end_s``. Noise levels are
    relative to the ride's gyro standard deviation. With ``with_accel`` (and a ride that has an
    accelerometer) the stream carries the accelerometer too, at the gyro's times, turned by the
    same mount, with noise at the same levels relative to the ride's accelerometer (its per-axis
    standard deviation).
    """
    t_ride, w_ride = ride.t_gyro_s, ride.gyro_rad_s
    end = float(t_ride[-1]) if end_s is None else end_s
    rate = 1.0 + drift_ppm * 1e-6
    own = payload_times((start_s - offset_s) / rate, (end - offset_s) / rate, rate_hz, seed)
    own = own[own >= 0]
    tau = offset_s + rate * own
    w = np.stack([np.interp(tau, t_ride, w_ride[:, k]) for k in range(3)], 1)
    if rotation_seed is not None:
        w = Rotation.random(random_state=rotation_seed).apply(w)
    rng = np.random.default_rng(seed + 1)
    level = float(np.std(w_ride))
    w = w + noise_rel * level * rng.standard_normal(w.shape)
    sos = butter(2, [0.3 * rate_hz / 2, 0.8 * rate_hz / 2], btype="band", fs=rate_hz, output="sos")
    vib = sosfiltfilt(sos, rng.standard_normal(w.shape), axis=0)
    w = w + vibration_rel * level * vib / (np.std(vib) + 1e-12)
    if not with_accel or len(ride.t_accl_s) < 16:
        return Imu(np.zeros(0), np.zeros((0, 3)), own, w)
    # the accelerometer: the same mount turns it (the lever arm between mounts is left out); its
    # own noise draws (another generator, so the gyro stream is the same with or without it)
    a = np.stack([np.interp(tau, ride.t_accl_s, ride.accl_m_s2[:, k]) for k in range(3)], 1)
    if rotation_seed is not None:
        a = Rotation.random(random_state=rotation_seed).apply(a)
    rng_a = np.random.default_rng(seed + 2)
    level_a = float(np.sqrt(np.mean(np.var(ride.accl_m_s2, axis=0))))
    a = a + noise_rel * level_a * rng_a.standard_normal(a.shape)
    vib_a = sosfiltfilt(sos, rng_a.standard_normal(a.shape), axis=0)
    a = a + vibration_rel * level_a * vib_a / (np.std(vib_a) + 1e-12)
    return Imu(own, a, own, w)


def crop(ride: Imu, start_s: float, end_s: float) -> Imu:
    """The ride's own gyro (and accelerometer) between two times, re-based to start at 0 (the reference camera)."""
    keep = (ride.t_gyro_s >= start_s) & (ride.t_gyro_s < end_s)
    ka = (ride.t_accl_s >= start_s) & (ride.t_accl_s < end_s)
    return Imu(
        ride.t_accl_s[ka] - start_s,
        ride.accl_m_s2[ka],
        ride.t_gyro_s[keep] - start_s,
        ride.gyro_rad_s[keep],
    )
