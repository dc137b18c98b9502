"""Flash / LED cues: per-frame brightness -> on/off events with sub-frame timing -> clock fit.

Timing model: a frame with PTS ``t`` integrates light over ``[t, t + E)``, ``E`` its exposure
(at most the frame period ``T``). A step of light at ``t_on`` inside an exposure leaves one partly
lit frame whose lit share ``f`` gives the sub-frame time, ``t_on = t + E * (1 - f)``; a step between
two exposures (short shutter) is placed in the middle of the gap. ``E / T`` is estimated from how
often steps leave a partly lit frame (for a full exposure, nearly always). Saturated pixels make
the lit share non-linear: keep the ROI on the light and avoid clipping where timing matters.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import av
import numpy as np
from scipy.ndimage import median_filter

from ..errors import MulticamError
from .media import open_media
from .solve import PairEstimate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlashEvents:
    """Light cue events of one camera: camera times of rises (+1) and falls (-1)."""

    t_s: np.ndarray
    polarity: np.ndarray  # +1 rise, -1 fall
    frame_period_s: float
    exposure: float = 1.0  # share of the frame period a frame integrates light (estimated)


_PLANAR_YUV = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12"}


def _luma(fr: av.VideoFrame) -> np.ndarray:
    """The luma plane as uint8 (H x W), read in place for 8-bit YUV frames (no conversion)."""
    if fr.format.name not in _PLANAR_YUV:
        return fr.to_ndarray(format="gray")
    plane = fr.planes[0]
    rows = np.frombuffer(plane, np.uint8).reshape(fr.height, plane.line_size)
    return rows[:, : fr.width]


def brightness_series(
    path: str | os.PathLike[str], roi: tuple[int, int, int, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(camera time per frame, mean luma per frame) for ``roi`` = (x, y, w, h) or the whole frame."""
    with open_media(path) as c:
        vs = c.streams.video[0]
        vs.thread_type = "AUTO"
        t, b = [], []
        for fr in c.decode(vs):
            if fr.pts is None:
                continue
            y = _luma(fr)
            if roi is not None:
                x0, y0, w, h = roi
                full = y.shape
                y = y[max(0, y0) : y0 + h, max(0, x0) : x0 + w]
                if y.size == 0:
                    raise MulticamError(
                        f"ROI {roi} (x, y, w, h) lies outside the {full[1]}x{full[0]} frames of "
                        f"'{path}'. Draw the box inside the picture."
                    )
            t.append(float(fr.pts * fr.time_base))
            b.append(float(y.mean()))
    t_a = np.asarray(t)
    order = np.argsort(t_a)
    return t_a[order] - t_a[order][0], np.asarray(b)[order]


def detect_flash_events(
    t_s: np.ndarray,
    level: np.ndarray,
    baseline_s: float = 2.0,
    min_jump: float = 12.0,
    exposure: float | None = 1.0,
) -> FlashEvents:
    """Rises and falls of a light cue from a brightness series (camera seconds, 0..255 luma).

    ``exposure``: the share of the frame period each frame integrates light (1.0, the default,
    for a 360 degree shutter; 0.5 for 180 degrees); None estimates it from how often a step of
    light leaves a partly lit frame (needs a dozen or more steps).
    """
    period = float(np.median(np.diff(t_s))) if len(t_s) > 1 else 1 / 30
    edges = _light_steps(t_s, level, period, baseline_s, min_jump)
    if not edges:
        return FlashEvents(np.zeros(0), np.zeros(0, int), period)
    partial = [bool(((f > 0.08) & (f < 0.92)).any()) for _, _, f in edges]
    share = exposure if exposure is not None else min(1.0, float(np.mean(partial)) / 0.84)
    e_s = max(share, 0.02) * period
    times, pol = [], []
    for (rise, k, f), part in zip(edges, partial, strict=True):
        if share >= 0.999:  # full exposure: the lit shares of the three frames add up exactly
            times.append(
                t_s[k + 1] + period - period * f.sum() if rise else t_s[k - 1] + period * f.sum()
            )
        elif part:  # the step fell inside frame j's exposure: its lit share says where
            j = int(np.argmin(np.abs(f - 0.5)))
            t_j = t_s[k - 1 + j]
            times.append(t_j + e_s * (1 - f[j]) if rise else t_j + e_s * f[j])
        elif rise:  # the step fell between two exposures: take the middle of the gap
            times.append(t_s[k] - (period - e_s) / 2)
        else:
            times.append(t_s[k] + e_s + (period - e_s) / 2)
        pol.append(1 if rise else -1)
    return FlashEvents(np.asarray(times), np.asarray(pol, int), period, float(share))


def _light_steps(
    t_s: np.ndarray, level: np.ndarray, period: float, baseline_s: float, min_jump: float
) -> list[tuple[bool, int, np.ndarray]]:
    """(rise?, first lit / last lit frame k, lit shares of frames k-1, k, k+1) per clean step."""
    win = max(3, int(baseline_s / period) | 1)
    x = level - median_filter(level, size=win, mode="nearest")
    # scene changes are smooth from frame to frame, a light cue is a step: judge it against the
    # frame-to-frame noise, not against the slow drift of the picture's brightness
    d = np.diff(level)
    step_noise = 1.4826 * float(np.median(np.abs(d - np.median(d)))) + 1e-6
    on_level = float(np.percentile(x, 99.5))
    if on_level < max(min_jump, 8 * step_noise):
        return []
    lit = x > on_level / 2
    out = []
    for e in np.flatnonzero(np.diff(lit.astype(int))):
        rise = not lit[e]
        k = e + 1 if rise else e  # first lit frame of a rise / last lit frame of a fall
        run = _run_level(x, lit, k)
        lo, hi = k - 1, k + 1
        if lo < 1 or hi >= len(x) - 1 or np.ptp(np.diff(t_s[lo - 1 : hi + 2])) > 0.5 * period:
            continue  # no clean neighbours (edge of file or a dropped frame)
        if abs(level[hi + 1] - level[lo - 1]) < 0.5 * run:
            continue  # a slow change of the scene, not a step of light
        out.append((bool(rise), int(k), np.clip(x[lo : hi + 1] / run, 0, 1)))
    return out


