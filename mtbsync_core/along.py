"""Along-track placement for a new run ridden on another line (a lateral offset in a scene with
depth).

With the new camera beside the reference's line, no reference frame looks like the new one: near
trees, rocks and the ground sit further out on the side the camera moved away from and closer in
on the other. The frame that looks most alike is then not the one at the same distance along the
trail: the look-alike time swings a few hundred milliseconds either way as the near objects
change sides. Moving sideways shifts things across the picture, though, not up or down: a point's
height in the picture depends only on how far ahead it is. Profiles down the picture (each row's
mean log brightness and its change to the next row, averaged over the width, see
:func:`~.features.row_profiles`) barely change with a sideways move and
grow as the camera moves forward, so the reference frame whose profiles match is the one at the
same distance along the trail.

:func:`lateral_parallax` says whether a pair of runs shows that case (matched keypoints spread
far more across than up and down, as a sideways move makes them); :func:`along_track_times`
places each path sample by its row profiles (best over small vertical shifts, averaged along
short sequences), along a monotone path near the coarse one.
"""

from __future__ import annotations

import cv2
import numpy as np

from .align import SEQ_PACES
from .features import OrbFeatures, ratio_matches, row_profiles

__all__ = ["along_track_times", "lateral_parallax", "row_profiles"]

ROW_SHIFTS = (-2.0, -1.0, 1.0, 2.0)  # px of the mid thumbnail: the cameras' pitch differs a little
MAX_FULL_CELLS = 4_000_000  # beyond this many new x reference samples, no sequence comparison
SEQ_HALF_S = 1.0  # row similarities are averaged along sequences this long either side (s)


def _spread_xy(a: OrbFeatures, b: OrbFeatures, ratio: float = 0.8) -> tuple[float, float] | None:
    """Median |residual| across and down the picture (px) of ``a``'s matches in ``b`` after the
    best similarity transform; None with too few matches."""
    if len(a.desc) < 8 or len(b.desc) < 8:
        return None
    qi, ti = ratio_matches(a, b, ratio)  # often the pair a check has matched already
    if len(qi) < 12:
        return None
    src = a.xy[qi]
    dst = b.xy[ti]
    sim, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    if sim is None:
        return None
    r = np.abs(dst - (src @ sim[:, :2].T + sim[:, 2]))
    return float(np.median(r[:, 0])), float(np.median(r[:, 1]))


def lateral_parallax(
    new_orbs: dict[int, OrbFeatures],
    ref_orbs: dict[int, OrbFeatures],
    ref_t_s: np.ndarray,
    path_i: np.ndarray,
    path_t_ref_s: np.ndarray,
    max_pairs: int = 24,
) -> tuple[float, float, int]:
    """How much more matched keypoints spread across the picture than down it, between new
    frames on the path and the reference keypoint samples nearest their path times: (median
    across/down ratio, median across spread in px, pairs measured).

    A sideways move of the camera in a scene with depth spreads matches across (near things move
    further than far ones) but not down; a zoom, roll, pan or a time error spreads both alike."""
    keys = np.array(sorted(ref_orbs))
    if len(keys) == 0:
        return 1.0, 0.0, 0
    key_t = ref_t_s[keys]
    todo = [k for k, i in enumerate(path_i) if int(i) in new_orbs]
    if len(todo) > max_pairs:
        todo = [todo[int(x)] for x in np.linspace(0, len(todo) - 1, max_pairs)]
    spreads = []
    for k in todo:
        j = int(keys[np.argmin(np.abs(key_t - path_t_ref_s[k]))])
        s = _spread_xy(new_orbs[int(path_i[k])], ref_orbs[j])
        if s is not None:
            spreads.append(s)
    if not spreads:
        return 1.0, 0.0, 0
    sx, sy = np.array(spreads).T
    return float(np.median(sx / np.maximum(sy, 0.05))), float(np.median(sx)), len(spreads)


