"""Whole-overlap refinement of an IMU pair's clock (offset and drift), gyro and accelerometer.

Opt-in (``ImuParams(whole_fit=True)``). The windowed estimate of :mod:`.imu` places the pair; this
refines it with one weighted least-squares fit over the whole overlap:

* each sensor (gyro; the accelerometer too when both cameras carry one) is put on a uniform grid
  from its own timestamps, its slow part removed (gravity and bias for the accelerometer);
* the model is ``cam(u) = R ref(offset + (1 + drift) u)`` with the mount rotation ``R`` solved
  by Kabsch at each step (per sensor, so differing axis conventions do not matter);
* Gauss-Newton on (offset, drift), with every residual weighted by the inverse of its own
  spectrum (generalised least squares: a vibration band counts for little), up to 0.45 of the
  slower sensor's rate, and the samples within half a detrend length of either camera's ends
  left out (there the two cameras' detrended signals differ);
* the drift has a Gaussian prior of ``ImuParams.drift_prior_ppm`` around 0, so a drift the data
  cannot fix (short, noisy clips) stays near 0, and a well-measured one is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft
from scipy.interpolate import CubicSpline
from scipy.ndimage import uniform_filter1d

from ..gps.track import Imu


@dataclass(frozen=True)
class WholeFit:
    """Refined ``offset_s`` (at cam time 0), ``drift_ppm``; 1-sigma errors (offset: at the middle)."""

    offset_s: float
    drift_ppm: float
    offset_sd_s: float
    drift_sd_ppm: float
    sensors: tuple[str, ...]


def _grid(t: np.ndarray, v: np.ndarray, rate_hz: float, detrend_s: float):
    """(samples on a uniform grid with the slow part removed, grid start s, sample rate Hz)."""
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    keep = np.concatenate([[True], np.diff(t) > 1e-6])
    t, v = t[keep], v[keep]
    grid = np.arange(t[0], t[-1], 1.0 / rate_hz)
    axes = CubicSpline(t, v[:, :3], axis=0)(grid)
    axes = axes - uniform_filter1d(axes, max(3, int(detrend_s * rate_hz)), axis=0, mode="nearest")
    return axes, float(grid[0]), (len(t) - 1) / float(t[-1] - t[0])


def _sensors(ref: Imu, cam: Imu, accel: bool) -> list[tuple[str, tuple, tuple]]:
    pairs = [("gyro", (ref.t_gyro_s, ref.gyro_rad_s), (cam.t_gyro_s, cam.gyro_rad_s))]
    if accel:
        pairs.append(("accel", (ref.t_accl_s, ref.accl_m_s2), (cam.t_accl_s, cam.accl_m_s2)))
    return [p for p in pairs if len(p[1][0]) >= 16 and len(p[2][0]) >= 16]


def refine_whole(
    ref: Imu,
    cam: Imu,
    offset_s: float,
    drift_ppm: float,
    *,
    rate_hz: float = 1000.0,
    detrend_s: float = 0.5,
    drift_prior_ppm: float = 100.0,
    accel: bool = True,
    band_rel: float = 0.45,
    iters: int = 8,
) -> WholeFit | None:
    """Refine ``offset_s`` / ``drift_ppm`` (ref time = offset + (1 + drift) cam time) over the
    whole overlap; None when there is under 2 s of overlap."""
    data = []
    for name, (tr, vr), (tc, vc) in _sensors(ref, cam, accel):
        xa, x0, fr = _grid(tr, vr, rate_hz, detrend_s)
        ya, y0, fc = _grid(tc, vc, rate_hz, detrend_s)
        tx = x0 + np.arange(len(xa)) / rate_hz
        spl = CubicSpline(tx, xa, axis=0)
        u = y0 + np.arange(len(ya)) / rate_hz
        data.append((name, spl, spl.derivative(), tx, ya, u, band_rel * min(fr, fc)))
    if not data:
        return None
    off, b = offset_s, drift_ppm * 1e-6
    tc = 0.5 * (data[0][5][0] + data[0][5][-1])  # drift pivots on the cam's middle
    prior = 1.0 / (drift_prior_ppm * 1e-6) ** 2 if drift_prior_ppm > 0 else 0.0
    edge = detrend_s / 2 + 0.05
    cov, used = None, ()
    for _ in range(iters):
        info, grad, used = np.zeros((2, 2)), np.zeros(2), ()
        for name, spl, dspl, tx, ya, u, fmax in data:
            tau = off + (1 + b) * u
            keep = (tau > tx[0] + edge) & (tau < tx[-1] - edge)
            keep &= (u > u[0] + edge) & (u < u[-1] - edge)
            idx = np.flatnonzero(keep)
            if len(idx) < 2 * rate_hz:
                continue
            lo, hi = idx[0], idx[-1] + 1
            x, dx, y = spl(tau[lo:hi]), dspl(tau[lo:hi]), ya[lo:hi]
            uu, _, vt = np.linalg.svd(x.T @ y)  # Kabsch: y ~ x @ rot
            rot = uu @ np.diag([1.0, 1.0, np.sign(np.linalg.det(uu @ vt))]) @ vt
            res, j_off = y - x @ rot, dx @ rot
            j_drift = j_off * (u[lo:hi] - tc)[:, None]
            n = sfft.next_fast_len(hi - lo)
            f = sfft.rfftfreq(n, 1.0 / rate_hz)
            r_f, o_f, d_f = (sfft.rfft(a, n, axis=0) for a in (res, j_off, j_drift))
            psd = np.sum(np.abs(r_f) ** 2, axis=1)
            psd = uniform_filter1d(psd, 2 * max(3, int(n / rate_hz)) + 1, mode="nearest")
            w = np.where((f > 0) & (f < fmax), 1.0 / np.maximum(psd, 1e-30), 0.0)[:, None]

            def dot(p, q, w=w):
                return float(np.sum(w * np.real(p * np.conj(q))))

            h = np.array([[dot(o_f, o_f), dot(o_f, d_f)], [dot(o_f, d_f), dot(d_f, d_f)]])
            s2 = dot(r_f, r_f) / max(3 * int(np.count_nonzero(w)), 1)  # per bin and axis
            info += 2.0 * h / s2
            grad += 2.0 * np.array([dot(o_f, r_f), dot(d_f, r_f)]) / s2
            used += (name,)
        if not used:
            return None
        a = info + np.diag([0.0, prior])
        d_off, d_b = np.linalg.solve(a, grad - np.array([0.0, prior * b]))
        off, b = off + d_off - d_b * tc, b + d_b
        cov = np.linalg.inv(a)
        if abs(d_off) < 1e-7 and abs(d_b) < 1e-9:
            break
    sd = np.sqrt(np.diag(cov))
    return WholeFit(float(off), float(b * 1e6), float(sd[0]), float(sd[1] * 1e6), used)