def _run_level(x: np.ndarray, lit: np.ndarray, k: int) -> float:
    """Level of the fully lit frames of the run containing ``k`` (median of its interior)."""
    a = k
    while a > 0 and lit[a - 1]:
        a -= 1
    b = k
    while b < len(lit) - 1 and lit[b + 1]:
        b += 1
    inner = x[a + 1 : b] if b - a >= 2 else x[a : b + 1]
    return float(max(np.median(inner), 1e-6))


def read_flash_events(
    path: str | os.PathLike[str],
    roi: tuple[int, int, int, int] | None = None,
    exposure: float | None = 1.0,
) -> FlashEvents:
    """Decode ``path`` and detect its light-cue events (see :func:`detect_flash_events`)."""
    try:
        t, b = brightness_series(path, roi)
    except av.error.FFmpegError as err:
        log.warning("decoding %s stopped early: %s", path, err)
        raise
    return detect_flash_events(t, b, exposure=exposure)


def estimate_flash_pair(
    ref: FlashEvents,
    cam: FlashEvents,
    i: int = 0,
    j: int = 1,
    max_drift_ppm: float = 1000.0,
    max_drift_se_ppm: float = 100.0,
) -> PairEstimate:
    """Camera ``j`` on camera ``i``'s clock by matching flash events (same polarity)."""
    if len(ref.t_s) == 0 or len(cam.t_s) == 0:
        return PairEstimate(
            i,
            j,
            0.0,
            0.0,
            0.0,
            "failed",
            "flash",
            message="no flash / LED events found; draw an ROI around the light or "
            "use --method audio or --offset",
        )
    span = float(np.ptp(cam.t_s)) if len(cam.t_s) > 1 else 0.0
    tol = max(2 * max(ref.frame_period_s, cam.frame_period_s), max_drift_ppm * 1e-6 * span)
    best = _best_shift(ref, cam, tol)
    off, drift, note = best, 0.0, ""
    for tol_k in (tol, 0.5 * cam.frame_period_s, 0.5 * cam.frame_period_s):
        pairs = _matches(ref, cam, off, drift, tol_k)
        if len(pairs) >= 2:
            off, drift, note = _fit_clock(np.asarray(pairs), max_drift_se_ppm)
    pairs = _matches(ref, cam, off, drift, 0.5 * cam.frame_period_s)
    res = tuple(float(r - off - (1 + drift) * c) for r, c in pairs)
    n_min = min(len(ref.t_s), len(cam.t_s))
    ok = len(pairs) >= 3 and len(pairs) >= 0.6 * n_min
    conf = float(min(1.0, len(pairs) / max(n_min, 1))) if ok else 0.2
    msg = note if ok else f"only {len(pairs)} of {n_min} flash events match one clock"
    return PairEstimate(
        i,
        j,
        off,
        drift * 1e6,
        conf,
        "ok" if ok else "ambiguous",
        "flash",
        res,
        msg,
        n_min,
        len(pairs),
    )


def _fit_clock(pairs: np.ndarray, max_se_ppm: float) -> tuple[float, float, str]:
    """(offset, drift, note) of ref = offset + (1 + drift) cam; drift only when measurable."""
    ref, cam = pairs[:, 0], pairs[:, 1]
    if len(pairs) >= 3 and np.ptp(cam) > 0:
        slope, icpt = np.polyfit(cam, ref, 1)
        res = ref - icpt - slope * cam
        se = float(
            np.std(res)
            * np.sqrt(len(res) / max(len(res) - 2, 1))
            / np.sqrt(np.sum((cam - cam.mean()) ** 2))
        )
        if se * 1e6 <= max_se_ppm:
            return float(icpt), float(slope - 1.0), f"drift fitted from {len(pairs)} flash events"
    note = f"drift not measurable from {len(pairs)} events over {np.ptp(cam):.1f} s; set to 0"
    return float(np.mean(ref - cam)), 0.0, note


def _matches(ref: FlashEvents, cam: FlashEvents, off: float, drift: float, tol: float):
    out = []
    for q, tc in enumerate(cam.t_s):
        pred = off + (1 + drift) * tc
        d = np.abs(ref.t_s - pred)
        d[ref.polarity != cam.polarity[q]] = np.inf
        p = int(np.argmin(d))
        if d[p] < tol:
            out.append((float(ref.t_s[p]), float(tc)))
    return out


def _best_shift(ref: FlashEvents, cam: FlashEvents, tol: float) -> float:
    """The ref-minus-cam time shared by most same-polarity event pairs (within ``tol``)."""
    d = ref.t_s[:, None] - cam.t_s[None, :]
    d = np.sort(d[ref.polarity[:, None] == cam.polarity[None, :]])
    if len(d) == 0:
        return 0.0
    counts = np.searchsorted(d, d + tol, side="right") - np.arange(len(d))
    k = int(np.argmax(counts))
    return float(np.median(d[k : k + counts[k]]))
