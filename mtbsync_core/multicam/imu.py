"""IMU sync of two cameras on one bike or rider: the same bumps reach both gyroscopes.

Two cameras fixed to one rigid body (helmet + bar is not rigid, but the trail's jolts still reach
both) turn together, so their angular rates agree up to the mount's fixed rotation. The
rotation-free gyro magnitude ``|omega|`` is compared:

1. Each camera's gyro samples are placed on a uniform grid (``rate_hz``) from their own GPMF
   timestamps (payload times, not sample index over a nominal rate), the slow part removed.
2. Coarse: one normalised cross-correlation over all lags; its peak must stand out of the
   correlation's own noise (``min_z``) and above any peak elsewhere (``min_ratio``).
3. Fine: windows across the overlap, each correlated near the coarse lag, the peak interpolated
   to a fraction of a sample; a robust line through the windows gives offset and drift (drift
   only when the windows span ``drift_min_span_s``, and shrunk towards 0 by its own standard
   error against a prior spread ``drift_prior_ppm``). The windows must agree, else ``ambiguous``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft
from scipy.interpolate import CubicSpline
from scipy.ndimage import uniform_filter1d

from ..gps.track import Imu
from .solve import PairEstimate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImuParams:
    """Tuning of :func:`estimate_imu_pair` (seconds, Hz, ppm)."""

    rate_hz: float = 1000.0
    detrend_s: float = 0.5
    min_z: float = 8.0
    min_ratio: float = 1.3
    exclude_s: float = 0.25  # a rival peak must be this far from the best one
    fine_window_s: float = 3.0
    fine_search_s: float = 0.02
    min_windows: int = 3
    inlier_tol_s: float = 0.002
    min_inlier_share: float = 0.6
    drift_min_span_s: float = 4.0
    max_drift_ppm: float = 1000.0
    # the fitted drift is shrunk towards 0 by its own uncertainty against this prior spread of
    # crystal drift (1 sigma); 0 turns the shrinkage off
    drift_prior_ppm: float = 100.0
    window_overlap: float = 2.5  # the fine windows overlap: their residuals understate the error
    # opt-in: refine offset and drift by one weighted fit over the whole overlap, with the
    # accelerometer as well when both cameras carry one (:mod:`.imu_fit`)
    whole_fit: bool = False
    whole_fit_accel: bool = True


def _source(imu: Imu) -> tuple[np.ndarray, np.ndarray]:
    """Gyro samples sorted by time, or the accelerometer's when there is no gyro."""
    t, w = imu.t_gyro_s, imu.gyro_rad_s
    if len(t) < 16:
        t, w = imu.t_accl_s, imu.accl_m_s2
    order = np.argsort(t, kind="stable")
    return t[order], w[order]


def gyro_signal(imu: Imu, prm: ImuParams = ImuParams()) -> tuple[np.ndarray, np.ndarray, float]:
    """(|omega|, the three axes) on a uniform grid with their slow part removed, grid start (s).

    Samples are placed by their own timestamps; the magnitude is scaled to unit variance.
    """
    t, w = _source(imu)
    if len(t) < 16:
        return np.zeros(0), np.zeros((0, 3)), 0.0
    keep = np.concatenate([[True], np.diff(t) > 1e-6])  # a spline needs rising times
    t, w = t[keep], w[keep]
    grid = np.arange(t[0], t[-1], 1.0 / prm.rate_hz)
    axes = CubicSpline(t, w[:, :3], axis=0)(grid)  # linear would bend fractional delays
    size = max(3, int(prm.detrend_s * prm.rate_hz))
    mag = np.linalg.norm(axes, axis=1)
    mag = mag - uniform_filter1d(mag, size, mode="nearest")
    axes = axes - uniform_filter1d(axes, size, axis=0, mode="nearest")
    return mag / (np.std(mag) + 1e-12), axes, float(grid[0]) if len(grid) else 0.0


def _mount_rotation(xa: np.ndarray, ya: np.ndarray, lag: int) -> np.ndarray:
    """Rotation R with ``R @ cam axes ~ ref axes`` over the overlap at ``lag`` (Kabsch)."""
    lo, hi = max(0, -lag), min(len(ya), len(xa) - lag)
    if hi - lo < 16:
        return np.eye(3)
    a, b = xa[lo + lag : hi + lag], ya[lo:hi]
    u, _, vt = np.linalg.svd(b.T @ a)
    d = np.sign(np.linalg.det(u @ vt))
    return (u @ np.diag([1.0, 1.0, d]) @ vt).T


