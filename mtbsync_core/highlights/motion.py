"""Jumps, drops and crashes from the accelerometer and gyroscope.

A camera in free fall measures almost no acceleration, whatever its orientation: a jump or drop
is a stretch where |a| stays well below 1 g for at least ``min_airtime_s`` and ends in a landing
spike. Its edges are placed at the level half-way between the air and 1 g, interpolated between
samples, so airtime is not biased by the smoothing. A jump's take-off has a pop (the rider
compresses into the lip, |a| above 1 g); rolling off a drop has none. A crash is a violent impact
followed by the camera lying (nearly) still or turned well away from how it was carried.
"""

from __future__ import annotations

import math

import numpy as np

from .model import Event, HighlightParams
from .signals import G_M_S2, RunSignals, accel_g


def _moving_mean(x: np.ndarray, n: int) -> np.ndarray:
    if n <= 1 or len(x) < n:
        return x.astype(np.float64)
    c = np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])
    m = (c[n:] - c[:-n]) / n
    left = (n - 1) // 2
    return np.concatenate([np.full(left, m[0]), m, np.full(len(x) - len(m) - left, m[-1])])


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index runs ``[s, e)`` where ``mask`` is true."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def bridge(runs: list[tuple[int, int]], gap: int) -> list[tuple[int, int]]:
    """Join runs separated by fewer than ``gap`` samples."""
    out: list[tuple[int, int]] = []
    for s, e in runs:
        if out and s - out[-1][1] < gap:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _crossing(t: np.ndarray, a: np.ndarray, i: int, j: int, level: float) -> float:
    """Time where ``a`` crosses ``level`` between samples ``i`` and ``j`` (linear)."""
    da = a[j] - a[i]
    f = 0.5 if da == 0 else float(np.clip((level - a[i]) / da, 0.0, 1.0))
    return float(t[i] + f * (t[j] - t[i]))


def _edges(t, a3, s: int, e: int, level: float, reach: int) -> tuple[float, float]:
    """Take-off and landing times around the air run ``[s, e)`` at ``level``."""
    i = s
    while i > max(0, s - reach) and a3[i - 1] < level:
        i -= 1
    takeoff = _crossing(t, a3, i - 1, i, level) if i > 0 else float(t[0])
    j = e - 1
    while j < min(len(a3) - 1, e - 1 + reach) and a3[j + 1] < level:
        j += 1
    landing = _crossing(t, a3, j, j + 1, level) if j + 1 < len(a3) else float(t[-1])
    return takeoff, landing


def _height_loss(sig: RunSignals, t0: float, t1: float) -> float | None:
    """GPS height before take-off minus after landing (median over 0.5 s), or None."""
    if sig.ele_m is None or sig.t_gps_s is None:
        return None
    ok = np.isfinite(sig.ele_m)
    before = ok & (sig.t_gps_s >= t0 - 0.6) & (sig.t_gps_s <= t0 - 0.1)
    after = ok & (sig.t_gps_s >= t1 + 0.1) & (sig.t_gps_s <= t1 + 0.6)
    if not before.any() or not after.any():
        return None
    return float(np.median(sig.ele_m[before]) - np.median(sig.ele_m[after]))


def detect_air(sig: RunSignals, p: HighlightParams) -> list[Event]:
    """Jumps and drops: free fall followed by a landing spike (see the module docstring)."""
    t, a = accel_g(sig)
    if len(t) < 10:
        return []
    fs = (len(t) - 1) / max(t[-1] - t[0], 1e-9)
    a_s = _moving_mean(a, max(1, round(p.freefall_smooth_s * fs)))
    a3 = _moving_mean(a, 3)
    runs = bridge(runs_of(a_s < p.freefall_g), max(1, round(p.freefall_gap_s * fs)))
    out = []
    for s, e in runs:
        if t[e - 1] - t[s] < p.min_airtime_s:  # the free fall itself must last, not its edges
            continue
        air_g = float(np.median(a_s[s:e]))
        level = 0.5 * (air_g + 1.0)
        t0, t1 = _edges(t, a3, s, e, level, reach=max(2, round(0.1 * fs)))
        airtime = t1 - t0
        if airtime > p.max_airtime_s:
            continue
        land = (t >= t1) & (t <= t1 + p.landing_window_s)
        landing_g = float(a[land].max()) if land.any() else 0.0
        if landing_g < p.landing_g:
            continue
        lip = (t >= t0 - 0.3) & (t <= t0 - 0.04)
        lip_g = float(np.median(a[lip])) if lip.any() else 1.0
        loss = _height_loss(sig, t0, t1)
        kind = "jump" if lip_g >= p.lip_g else "drop"
        if loss is not None and loss >= p.drop_height_m:
            kind = "drop"
        reason = f"airtime {airtime * 1000:.0f} ms, landing {landing_g:.1f} g"
        reason += f", take-off {lip_g:.2f} g"
        if loss is not None:
            reason += f", GPS height loss {loss:.1f} m"
        details = {
            "airtime_ms": round(airtime * 1000, 1),
            "landing_g": round(landing_g, 2),
            "takeoff_g": round(lip_g, 2),
            "air_g": round(air_g, 3),
            "height_loss_m": None if loss is None else round(loss, 2),
        }
        score = 1.0 - math.exp(-airtime / 0.5)
        out.append(Event(kind, t0, t1, round(score, 3), reason, "imu", details))
    return out


