"""Motion sync of silent cameras: per-frame motion energy and shake, correlated across cameras.

Cameras that watch the same action, or ride on the same bike, see motion change at the same
moments (a rider passing, a jump, a bump shaking the mount), whatever their angle. Per camera,
from decoded low-resolution luma:

* motion energy: the mean absolute difference of consecutive frames;
* shake: the size of the global image shift between consecutive frames (phase correlation).

Each value belongs to the middle of its two frames' presentation times (PTS, so variable frame
rates and drops keep their place); differences into a keyframe are left out (they measure the
encoder's refresh, not motion). What is correlated (``MotionParams.signal``):

* ``level`` (default): energy and shake on a fine uniform grid, their slow part removed, each
  scaled to unit variance and correlated together;
* ``edges``: the energy's rate of change, smoothed over ``edge_frames`` of the slower camera's
  frame interval, alone. Motion starts and stops are sharp in time, while the energy's level
  depends on each camera's angle and frame interval, and the shake is noise for cameras on
  different mounts. On the benchmark it placed more pairs within 1/4 frame (tuning set 10/12
  against 7/12, held-out 9/12 against 8/12, worst placed error 0.33 against 1.23 frames) but
  moved some held-out pairs the wrong way (held-out median 0.109 against 0.094 frame), so it is
  not the default.
* ``weighted``: decided as ``level`` (the same peak must stand out, so ``ambiguous`` is the same),
  then placed on energy, shake and edges together, each weighted by its own coherence at that
  peak (``rho / (1 - rho^2)``, rho its correlation): the shake counts where both cameras share
  it and fades where it is each camera's own noise. On the benchmark: tuning set 9/12 within
  1/4 frame (``level`` 7/12), held out 10/12 (8/12), worst placed error 1.17 / 0.37 frames
  (1.23 / 0.62); but the held-out median moved the wrong way (0.139 against 0.094 frame), so
  it is not the default.

The peak must stand out of the correlation's own noise and above any other peak, else
``ambiguous``; it is interpolated on the fine grid, which places the offset to a fraction of a
frame. Drift is not fitted (frame timing is too coarse over a short clip); the message says so.

Not used by ``auto``: two cameras of one model share the encoder's frame-type rhythm, and two
rides at one pace share their motion's rhythm, so motion can agree where the cameras do not;
ask for it with ``--method motion`` and check the result.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace

import cv2
import numpy as np
from scipy import fft as sfft
from scipy.ndimage import uniform_filter1d

from .media import open_media
from .solve import PairEstimate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MotionParams:
    """Tuning of :func:`estimate_motion_pair` (seconds, Hz, pixels)."""

    width_px: int = 96
    rate_hz: float = 1000.0
    detrend_s: float = 1.0
    min_z: float = 5.0
    min_ratio: float = 1.5
    exclude_s: float = 0.3
    min_overlap_s: float = 3.0
    signal: str = "level"  # level | edges | weighted (see the module docstring)
    edge_frames: float = 1.5  # edges: smoothing of the energy's change, slower camera's frames

    def __post_init__(self) -> None:
        if self.signal not in ("level", "edges", "weighted"):
            raise ValueError(
                f"MotionParams.signal is 'level', 'edges' or 'weighted', not {self.signal!r}"
            )


@dataclass(frozen=True)
class MotionSignal:
    """Per pair of consecutive frames: time of their middle (camera s), energy and shake."""

    t_s: np.ndarray
    energy: np.ndarray
    shake_px: np.ndarray
    fps: float


def read_motion(path: str | os.PathLike[str], prm: MotionParams = MotionParams()) -> MotionSignal:
    """Decode ``path``'s video at low resolution and measure motion between frames."""
    p = os.fspath(path)
    ts, energy, shake = [], [], []
    prev, t_prev, t_first = None, 0.0, None
    with open_media(p) as c:
        st = c.streams.video[0]
        st.thread_type = "AUTO"
        for frame in c.decode(st):
            if frame.pts is None:
                continue
            t = float(frame.pts * frame.time_base)
            t_first = t if t_first is None else t_first
            g = frame.to_ndarray(format="gray")
            h = max(8, round(g.shape[0] * prm.width_px / g.shape[1]))
            g = cv2.resize(g, (prm.width_px, h), interpolation=cv2.INTER_AREA).astype(np.float32)
            if prev is not None and not frame.key_frame:
                # (a keyframe's difference holds the encoder's refresh, not motion)
                (dx, dy), _ = cv2.phaseCorrelate(prev, g)
                ts.append((t + t_prev) / 2 - t_first)
                energy.append(float(np.mean(np.abs(g - prev))))
                shake.append(float(np.hypot(dx, dy)))
            prev, t_prev = g, t
    t_arr = np.asarray(ts)
    order = np.argsort(t_arr, kind="stable")
    fps = (len(t_arr) / (t_arr[-1] - t_arr[0])) if len(t_arr) > 1 else 0.0
    return MotionSignal(
        t_arr[order], np.asarray(energy)[order], np.asarray(shake)[order], float(fps)
    )