def along_track_times(
    new_mids: np.ndarray,
    ref_rows: np.ndarray,
    ref_t_s: np.ndarray,
    t_path_s: np.ndarray,
    t_new_s: np.ndarray,
    radius_s: float = 0.8,
    max_ratio: float = 3.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Reference time for each path sample from row profiles: the best monotone path (pace 0 to
    ``max_ratio``) within ``radius_s`` of the coarse times ``t_path_s``, placed below a sample
    by the parabola through the best cell and its neighbours. Returns (times, row similarity).

    ``new_mids`` are the path samples' mid thumbnails, ``ref_rows`` every reference sample's
    row profiles (:func:`~.features.row_profiles` of its mid thumbnail). Up to ``MAX_FULL_CELLS`` new x reference samples the similarities are averaged
    along sequences; beyond, each sample's own similarity is used (memory stays bounded)."""
    dr = ref_rows
    m = len(ref_t_s)
    dt_ref = float(np.median(np.diff(ref_t_s))) if m > 1 else 0.1
    rad = max(2, int(round(radius_s / dt_ref)))
    centre = np.clip(np.searchsorted(ref_t_s, t_path_s), 0, m - 1)
    offs = np.arange(-rad, rad + 1)
    cols = centre[:, None] + offs[None, :]  # absolute reference sample of each band cell
    inside = (cols >= 0) & (cols < m)
    shifted = [row_profiles(new_mids)] + [
        row_profiles(_shift_rows(new_mids, s)) for s in ROW_SHIFTS
    ]
    if len(new_mids) * m <= MAX_FULL_CELLS:
        # every pair's similarity, best over small vertical shifts, then averaged along short
        # sequences (SeqSLAM): one frame's profile is noisy, a second of them is not
        full = shifted[0] @ dr.T
        for dn in shifted[1:]:
            np.maximum(full, dn @ dr.T, out=full)
        dt_new = float(np.median(np.diff(t_new_s))) if len(t_new_s) > 1 else 0.1
        half = max(1, int(round(SEQ_HALF_S / dt_new)))
        band = _sequence_band(full, cols, np.asarray(SEQ_PACES) * dt_new / dt_ref, half)
    else:
        near = dr[np.clip(cols, 0, m - 1)]
        band = np.max([np.einsum("kd,kjd->kj", dn, near) for dn in shifted], axis=0)
    band = np.where(inside, band, -1.0).astype(np.float64)
    j_best = _band_dp(band, cols, t_new_s, dt_ref, max_ratio)
    k_all = np.arange(len(t_path_s))
    d = j_best - cols[:, 0]
    left = band[k_all, np.maximum(d - 1, 0)]
    mid = band[k_all, d]
    right = band[k_all, np.minimum(d + 1, band.shape[1] - 1)]
    curv = left - 2 * mid + right
    ok = (curv < -1e-9) & (d > 0) & (d < band.shape[1] - 1)
    off = np.where(ok, 0.5 * (left - right) / np.where(ok, curv, -1.0), 0.0)
    t = np.interp(j_best + np.clip(off, -0.5, 0.5), np.arange(m), ref_t_s)
    return np.maximum.accumulate(t), mid


def _sequence_band(
    full: np.ndarray, cols: np.ndarray, slopes: np.ndarray, half_len: int, taps: int = 9
) -> np.ndarray:
    """:func:`~.align.sequence_enhance` of ``full`` read at the band cells only: the best mean
    along short straight sequences (``slopes`` in reference samples per new sample, ``half_len``
    new samples either side, at most ``taps`` read) through each cell."""
    n, m = full.shape
    ks = np.unique(np.round(np.linspace(-half_len, half_len, min(taps, 2 * half_len + 1))))
    rows = np.arange(n)[:, None]
    best = np.full(cols.shape, -np.inf, np.float32)
    for v in slopes:
        acc = np.zeros(cols.shape, np.float32)
        cnt = np.zeros(cols.shape, np.float32)
        for k in ks.astype(np.int64):
            r = rows + k
            c = cols + int(round(v * k))
            ok = (r >= 0) & (r < n) & (c >= 0) & (c < m)
            acc += np.where(ok, full[np.clip(r, 0, n - 1), np.clip(c, 0, m - 1)], 0.0)
            cnt += ok
        np.maximum(best, acc / np.maximum(cnt, 1.0), out=best)
    return best


def _shift_rows(thumbs: np.ndarray, dy: float) -> np.ndarray:
    """Thumbnails moved ``dy`` px down (linear interpolation, edge rows repeated)."""
    h, w = thumbs.shape[1:]
    mat = np.float32([[1, 0, 0], [0, 1, dy]])
    return np.stack(
        [
            cv2.warpAffine(t, mat, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            for t in thumbs
        ]
    )


def _band_dp(
    band: np.ndarray, cols: np.ndarray, t_new_s: np.ndarray, dt_ref: float, max_ratio: float
) -> np.ndarray:
    """Absolute reference sample per row of ``band`` on the best-scoring path whose reference
    sample never decreases and advances at most ``max_ratio`` times the new run's time."""
    n, w = band.shape
    acc = band[0].copy()
    back = np.zeros((n, w), np.int64)
    for k in range(1, n):
        step = max(1, int(np.ceil(max_ratio * (t_new_s[k] - t_new_s[k - 1]) / dt_ref)))
        shift = int(cols[k, 0] - cols[k - 1, 0])  # band start moved by this many samples
        best = np.full(w, -np.inf)
        arg = np.zeros(w, np.int64)
        d_all = np.arange(w)
        for back_by in range(step + 1):  # previous cells with j - step <= j' <= j
            prev = d_all + shift - back_by
            ok = (prev >= 0) & (prev < w)
            cand = np.where(ok, acc[np.clip(prev, 0, w - 1)], -np.inf)
            better = cand > best
            best = np.where(better, cand, best)
            arg = np.where(better, prev, arg)
        ok = np.isfinite(best)
        if not ok.any():  # the band jumped beyond reach: start again here
            acc = band[k].copy()
            back[k] = -1
            continue
        acc = np.where(ok, band[k] + np.where(ok, best, 0.0), -np.inf)
        back[k] = arg
    d = int(np.argmax(acc))
    out = np.empty(n, np.int64)
    for k in range(n - 1, -1, -1):
        out[k] = cols[k, d]
        if k > 0:
            d = int(back[k, d]) if back[k, d] >= 0 else int(np.argmax(band[k - 1]))
    return out
