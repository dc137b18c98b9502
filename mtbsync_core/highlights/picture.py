"""Picture-only features, for runs without telemetry: motion energy and camera shake.

Every frame is decoded as luma at ``picture_width_px`` wide. Motion energy is the mean absolute
difference of consecutive frames (how fast the scene flows past); camera shake is the jitter of
the global image shift (phase correlation between consecutive frames, minus its 0.5 s median),
which spikes on rough ground and impacts. Both are judged against the run's own median and MAD.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import median_filter

from .model import Event, HighlightParams
from .motion import bridge, runs_of


@dataclass(frozen=True)
class PictureFeatures:
    """Per decoded frame: time, motion energy (grey levels) and shake (pixels at 96 px wide)."""

    t_s: np.ndarray
    motion: np.ndarray
    shake_px: np.ndarray


def picture_features(path: str, width_px: int = 96) -> PictureFeatures:
    """Decode ``path`` at ``width_px`` wide and measure motion energy and camera shake."""
    from ..video import open_video

    times, motion, shift = [], [], []
    prev = None
    win = None
    with open_video(path) as vs:
        for t_s, img in vs.iter_gray("all", width=width_px):
            f = img.astype(np.float32)
            if prev is None:
                win = cv2.createHanningWindow(f.shape[::-1], cv2.CV_32F)
                motion.append(0.0)
                shift.append((0.0, 0.0))
            else:
                motion.append(float(np.mean(np.abs(f - prev))))
                (dx, dy), _ = cv2.phaseCorrelate(prev.copy(), f.copy(), win)  # it windows in place
                shift.append((dx, dy))
            times.append(t_s)
            prev = f
    t = np.asarray(times)
    d = np.asarray(shift, np.float64).reshape(-1, 2)
    fps = (len(t) - 1) / max(t[-1] - t[0], 1e-9) if len(t) > 1 else 30.0
    k = max(3, round(0.5 * fps) | 1)
    smooth = median_filter(d, size=(k, 1), mode="nearest")
    shake = np.hypot(*(d - smooth).T)
    return PictureFeatures(t, np.asarray(motion), shake)


def _robust_z(x: np.ndarray) -> np.ndarray:
    med = float(np.median(x))
    mad = float(np.median(np.abs(x - med))) * 1.4826
    return (x - med) / max(mad, 1e-6)


def detect_picture(path: str, p: HighlightParams, gps: bool = False) -> list[Event]:
    """``shake`` bursts, and ``fast`` stretches of high motion energy (only when ``gps`` is False)."""
    f = picture_features(path, p.picture_width_px)
    if len(f.t_s) < 30:
        return []
    fps = (len(f.t_s) - 1) / max(f.t_s[-1] - f.t_s[0], 1e-9)
    out: list[Event] = []
    z_shake = _robust_z(f.shake_px)
    for s, e in bridge(
        runs_of((z_shake >= p.picture_shake_z) & (f.shake_px >= p.picture_shake_min_px)),
        round(0.3 * fps),
    ):
        peak = float(f.shake_px[s:e].max())
        score = min(1.0, 0.2 + 0.05 * float(z_shake[s:e].max()))
        reason = f"camera shake {peak:.1f} px at {p.picture_width_px} px wide"
        t1 = float(f.t_s[min(e, len(f.t_s) - 1)])
        out.append(
            Event(
                "shake",
                float(f.t_s[s]),
                t1,
                round(score, 3),
                reason,
                "picture",
                {"shake_px": round(peak, 2)},
            )
        )
    if not gps:
        k = max(1, round(fps))
        m = np.convolve(f.motion, np.ones(k) / k, mode="same")
        z = _robust_z(m)
        for s, e in bridge(runs_of(z >= p.picture_fast_z), k):
            if f.t_s[e - 1] - f.t_s[s] < p.fast_min_s:
                continue
            reason = (
                f"motion energy {float(m[s:e].max()):.1f} (z {float(z[s:e].max()):.1f}), no GPS"
            )
            out.append(
                Event(
                    "fast",
                    float(f.t_s[s]),
                    float(f.t_s[e - 1]),
                    0.4,
                    reason,
                    "picture",
                    {"motion_z": round(float(z[s:e].max()), 2)},
                )
            )
    return out