def _xcorr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Normalised correlation r[k] ~ corr(x[n + k - (len(y) - 1)], y[n]) over all lags."""
    n = sfft.next_fast_len(len(x) + len(y))
    r = sfft.irfft(sfft.rfft(x, n) * np.conj(sfft.rfft(y, n)), n)
    r = np.concatenate([r[n - len(y) + 1 :], r[: len(x)]])
    ones_x, ones_y = np.ones(len(x)), np.ones(len(y))
    cnt = np.convolve(ones_x, ones_y[::-1])  # overlap length at each lag
    return r / np.maximum(cnt, 1.0)


def _coarse(x: np.ndarray, y: np.ndarray, prm: ImuParams, min_overlap: int):
    """(lag in samples of y's start on x's grid, z, ratio) of the best overlap."""
    r = _xcorr(x, y)
    cnt = np.convolve(np.ones(len(x)), np.ones(len(y)))
    r[cnt < min_overlap] = 0.0
    # weight by the overlap's evidence: a short overlap's correlation is noisier
    score = r * np.sqrt(cnt)
    k = int(np.argmax(score))
    excl = int(prm.exclude_s * prm.rate_hz)
    rest = score.copy()
    rest[max(0, k - excl) : k + excl + 1] = -np.inf
    valid = rest[np.isfinite(rest) & (cnt >= min_overlap)]
    med = float(np.median(valid)) if len(valid) else 0.0
    sigma = 1.4826 * float(np.median(np.abs(valid - med))) + 1e-12 if len(valid) else 1.0
    z = (score[k] - med) / sigma
    ratio = (score[k] - med) / max(float(valid.max()) - med, 1e-12) if len(valid) else np.inf
    return k - (len(y) - 1), float(z), float(ratio)


def _fine(x: np.ndarray, y: np.ndarray, lag: int, prm: ImuParams) -> np.ndarray:
    """Rows (window centre on y's grid in samples, lag in samples, peak corr) across the overlap.

    ``x`` and ``y`` are (n, axes) arrays; the correlation sums over the axes.
    """
    win = int(prm.fine_window_s * prm.rate_hz)
    m = int(prm.fine_search_s * prm.rate_hz)
    lo, hi = max(0, -lag + m), min(len(y), len(x) - lag - m)
    if hi - lo < win:
        win = (hi - lo) // 2
    if win < int(0.5 * prm.rate_hz):
        return np.zeros((0, 3))
    rows = []
    for s in np.unique(
        np.linspace(lo, hi - win, max(prm.min_windows, 2 * (hi - lo) // win)).astype(int)
    ):
        seg = y[s : s + win]
        ref = x[s + lag - m : s + lag + m + win]
        r = np.array([float(np.sum(seg * ref[k : k + win])) for k in range(2 * m + 1)]) / win
        k = int(np.argmax(r))
        if k in (0, 2 * m):
            continue
        a, b, c = r[k - 1], r[k], r[k + 1]
        den = a - 2 * b + c
        kf = k + 0.5 * (a - c) / den if den < 0 else float(k)
        rows.append((s + win / 2, lag + kf - m, b))
    return np.asarray(rows, float).reshape(-1, 3)


def _shrink_drift(
    t: np.ndarray, o: np.ndarray, drift: float, a: float, prm: ImuParams
) -> tuple[float, float]:
    """(drift, intercept) with the drift shrunk towards 0 by its standard error (Gaussian prior).

    On short clips a few noisy windows leave the slope poorly fixed (GoPro MAX clips of 8-10 s:
    up to 350 ppm off); the prior keeps such a slope near 0 and leaves a well-measured one.
    """
    if prm.drift_prior_ppm <= 0 or len(t) < 3:
        return drift, a
    res = o - a - drift * t
    se2 = float(np.sum(res**2)) / (len(t) - 2 if len(t) > 2 else 1)
    se2 *= prm.window_overlap / max(float(np.sum((t - t.mean()) ** 2)), 1e-12)
    p2 = (prm.drift_prior_ppm * 1e-6) ** 2
    drift *= p2 / (p2 + se2)
    return drift, float(np.mean(o - drift * t))


def _whole(
    ref: Imu, cam: Imu, off: float, drift: float, t: np.ndarray, prm: ImuParams, why: str
) -> tuple[float, float, str]:
    """(offset, drift, note) refined over the whole overlap; the windowed ones when the fit
    fails or leaves the windows' clock by more than ``inlier_tol_s`` within their span."""
    from .imu_fit import refine_whole

    fit = refine_whole(
        ref,
        cam,
        off,
        drift * 1e6,
        rate_hz=prm.rate_hz,
        detrend_s=prm.detrend_s,
        drift_prior_ppm=prm.drift_prior_ppm,
        accel=prm.whole_fit_accel,
    )
    if fit is None:
        return off, drift, why
    d = float(np.clip(fit.drift_ppm, -prm.max_drift_ppm, prm.max_drift_ppm)) * 1e-6
    if np.max(np.abs(fit.offset_s + d * t - off - drift * t)) > prm.inlier_tol_s:
        return off, drift, why
    note = f"whole-overlap fit on {' + '.join(fit.sensors)}, drift +-{fit.drift_sd_ppm:.0f} ppm"
    return fit.offset_s, d, note


def estimate_imu_pair(
    ref: Imu, cam: Imu, i: int = 0, j: int = 1, prm: ImuParams = ImuParams()
) -> PairEstimate:
    """Camera ``j`` (``cam``) on camera ``i``'s (``ref``) clock from their gyroscopes."""
    x, xa, x0 = gyro_signal(ref, prm)
    y, ya, y0 = gyro_signal(cam, prm)

    def fail(msg: str, **kw) -> PairEstimate:
        return PairEstimate(
            i,
            j,
            kw.get("off", 0.0),
            0.0,
            0.0,
            "ambiguous",
            "imu",
            message=msg,
            n_windows=kw.get("n", 0),
            n_inliers=kw.get("ni", 0),
        )

    sr = prm.rate_hz
    if len(x) < 2 * sr or len(y) < 2 * sr:
        return fail("too little IMU telemetry to correlate (under 2 s)")
    lag, z, ratio = _coarse(x, y, prm, int(min(len(x), len(y), 4 * sr) * 0.75))
    off0 = x0 + lag / sr - y0
    if z < prm.min_z or ratio < prm.min_ratio:
        return fail(
            f"gyroscopes do not agree (peak z {z:.1f}, {ratio:.2f}x the next): "
            "different rides, or no shared motion",
            off=off0,
        )
    rot = _mount_rotation(xa, ya, lag)
    rows = _fine(xa, ya @ rot.T, lag, prm)
    if len(rows) < 2:
        return fail("IMU overlap too short for fine windows", off=off0)
    t = y0 + rows[:, 0] / sr
    o = x0 + rows[:, 1] / sr - y0  # ref-minus-cam at cam time t
    med = float(np.median(o))
    inl = np.abs(o - med) < prm.inlier_tol_s
    span = float(t[inl].max() - t[inl].min()) if inl.any() else 0.0
    drift, why = 0.0, f"drift set to 0: the IMU windows span only {span:.1f} s"
    if inl.sum() >= 3 and span >= prm.drift_min_span_s:
        drift, a = np.polyfit(t[inl], o[inl], 1, w=np.sqrt(np.clip(rows[inl, 2], 1e-9, None)))
        drift, a = _shrink_drift(t[inl], o[inl], float(drift), float(a), prm)
        drift = float(np.clip(drift, -prm.max_drift_ppm * 1e-6, prm.max_drift_ppm * 1e-6))
        why = ""
        inl = np.abs(o - a - drift * t) < prm.inlier_tol_s
    off = float(np.median(o[inl] - drift * t[inl])) if inl.any() else med
    share = float(inl.mean())
    res = o - off - drift * t
    if share < prm.min_inlier_share or inl.sum() < 2:
        return fail(
            f"IMU windows disagree ({int(inl.sum())} of {len(o)} on one clock)",
            off=off,
            n=len(o),
            ni=int(inl.sum()),
        )
    conf = float(np.clip(share * min(1.0, (ratio - 1.0) / 1.0) * min(1.0, z / 20), 0.0, 1.0))
    msg = f"placed on the gyroscopes ({int(inl.sum())} of {len(o)} windows agree)"
    if prm.whole_fit:
        off, drift, why = _whole(ref, cam, off, drift, t, prm, why)
        res = o - off - drift * t
    msg += f" ({why})" if why else ""
    return PairEstimate(
        i,
        j,
        off,
        drift * 1e6,
        conf,
        "ok",
        "imu",
        tuple(float(v) for v in res),
        msg,
        len(o),
        int(inl.sum()),
        {"z": round(z, 2), "ratio": round(ratio, 2)},
    )