def frame_interval_s(sig: MotionSignal) -> float:
    """Median spacing of the signal's samples (one frame interval when no frame is dropped)."""
    return float(np.median(np.diff(sig.t_s))) if len(sig.t_s) > 1 else 0.0


def _grid(sig: MotionSignal, prm: MotionParams, smooth_s: float) -> tuple[np.ndarray, float]:
    """Channels to correlate on a uniform grid (``prm.signal``), and the grid's start (s).

    ``level``: (2, n) energy and shake, slow part removed, unit variance. ``edges``: (1, n) the
    energy's rate of change smoothed over ``smooth_s``, unit variance.
    """
    grid = np.arange(sig.t_s[0], sig.t_s[-1], 1.0 / prm.rate_hz)
    size = max(3, int(prm.detrend_s * prm.rate_hz))
    out = []
    for v in (sig.energy,) if prm.signal == "edges" else (sig.energy, sig.shake_px):
        x = np.interp(grid, sig.t_s, v)
        x = x - uniform_filter1d(x, size, mode="nearest")
        if prm.signal == "edges":
            x = uniform_filter1d(np.gradient(x), max(1, int(round(smooth_s * prm.rate_hz))))
        s = float(np.std(x))
        out.append(x / s if s > (1e-12 if prm.signal == "edges" else 1e-9) else np.zeros_like(x))
    return np.asarray(out), float(grid[0])


def _xcorr(x: np.ndarray, y: np.ndarray, min_overlap: int):
    """Summed normalised correlation of the channels over all lags, weighted by overlap."""
    n = sfft.next_fast_len(x.shape[1] + y.shape[1])
    r = sfft.irfft(sfft.rfft(x, n, axis=1) * np.conj(sfft.rfft(y, n, axis=1)), n, axis=1).sum(0)
    r = np.concatenate([r[n - y.shape[1] + 1 :], r[: x.shape[1]]])
    cnt = np.convolve(np.ones(x.shape[1]), np.ones(y.shape[1]))
    score = r / np.maximum(cnt, 1.0) * np.sqrt(cnt)
    score[cnt < min_overlap] = np.nan
    return score


