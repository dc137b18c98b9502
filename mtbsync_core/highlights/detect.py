"""Fast stretches from GPS speed, loud moments from the audio, and :func:`detect_events` over all.

``fast``: speed smoothed over 1 s at or above both ``fast_min_m_s`` and the run's own
``fast_quantile`` of moving speed (at most 90 % of its top speed, so that a run that is fast for
long still has a fast stretch), for ``fast_min_s``. ``loud``: the audio level (20 ms RMS every
10 ms) at ``loud_db`` over the run's noise floor (a rolling median over 10 s) with a sharp onset.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from scipy.ndimage import median_filter

from ..errors import HighlightError
from .model import DEFAULT_KINDS, KINDS, Event, HighlightParams
from .motion import bridge, detect_air, detect_crashes, runs_of
from .signals import RunSignals, audio_level_db

log = logging.getLogger(__name__)


def detect_fast(sig: RunSignals, p: HighlightParams) -> list[Event]:
    """Top-speed stretches from GPS speed (empty without GPS)."""
    if "gps" not in sig.sources:
        return []
    ok = np.isfinite(sig.speed_m_s) & np.isfinite(sig.t_gps_s)
    ts, vs = sig.t_gps_s[ok], sig.speed_m_s[ok]
    t = np.arange(ts[0], ts[-1], 0.1)
    if len(t) < 20:
        return []
    v = np.interp(t, ts, vs)
    v = np.convolve(v, np.ones(10) / 10, mode="same")
    moving = v[v > 1.5]
    if len(moving) == 0:
        return []
    top = float(np.quantile(moving, p.fast_quantile))
    thr = max(
        p.fast_min_m_s, min(top, 0.9 * float(moving.max()))
    )  # a long fast stretch still counts
    out = []
    for s, e in bridge(runs_of(v >= thr), 10):
        if t[e - 1] - t[s] < p.fast_min_s:
            continue
        peak = float(v[s:e].max())
        score = 0.3 + 0.7 * min(1.0, (peak - p.fast_min_m_s) / 10.0)
        reason = f"top {peak * 3.6:.1f} km/h over {t[e - 1] - t[s]:.1f} s (>= {thr * 3.6:.0f} km/h)"
        details = {"peak_m_s": round(peak, 2), "threshold_m_s": round(thr, 2)}
        out.append(
            Event("fast", float(t[s]), float(t[e - 1]), round(score, 3), reason, "gps", details)
        )
    return out


def noise_floor_db(t: np.ndarray, level_db: np.ndarray, window_s: float = 10.0) -> np.ndarray:
    """The run's own noise floor: a rolling median of the level over ``window_s``."""
    hop = float(np.median(np.diff(t))) if len(t) > 1 else 0.01
    block = max(
        1, round(0.5 / hop)
    )  # medians of half-second blocks, then a rolling median of those
    n = len(level_db) // block
    if n < 3:
        return np.full(len(level_db), float(np.median(level_db)))
    blocks = np.median(level_db[: n * block].reshape(n, block), axis=1)
    rolled = median_filter(blocks, size=max(3, round(window_s / 0.5) | 1), mode="nearest")
    centres = np.arange(n) * block + block / 2
    return np.interp(np.arange(len(level_db)), centres, rolled)


def detect_loud(sig: RunSignals, p: HighlightParams) -> list[Event]:
    """Impacts and shouting: audio ``loud_db`` above the noise floor with a sharp onset."""
    t, lev = audio_level_db(sig)
    if len(t) < 50:
        return []
    floor = noise_floor_db(t, lev)
    over = lev - floor
    rise = lev - np.minimum.reduce([np.roll(lev, k) for k in range(1, 7)])
    out = []
    for s, e in bridge(runs_of(over >= p.loud_db), 20):
        if t[e - 1] - t[s] < p.loud_min_s:
            continue
        onset = float(rise[max(s - 2, 6) : s + 10].max()) if e > 6 else 0.0
        if onset < p.loud_onset_db:
            continue
        peak = float(over[s:e].max())
        score = min(1.0, 0.3 + (peak - p.loud_db) / 20.0)
        reason = f"{peak:.0f} dB over the noise floor, onset +{onset:.0f} dB in 60 ms"
        details = {"peak_db_over_floor": round(peak, 1), "onset_db": round(onset, 1)}
        end = float(t[e - 1]) + 0.01
        out.append(
            Event("loud", float(t[s]) - 0.01, end, round(score, 3), reason, "audio", details)
        )
    return out


def parse_kinds(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"jump,crash"`` -> ``("jump", "drop", "crash")`` (jump brings drop); validates names."""
    if text is None:
        return DEFAULT_KINDS + ("drop",)
    names = [k.strip() for k in (text.split(",") if isinstance(text, str) else text) if k.strip()]
    bad = [k for k in names if k not in KINDS]
    if bad or not names:
        raise ValueError(
            f"Unknown highlight kind(s) {bad or names}; use some of {', '.join(KINDS)}."
        )
    if "jump" in names and "drop" not in names:
        names.append("drop")
    return tuple(dict.fromkeys(names))


def detect_events(
    sig: RunSignals,
    params: HighlightParams | None = None,
    kinds: Sequence[str] | None = None,
    picture: bool | None = None,
) -> list[Event]:
    """Every event of ``kinds`` in one run, sorted by start.

    The picture is used when ``picture`` is True, or (None) when the run has no telemetry at all:
    then camera shake and motion energy of the decoded luma stand in for IMU and GPS.
    """
    p = params or HighlightParams()
    want = parse_kinds(kinds)
    have = sig.sources
    events: list[Event] = []
    if "imu" in have and {"jump", "drop"} & set(want):
        events += [e for e in detect_air(sig, p) if e.kind in want]
    if "imu" in have and "crash" in want:
        events += detect_crashes(sig, p)
    if "fast" in want:
        events += detect_fast(sig, p)
    if "loud" in want:
        events += detect_loud(sig, p)
    use_picture = picture if picture is not None else not ({"imu", "gps"} & set(have))
    if use_picture:
        from .picture import detect_picture

        events += [
            e for e in detect_picture(sig.path, p, gps="gps" in have) if e.kind in want + ("shake",)
        ]
    if not have and not use_picture:
        raise HighlightError(
            f"'{sig.path}' has no telemetry and no audio to find highlights in. "
            "Pass a GPX/FIT track, or let the picture be used."
        )
    return sorted(events, key=lambda e: (e.start_s, e.kind))
