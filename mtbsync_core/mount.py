"""The view change between the two cameras (crop, zoom, roll, shift), measured from verified
frame pairs with the reference's own motion taken out.

A new frame is compared with the reference frame nearest its time that has keypoints, which
can be a fraction of a second away. On a moving camera that fraction is itself a zoom, a turn
and a shift (about 6 % of scale a second on a GoPro going forward), so the median transform of
the pairs mixes the mount with the time error. Here every pair's transform is corrected by the
reference's own motion over that time difference, measured between neighbouring reference
samples, before the median is taken.

Transforms are similarities in work-image pixels, described about the image centre by
``(log scale, roll rad, shift x px, shift y px)``: small ones compose by adding these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .features import MID_SIZE, OrbFeatures, verify_pair


@dataclass(frozen=True)
class Mount:
    """New-run pixels -> reference pixels (2x3, work image), or None when the cameras agree."""

    matrix: np.ndarray | None
    scale: float
    roll_deg: float
    shift_px: tuple[float, float]
    pairs_used: int
    time_doubt_s: float = 0.0  # how far in time a mount error of the size seen could move frames


def time_doubt_s(
    a: Mount, b: Mount, rates: Sequence[np.ndarray | None], centre: tuple[float, float]
) -> float:
    """Seconds of the reference's own motion that the difference between two mount estimates
    amounts to: a crop, zoom or shift is confused with moving on, so a mount known only this
    well places frames only this well. Params are compared in pixels at the image corner."""
    r = float(np.hypot(*centre))
    px = np.array([r, r, 1.0, 1.0])
    pa, pb = (
        similarity_params(m.matrix, centre) if m.matrix is not None else np.zeros(4) for m in (a, b)
    )
    speed = [float(np.linalg.norm(x * px)) for x in rates if x is not None]
    if not speed:
        return 0.0
    return float(np.linalg.norm((pa - pb) * px)) / max(float(np.median(speed)), 1e-6)


def similarity_params(m: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """``(log scale, roll rad, shift x, shift y)`` of a 2x3 similarity, shift taken at ``centre``."""
    a, b = float(m[0, 0]), float(m[1, 0])
    c = np.asarray(centre, np.float64)
    moved = m[:, :2] @ c + m[:, 2]
    return np.array([np.log(np.hypot(a, b)), np.arctan2(b, a), *(moved - c)])


def params_matrix(p: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """The 2x3 similarity of :func:`similarity_params` values."""
    s, th = float(np.exp(p[0])), float(p[1])
    c, sn = s * np.cos(th), s * np.sin(th)
    cx, cy = centre
    return np.array(
        [
            [c, -sn, cx - c * cx + sn * cy + p[2]],
            [sn, c, cy - sn * cx - c * cy + p[3]],
        ],
        np.float64,
    )


def own_motion_rate(
    ref_orbs: dict[int, OrbFeatures],
    ref_t_s: np.ndarray,
    key: int,
    centre: tuple[float, float],
    min_inliers: int,
) -> np.ndarray | None:
    """The reference's own motion per second around ORB sample ``key`` (params per second), from
    the transform to the next ORB sample; None where it does not verify."""
    keys = sorted(ref_orbs)
    pos = keys.index(key)
    if pos + 1 >= len(keys):
        if pos == 0:
            return None
        key, pos = keys[pos - 1], pos - 1
    nxt = keys[pos + 1]
    dt = float(ref_t_s[nxt] - ref_t_s[key])
    check = verify_pair(ref_orbs[key], ref_orbs[nxt])
    if dt <= 0 or check.similarity is None or check.inliers < min_inliers:
        return None
    if not 0.5 <= float(np.hypot(check.similarity[0, 0], check.similarity[1, 0])) <= 2.0:
        return None
    return similarity_params(check.similarity, centre) / dt


def estimate_mount(
    similarities: Sequence[np.ndarray],
    t_frame_s: Sequence[float],
    t_true_s: Sequence[float],
    rates: Sequence[np.ndarray | None],
    centre: tuple[float, float],
    min_scale: float = 0.01,
    min_roll_deg: float = 0.3,
    min_shift_px: float = 1.5,
) -> Mount:
    """Median mount over pairs: each pair's transform (new -> reference frame at ``t_frame_s``)
    less the reference's own motion from the new frame's time ``t_true_s`` to ``t_frame_s``.

    Returns a Mount whose matrix is None when the cameras agree within the limits.
    """
    corrected = []
    for m, t_frame, t_true, rate in zip(similarities, t_frame_s, t_true_s, rates, strict=True):
        if not 0.5 <= float(np.hypot(m[0, 0], m[1, 0])) <= 2.0:
            continue  # a degenerate fit, not a camera
        p = similarity_params(m, centre)
        if rate is not None:
            p = p - rate * (t_frame - t_true)
        corrected.append(p)
    if len(corrected) < 3:
        return Mount(None, 1.0, 0.0, (0.0, 0.0), len(corrected))
    med = np.median(np.stack(corrected), axis=0)
    scale, roll_deg = float(np.exp(med[0])), float(np.degrees(med[1]))
    shift = (float(med[2]), float(med[3]))
    agree = (
        abs(scale - 1) < min_scale
        and abs(roll_deg) < min_roll_deg
        and np.hypot(*shift) < min_shift_px
    )
    matrix = None if agree else params_matrix(med, centre)
    return Mount(matrix, scale, roll_deg, shift, len(corrected))


def mount_in_mid_pixels(
    m_work: np.ndarray, new_work: tuple[int, int], ref_work: tuple[int, int]
) -> np.ndarray:
    """A 2x3 map from new work-image pixels to reference work-image pixels, rewritten for the
    mid thumbnails (``MID_SIZE``, whatever each video's aspect ratio)."""
    into_ref = np.diag([MID_SIZE[0] / ref_work[0], MID_SIZE[1] / ref_work[1], 1.0])
    from_new = np.diag([new_work[0] / MID_SIZE[0], new_work[1] / MID_SIZE[1], 1.0])
    full = into_ref @ np.vstack([m_work, [0.0, 0.0, 1.0]]) @ from_new
    return full[:2]
