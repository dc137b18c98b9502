"""Run-to-run alignment: a monotone path through the similarity matrix, refined below a frame
and verified geometrically.

1. ``coarse_path``: similarity matrix (new x ref, a matrix product of global descriptors), then a
   dynamic-programming monotone path with open begin and open end (local alignment: unrelated
   stretches at either end are left out), bounded slope, optionally kept inside a prior's band.
2. ``refine_path``: for each new sample, the best reference sample near the path, then the
   fractional position between neighbouring reference samples by projecting the new frame's
   fine descriptor onto the segment joining theirs (linear interpolation in descriptor space).
3. ``verify_path``: ORB matches with ratio test and RANSAC homography between new frames and
   the nearest reference frames on the path; inlier counts give confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import OrbFeatures, PairCheck, fine_vectors, verify_pair
from .model import Keyframes, TimePrior
from .progress import ProgressCallback, report


@dataclass(frozen=True)
class AlignParams:
    """Alignment knobs; the defaults are what the benchmark measures."""

    max_ratio: float = 3.0  # steepest reference/new pace ratio the path may take
    refine_radius_s: float = 0.35  # refinement looks this far around the coarse path
    min_inliers: int = 15  # RANSAC inliers for a pair to count as verified
    good_inliers: int = 40  # inliers for full confidence
    refine: bool = True  # sub-sample refinement (off only to measure what it adds)
    max_dp_cells: int = 4_000_000  # larger similarity matrices are searched on a coarser grid first


@dataclass(frozen=True)
class CoarsePath:
    """Indices into the new and reference samples, one reference sample per new sample."""

    i_new: np.ndarray
    j_ref: np.ndarray
    similarity: np.ndarray
    threshold: float
    grid_s: float = 0.0  # spacing of the grid the DP ran on (0: every sample)


def similarity_matrix(new: Keyframes, ref: Keyframes) -> np.ndarray:
    """Cosine similarity of every new sample to every reference sample, (n_new, n_ref) float32."""
    return new.desc @ ref.desc.T


def _threshold(sim: np.ndarray) -> float:
    """Score offset: between typical unrelated similarity and the typical best match."""
    best = np.median(sim.max(axis=1))
    floor = np.median(sim)
    return float(max(0.25, 0.5 * (best + floor)))


def _band_mask(new_t: np.ndarray, ref_t: np.ndarray, prior: TimePrior | None) -> np.ndarray | None:
    if prior is None:
        return None
    centre = np.interp(new_t, prior.t_new_s, prior.t_ref_s, left=np.nan, right=np.nan)
    mask = np.abs(ref_t[None, :] - centre[:, None]) <= prior.half_width_s
    mask[np.isnan(centre)] = True  # outside the prior: no constraint
    return mask


def coarse_path(
    new: Keyframes,
    ref: Keyframes,
    params: AlignParams = AlignParams(),
    prior: TimePrior | None = None,
) -> CoarsePath:
    """Best monotone path (open begin, open end) through the similarity matrix.

    When the full matrix would exceed ``params.max_dp_cells``, the DP runs on both runs thinned
    to a common grid (so memory and time stay bounded on long runs) and the path is interpolated
    for every new sample; :func:`refine_path` then searches around it wide enough to cover the grid.
    """
    n, m = len(new.t_s), len(ref.t_s)
    grid_s, ii, jj = 0.0, np.arange(n), np.arange(m)
    if n * m > params.max_dp_cells:
        grid_s = _dp_grid_s(new.t_s, ref.t_s, params.max_dp_cells)
        ii, jj = _thin(new.t_s, grid_s), _thin(ref.t_s, grid_s)
    sim = new.desc[ii] @ ref.desc[jj].T
    pi, pj, tau = _dp(sim, new.t_s[ii], ref.t_s[jj], params, prior)
    i_full, j_full = ii[pi], jj[pj]
    if grid_s:
        i_all = np.arange(i_full[0], i_full[-1] + 1)
        t_ref_path = np.interp(new.t_s[i_all], new.t_s[i_full], ref.t_s[j_full])
        j_all = np.clip(np.searchsorted(ref.t_s, t_ref_path), 0, m - 1)
        i_full, j_full = i_all, j_all
    s_path = np.einsum("ij,ij->i", new.desc[i_full], ref.desc[j_full])
    return CoarsePath(i_full, j_full, s_path, tau, grid_s)


def _dp_grid_s(t_new: np.ndarray, t_ref: np.ndarray, max_cells: int) -> float:
    """Smallest grid spacing (s) at which the thinned matrix fits in ``max_cells``."""
    dur_n, dur_r = float(t_new[-1] - t_new[0]), float(t_ref[-1] - t_ref[0])
    dt_n, dt_r = float(np.median(np.diff(t_new))), float(np.median(np.diff(t_ref)))
    s = min(dt_n, dt_r)
    while (dur_n / max(s, dt_n) + 1) * (dur_r / max(s, dt_r) + 1) > max_cells:
        s *= 1.15
    return s


def _thin(t: np.ndarray, grid_s: float) -> np.ndarray:
    """Indices of samples at least ``grid_s`` apart."""
    keep, last = [], -np.inf
    for k, x in enumerate(t):
        if x - last >= grid_s - 1e-9:
            keep.append(k)
            last = x
    return np.asarray(keep, np.int64)


def _dp(
    sim: np.ndarray,
    new_t: np.ndarray,
    ref_t: np.ndarray,
    params: AlignParams,
    prior: TimePrior | None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Local-alignment DP over ``sim``: path indices and the score offset used."""
    tau = _threshold(sim)
    score = sim - tau
    mask = _band_mask(new_t, ref_t, prior)
    if mask is not None:
        score = np.where(mask, score, -1.0)
    n, m = score.shape
    dt_new = float(np.median(np.diff(new_t))) if n > 1 else 0.1
    dt_ref = float(np.median(np.diff(ref_t))) if m > 1 else 0.1
    k_max = max(1, int(np.ceil(params.max_ratio * dt_new / dt_ref)))
    acc = np.empty((n, m), np.float32)
    back = np.zeros((n, m), np.int8)  # step taken in j to reach (i, j); -1 = path starts here
    acc[0] = score[0]
    back[0] = -1
    for i in range(1, n):
        prev = acc[i - 1]
        best = prev.copy()
        step = np.zeros(m, np.int8)
        for k in range(1, k_max + 1):
            shifted = np.full(m, -np.inf, np.float32)
            shifted[k:] = prev[:-k]
            better = shifted > best
            best = np.where(better, shifted, best)
            step[better] = k
        start = best <= 0
        acc[i] = score[i] + np.where(start, 0.0, best)
        back[i] = np.where(start, -1, step)
    i, j = np.unravel_index(int(np.argmax(acc)), acc.shape)
    path_i, path_j = [i], [j]
    while back[i, j] >= 0 and i > 0:
        j -= int(back[i, j])
        i -= 1
        path_i.append(i)
        path_j.append(j)
    return np.array(path_i[::-1]), np.array(path_j[::-1]), tau


