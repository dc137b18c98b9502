"""Match a new track to a reference track by position along the reference path.

The reference fixes are smoothed (local linear regression in time) into a dense path
``P(t_ref)`` with arc length ``S(t_ref)``. Each new fix is projected onto that path; a monotone
dynamic programme over the candidate passes (plus an "off the path" state) picks one
consistent pass per fix, so switchbacks, loops and a lead-in elsewhere do not confuse it. The
along-path distances of the new fixes are then smoothed robustly in time, made non-decreasing,
and mapped back through ``S`` to reference time. All in the tracks' own clocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .track import Track, to_local_m

GRID_DT_S = 0.1  # spacing of the dense reference path and of the output samples
MIN_FIXES = 5
MIN_OVERLAP_S = 3.0


@dataclass(frozen=True)
class TrackMatch:
    """``u_ref_s = f(u_new_s)`` on the tracks' own clocks, with a per-sample error estimate."""

    u_new_s: np.ndarray  # (n,) increasing, GRID_DT_S apart
    u_ref_s: np.ndarray  # (n,) non-decreasing
    err_s: np.ndarray  # (n,) estimated 1-sigma error of u_ref_s, seconds
    confidence: np.ndarray  # (n,) 0..1
    details: dict[str, Any] = field(default_factory=dict)


def smooth_local_linear(
    t: np.ndarray, y: np.ndarray, t_out: np.ndarray, sigma_s: float, w: np.ndarray | None = None
) -> np.ndarray:
    """Gaussian-kernel local linear regression of ``y(t)`` evaluated at ``t_out`` (t sorted)."""
    w = np.ones_like(t) if w is None else w
    out = np.full(len(t_out), np.nan)
    half = 4.0 * sigma_s
    lo_idx = np.searchsorted(t, t_out - half)
    hi_idx = np.searchsorted(t, t_out + half)
    for c0 in range(0, len(t_out), 1024):
        c1 = min(c0 + 1024, len(t_out))
        a, b = lo_idx[c0:c1].min(), hi_idx[c0:c1].max()
        if b <= a:
            continue
        dt = t[a:b][None, :] - t_out[c0:c1, None]
        k = np.exp(-0.5 * (dt / sigma_s) ** 2) * w[a:b][None, :]
        s0, s1, s2 = k.sum(1), (k * dt).sum(1), (k * dt * dt).sum(1)
        ky = k * y[a:b][None, :]
        m0, m1 = ky.sum(1), (ky * dt).sum(1)
        det = s0 * s2 - s1 * s1
        ok = (s0 > 1e-6) & (det > 1e-9 * np.maximum(s0 * s2, 1e-12))
        lin = (s2 * m0 - s1 * m1) / np.where(ok, det, 1.0)
        mean = m0 / np.where(s0 > 1e-6, s0, 1.0)
        out[c0:c1] = np.where(ok, lin, np.where(s0 > 1e-6, mean, np.nan))
    return out


@dataclass(frozen=True)
class RefPath:
    """The smoothed reference path sampled every GRID_DT_S seconds of reference time."""

    t_s: np.ndarray
    xy_m: np.ndarray  # (n, 2)
    s_m: np.ndarray  # (n,) arc length, non-decreasing
    sd_m: np.ndarray | None = None  # (n,) 1-sigma along-path uncertainty, when known


def build_ref_path(t_s: np.ndarray, x_m: np.ndarray, y_m: np.ndarray, sigma_s: float) -> RefPath:
    """Smooth the reference fixes and sample the path densely with its arc length."""
    grid = np.arange(t_s[0], t_s[-1] + 1e-9, GRID_DT_S)
    px = smooth_local_linear(t_s, x_m, grid, sigma_s)
    py = smooth_local_linear(t_s, y_m, grid, sigma_s)
    xy = np.column_stack([px, py])
    step = np.hypot(np.diff(px), np.diff(py))
    return RefPath(grid, xy, np.concatenate([[0.0], np.cumsum(step)]))


def _candidates(path: RefPath, tree, xy: np.ndarray, radius_m: float, k_max: int = 6):
    """Per fix: arrays (path index, distance) of the nearest point of each nearby pass."""
    out = []
    for p, idx in zip(xy, tree.query_ball_point(xy, radius_m), strict=True):
        if not idx:
            out.append((np.zeros(0, np.int64), np.zeros(0)))
            continue
        idx = np.sort(np.asarray(idx))
        d = np.hypot(*(path.xy_m[idx] - p).T)
        breaks = np.flatnonzero(np.diff(idx) > 3) + 1
        best = [
            seg[np.argmin(dseg)]
            for seg, dseg in zip(np.split(idx, breaks), np.split(d, breaks), strict=True)
        ]
        best = np.asarray(best)
        dist = np.hypot(*(path.xy_m[best] - p).T)
        order = np.argsort(dist)[:k_max]
        out.append((best[order], dist[order]))
    return out