def _span(t: np.ndarray, t0: float, t1: float) -> slice:
    """Indices of the sorted times ``t`` in ``[t0, t1)``."""
    return slice(int(np.searchsorted(t, t0)), int(np.searchsorted(t, t1)))


def _gravity_turn_deg(sig: RunSignals, t_before: tuple, t_after: tuple) -> float | None:
    """Angle between the mean acceleration vectors of two time spans (the gravity direction)."""
    b, f = _span(sig.t_accl_s, *t_before), _span(sig.t_accl_s, *t_after)
    if b.stop - b.start < 5 or f.stop - f.start < 5:
        return None
    u, v = sig.accl_m_s2[b].mean(axis=0), sig.accl_m_s2[f].mean(axis=0)
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu < 0.3 * G_M_S2 or nv < 0.3 * G_M_S2:
        return None
    return float(np.degrees(np.arccos(np.clip(u @ v / (nu * nv), -1, 1))))


def _still_from(sig: RunSignals, a_t, a, t_from: float, p: HighlightParams) -> float | None:
    """First time in [t_from, t_from + 3 s] from which the camera is still for ``crash_still_s``."""
    has_gyro = sig.gyro_rad_s is not None and len(sig.gyro_rad_s) > 10
    for start in np.arange(t_from, t_from + 3.0, 0.1):
        w = _span(a_t, start, start + p.crash_still_s)
        if w.stop - w.start < 10 or float(np.std(a[w])) >= p.crash_still_g:
            continue
        if has_gyro:
            g = _span(sig.t_gyro_s, start, start + p.crash_still_s)
            if g.stop > g.start:
                rate = np.degrees(np.linalg.norm(sig.gyro_rad_s[g], axis=1))
                if float(np.median(rate)) >= p.crash_still_dps:
                    continue
        return float(start)
    return None


def detect_crashes(sig: RunSignals, p: HighlightParams) -> list[Event]:
    """Violent impacts (>= ``crash_g``) followed by stillness or an orientation change."""
    t, a = accel_g(sig)
    if len(t) < 10:
        return []
    out: list[Event] = []
    last_end = -math.inf
    for s, e in runs_of(a >= p.crash_g):
        i = s + int(np.argmax(a[s:e]))
        t_hit, peak = float(t[i]), float(a[i])
        if t_hit < last_end:
            continue
        still = _still_from(sig, t, a, t_hit + 0.3, p)
        turn = _gravity_turn_deg(sig, (t_hit - 2.0, t_hit - 0.5), (t_hit + 2.5, t_hit + 4.5))
        turned = turn is not None and turn >= p.crash_turn_deg
        if still is None and not turned:
            continue
        end = still if still is not None else t_hit + 2.5
        why = [f"impact {peak:.1f} g"]
        if still is not None:
            why.append(f"still {still - t_hit:.1f} s after")
        if turn is not None:
            why.append(f"camera turned {turn:.0f} deg")
        score = min(
            1.0, 0.5 + 0.05 * (peak - p.crash_g) + 0.25 * (still is not None) + 0.25 * turned
        )
        details = {
            "peak_g": round(peak, 2),
            "t_impact_s": round(t_hit, 3),
            "still_after_s": None if still is None else round(still - t_hit, 2),
            "turn_deg": None if turn is None else round(turn, 1),
        }
        out.append(Event("crash", t_hit, end, round(score, 3), ", ".join(why), "imu", details))
        last_end = end + p.crash_still_s
    return out