def refine_path(
    new: Keyframes, ref: Keyframes, path: CoarsePath, params: AlignParams = AlignParams()
) -> tuple[np.ndarray, np.ndarray]:
    """Sub-sample reference time for each path sample, and its fine similarity (0..1)."""
    fn = fine_vectors(new.thumbs[path.i_new])
    fr_all = ref.thumbs
    t_ref = np.empty(len(path.i_new))
    quality = np.empty(len(path.i_new))
    dt_ref = float(np.median(np.diff(ref.t_s)))
    radius = max(2, int(round(max(params.refine_radius_s, 1.5 * path.grid_s) / dt_ref)))
    m = len(ref.t_s)
    cache: dict[int, np.ndarray] = {}

    def vec(j: int) -> np.ndarray:
        if j not in cache:
            cache[j] = fine_vectors(fr_all[j : j + 1])[0]
        return cache[j]

    if not params.refine:
        return ref.t_s[path.j_ref].astype(np.float64), np.array(
            [float(v @ vec(int(j))) for j, v in zip(path.j_ref, fn, strict=True)]
        )
    for k, (j0, v) in enumerate(zip(path.j_ref, fn, strict=True)):
        lo, hi = max(0, j0 - radius), min(m, j0 + radius + 1)
        sims = np.array([v @ vec(j) for j in range(lo, hi)])
        jb = lo + int(np.argmax(sims))
        quality[k] = float(sims.max())
        t_ref[k] = _project(v, jb, vec, ref.t_s, m)
    return t_ref, quality


def _project(v: np.ndarray, jb: int, vec, t: np.ndarray, m: int) -> float:
    """Reference time of ``v`` by projection onto the segments either side of sample ``jb``."""
    best_t, best_res = float(t[jb]), np.inf
    for a, b in ((jb - 1, jb), (jb, jb + 1)):
        if a < 0 or b >= m:
            continue
        ra, d = vec(a), vec(b) - vec(a)
        dd = float(d @ d)
        if dd < 1e-9:
            continue
        alpha = float(np.clip((v - ra) @ d / dd, 0.0, 1.0))
        res = float(np.linalg.norm(v - ra - alpha * d))
        if res < best_res:
            best_res, best_t = res, float(t[a] + alpha * (t[b] - t[a]))
    return best_t


def verify_path(
    new_t: np.ndarray,
    new_orbs: dict[int, OrbFeatures],
    ref: Keyframes,
    ref_orbs: dict[int, OrbFeatures],
    path_i: np.ndarray,
    t_ref_path: np.ndarray,
    progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, list[PairCheck]]:
    """Geometric checks for each path sample that has ORB features.

    Returns (indices into the path, checks). The reference side uses the ORB sample nearest
    in time to the refined reference time.
    """
    ref_keys = np.array(sorted(ref_orbs))
    ref_key_t = ref.t_s[ref_keys]
    idx, counts = [], []
    todo = [k for k, i in enumerate(path_i) if int(i) in new_orbs]
    for n_done, k in enumerate(todo):
        j = ref_keys[int(np.argmin(np.abs(ref_key_t - t_ref_path[k])))]
        idx.append(k)
        counts.append(verify_pair(new_orbs[int(path_i[k])], ref_orbs[int(j)]))
        if n_done % 10 == 0:
            report(progress, "verify", n_done, len(todo), "pairs")
    report(progress, "verify", len(todo), len(todo), "pairs")
    return np.array(idx, np.int64), counts