def _weighted(
    ref: MotionSignal,
    cam: MotionSignal,
    prm: MotionParams,
    smooth_s: float,
    min_overlap: int,
    k: int,
    excl: int,
) -> tuple[np.ndarray, int]:
    """(score, peak) of energy, shake and edges, each weighted by its coherence near ``k``.

    Each channel's correlation coefficient rho is its best within ``excl`` of the ``level``
    peak ``k``; the weight ``rho / (1 - rho^2)`` is its signal-to-noise ratio. The peak is
    taken within ``excl`` of ``k``, so the decision stays ``level``'s.
    """
    lv = replace(prm, signal="level")
    ed = replace(prm, signal="edges")
    x = np.vstack([_grid(ref, lv, smooth_s)[0], _grid(ref, ed, smooth_s)[0]])
    y = np.vstack([_grid(cam, lv, smooth_s)[0], _grid(cam, ed, smooth_s)[0]])
    per = np.array([_xcorr(x[c : c + 1], y[c : c + 1], min_overlap) for c in range(3)])
    cnt = np.convolve(np.ones(x.shape[1]), np.ones(y.shape[1]))
    lo, hi = max(0, k - excl), k + excl + 1
    rho = np.array([np.nanmax(per[c, lo:hi] / np.sqrt(cnt[lo:hi])) for c in range(3)])
    rho = np.clip(np.nan_to_num(rho), 0.0, 0.95)
    w = rho / (1.0 - rho**2)
    score = np.sum(w[:, None] * per, axis=0) / max(float(np.sqrt(np.sum(w**2))), 1e-12)
    near = np.full_like(score, np.nan)
    near[lo:hi] = score[lo:hi]
    return score, int(np.nanargmax(near)) if np.isfinite(near).any() else k


def estimate_motion_pair(
    ref: MotionSignal, cam: MotionSignal, i: int = 0, j: int = 1, prm: MotionParams = MotionParams()
) -> PairEstimate:
    """Camera ``j`` (``cam``) on camera ``i``'s (``ref``) clock from their motion."""

    def fail(msg: str, off: float = 0.0) -> PairEstimate:
        return PairEstimate(i, j, off, 0.0, 0.0, "ambiguous", "motion", message=msg)

    if len(ref.t_s) < 8 or len(cam.t_s) < 8:
        return fail("too few frames to measure motion")
    smooth_s = prm.edge_frames * max(frame_interval_s(ref), frame_interval_s(cam))
    gate = replace(prm, signal="level") if prm.signal == "weighted" else prm
    x, x0 = _grid(ref, gate, smooth_s)
    y, y0 = _grid(cam, gate, smooth_s)
    min_overlap = int(min(prm.min_overlap_s * prm.rate_hz, 0.75 * min(x.shape[1], y.shape[1])))
    score = _xcorr(x, y, min_overlap)
    k = int(np.nanargmax(score))
    excl = int(prm.exclude_s * prm.rate_hz)
    rest = score.copy()
    rest[max(0, k - excl) : k + excl + 1] = np.nan
    valid = rest[np.isfinite(rest)]
    med = float(np.median(valid)) if len(valid) else 0.0
    sigma = 1.4826 * float(np.median(np.abs(valid - med))) + 1e-12 if len(valid) else 1.0
    z = (score[k] - med) / sigma
    ratio = (score[k] - med) / max(float(valid.max()) - med, 1e-12) if len(valid) else np.inf
    if prm.signal == "weighted" and z >= prm.min_z and ratio >= prm.min_ratio:
        score, k = _weighted(ref, cam, prm, smooth_s, min_overlap, k, excl)
    kf = float(k)
    if 0 < k < len(score) - 1 and np.isfinite(score[k - 1]) and np.isfinite(score[k + 1]):
        a, b, c = score[k - 1], score[k], score[k + 1]
        den = a - 2 * b + c
        kf = k + 0.5 * (a - c) / den if den < 0 else kf
    off = x0 + (kf - (y.shape[1] - 1)) / prm.rate_hz - y0
    if z < prm.min_z or ratio < prm.min_ratio:
        return fail(
            f"motion does not agree (peak z {z:.1f}, {ratio:.2f}x the next): different scenes, "
            "or too little shared motion",
            off,
        )
    conf = float(np.clip(min(1.0, (ratio - 1.0) / 1.0) * min(1.0, z / 20), 0.0, 1.0))
    return PairEstimate(
        i, j, off, 0.0, conf, "ok", "motion",
        message="placed on shared motion (drift set to 0: not measured from frames)",
        extra={"z": round(float(z), 2), "ratio": round(float(ratio), 2)},
    )  # fmt: skip