def monotone_assign(
    path: RefPath,
    cands,
    t_new: np.ndarray,
    sigma_m: float,
    back_tol_m: float,
    v_max_m_s: float = 30.0,
) -> np.ndarray:
    """Viterbi over candidate passes + an off-path state; returns path index per fix or -1."""
    off_cost, switch = 4.5, 1.5
    n = len(cands)
    costs: list[np.ndarray] = []
    backs: list[np.ndarray] = []
    prev_idx = np.zeros(0, np.int64)
    prev_cost = np.zeros(1)  # last entry is the off state
    for i in range(n):
        idx, dist = cands[i]
        unary = np.append(0.5 * (dist / sigma_m) ** 2, off_cost)
        s_now = path.s_m[idx]
        dt = t_new[i] - t_new[i - 1] if i else 1.0
        trans = np.full((len(prev_cost), len(idx) + 1), np.inf)
        if len(prev_idx):
            ds = s_now[None, :] - path.s_m[prev_idx][:, None]
            ok = (ds >= -back_tol_m) & (ds <= v_max_m_s * max(dt, 0.1) + back_tol_m)
            trans[:-1, :-1] = np.where(ok, np.maximum(-ds, 0.0) / back_tol_m, np.inf)
            trans[:-1, -1] = switch
        trans[-1, :-1] = switch
        trans[-1, -1] = 0.0
        total = prev_cost[:, None] + trans
        back = np.argmin(total, axis=0)
        prev_cost = total[back, np.arange(total.shape[1])] + unary
        costs.append(prev_cost)
        backs.append(back)
        prev_idx = idx
    state = int(np.argmin(costs[-1]))
    out = np.full(n, -1, np.int64)
    for i in range(n - 1, -1, -1):
        idx = cands[i][0]
        out[i] = idx[state] if state < len(idx) else -1
        state = int(backs[i][state])
    return out


def project_exact(path: RefPath, xy: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Continuous arc length and distance of each fix projected onto the segments around ``j``."""
    s_best, d_best = np.full(len(xy), np.nan), np.full(len(xy), np.inf)
    last = len(path.s_m) - 1
    for off in (-1, 0):
        a = np.clip(j + off, 0, last - 1)
        p0, p1 = path.xy_m[a], path.xy_m[a + 1]
        seg = p1 - p0
        L2 = np.maximum((seg * seg).sum(1), 1e-12)
        u = np.clip(((xy - p0) * seg).sum(1) / L2, 0.0, 1.0)
        d = np.hypot(*(p0 + u[:, None] * seg - xy).T)
        s = path.s_m[a] + u * (path.s_m[a + 1] - path.s_m[a])
        better = d < d_best
        s_best, d_best = np.where(better, s, s_best), np.where(better, d, d_best)
    return s_best, d_best


def project_near(
    path: RefPath, xy: np.ndarray, j: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`project_exact` over the ``2 * window`` segments around each ``j``."""
    s_best, d_best = np.full(len(xy), np.nan), np.full(len(xy), np.inf)
    for off in range(-window, window):
        s, d = project_exact(path, xy, j + off)
        better = d < d_best
        s_best, d_best = np.where(better, s, s_best), np.where(better, d, d_best)
    return s_best, d_best


def local_xy(ref: Track, new: Track) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2) east/north metres of both tracks around the reference's first fix."""
    lat0, lon0 = float(ref.lat_deg[0]), float(ref.lon_deg[0])
    rx, ry = to_local_m(ref.lat_deg, ref.lon_deg, lat0, lon0)
    nx, ny = to_local_m(new.lat_deg, new.lon_deg, lat0, lon0)
    return np.column_stack([rx, ry]), np.column_stack([nx, ny])


def smoothing_sigma_s(track: Track) -> float:
    """Kernel width: about 1.5 fixes at 1 Hz, never below 1 s (fast GPS is correlated noise)."""
    return max(1.0, 1.5 / max(track.rate_hz, 1e-3))


def robust_sigma(x: np.ndarray) -> float:
    """1.4826 * median absolute deviation (0 for an empty array)."""
    return float(1.4826 * np.median(np.abs(x - np.median(x)))) if len(x) else 0.0


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the True runs of ``mask``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def clean_on_path(on: np.ndarray, min_run: int = 3) -> np.ndarray:
    """Drop on-path runs shorter than ``min_run`` fixes (isolated blips)."""
    keep = np.zeros_like(on)
    for a, b in runs_of(on):
        if b - a >= min_run:
            keep[a:b] = True
    return keep


def gap_to_nearest(t_fix: np.ndarray, t_out: np.ndarray) -> np.ndarray:
    """Seconds from each output time to the nearest fix time."""
    i = np.clip(np.searchsorted(t_fix, t_out), 1, len(t_fix) - 1)
    return np.minimum(np.abs(t_out - t_fix[i - 1]), np.abs(t_fix[i] - t_out))


def as_json_number(x: float, nd: int = 3) -> float | None:
    """Round for a report; NaN / inf become None."""
    return round(float(x), nd) if math.isfinite(x) else None
