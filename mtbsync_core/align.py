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

from . import pace_path
from .features import (
    OrbFeatures,
    PairCheck,
    fine_cache,
    fine_vectors,
    verify_pairs,
)
from .model import Keyframes, TimePrior
from .progress import ProgressCallback, report
from .vertex import place_by_vertex


@dataclass(frozen=True)
class AlignParams:
    """Alignment knobs; the defaults are what the benchmark measures."""

    max_ratio: float = 3.0  # steepest reference/new pace ratio the path may take
    refine_radius_s: float = 0.35  # refinement looks this far around the coarse path
    min_inliers: int = 15  # RANSAC inliers for a pair to count as verified
    good_inliers: int = 40  # inliers for full confidence
    refine: bool = True  # sub-sample refinement (off only to measure what it adds)
    max_dp_cells: int = 4_000_000  # larger similarity matrices are searched on a coarser grid first
    seq_half_s: float = 1.2  # half-length (s of the new run) of the sequences that are compared
    tau_z: float = 1.0  # DP score offset, in contrast-normalised units
    tau_decide: float = 1.5  # the stricter offset at which path and null totals are compared
    match_ratio: float = 1.5  # the path must score this many times the reversed-reference search
    remeasure_below_ratio: float = 10.0  # a weaker path is searched again through the mount
    # sequence evidence above its null that starts and ends the overlap
    overlap_significance: float = 0.5
    null_floor_s: float = 2.0  # the null score is at least this many seconds at one bar of evidence
    null_blocks: int = 6  # the reversed reference is also searched in this many shuffled blocks
    null_shuffles: int = 1  # ... in this many orders
    end_frame_share: float = 0.6  # at the overlap's ends, frames' own evidence vs the path median
    fine_min: float = 0.5  # fine similarity above which a frame near the path is placed by its look
    # Refinement may also fit a small shift of each frame (a shaking camera): "never",
    # "always", or "mount": once the cameras are known to differ (a mount was compensated).
    # Not always: where moving on looks like a shift (a pan) it trades time for shift. Measured
    # with a mount change on real GoPro clips, median 22.7 -> 12.3 ms (crop, roll, shift, 4 px
    # shake), 18.3 -> 14.1, 22.6 -> 15.6; on the pure-pan bench pair, always: 0.8 -> 7.6 ms.
    refine_shift: str = "mount"
    shift_ridge: float = 0.3  # how firmly the fitted shift is held near zero
    # Another line through a scene with depth (see mtbsync_core.along): matched keypoints spread
    # this many times more across the picture than down it, by ``lateral_min_px`` to
    # ``lateral_max_px`` (more is mismatched keypoints, not parallax), over at least
    # ``lateral_min_pairs`` pairs, and the path is placed by row profiles within
    # ``along_radius_s`` of the coarse path instead of by the frames' look. The profiles are
    # made from the mid thumbnails (72 rows) in log brightness, high-passed down the picture
    # (features.row_profiles): parallax_line 34.5 -> 13.9 ms median, 47.5 -> 86.5 % within a
    # frame, parallax_light 111.7 -> 66.8 ms (fine 36-row thumbnails in plain brightness before).
    along_track: bool = True
    lateral_ratio: float = 1.4
    lateral_min_px: float = 1.5
    lateral_max_px: float = 15.0
    lateral_min_pairs: int = 8
    along_radius_s: float = 0.5
    along_max_confidence: float = 0.5  # such a placement is a few frames good: never trusted
    # neighbouring reference samples at least this alike for a frame to lie between them
    fine_continuity: float = 0.7
    fine_trust: float = 0.75  # fine similarity above which a frame's own look places it in time
    # Once the cameras differ (shift fitted), place each frame at the vertex of its distances to
    # the three nearest reference samples, what a small view change of the new frame explains
    # taken out (see :mod:`.vertex`), instead of on the segment between two samples. On real
    # GoPro clips with a changed mount (bench_world karma_mount_a/b/c) median 14.1 / 12.3 / 16.1
    # -> 10.3 / 9.9 / 9.5 ms, p95 36.3 / 33.6 / 41.2 -> 30.2 / 30.4 / 31.0, within a frame 86.7 /
    # 89.8 / 82.5 -> 92.1 / 92.7 / 91.8 %; karma_mount_b's max 45 -> 67 ms (the warp's first
    # frames, where the camera barely moves). On with the paced pass below: 10.4 / 9.9 / 9.6 ms,
    # max 41 / 67 / 40 ms; every other pair's figures are unchanged (the gates keep it out).
    refine_vertex: bool = True
    # ... where the new frames are reference frames seen through a small view change (median
    # fine similarity at least this: real GoPro clips with a changed mount 0.996-0.9995; another
    # line through a scene with depth 0.81, where no reference time shows the same view) ...
    vertex_min_quality: float = 0.95
    # ... and where at least this share of the motion between neighbouring reference samples
    # is left after removing a view change (depth); generated flat-scene pairs: 0.22-0.26,
    # real GoPro clips: 0.71-0.75, the parallax generator 0.86
    vertex_min_depth: float = 0.5
    # How firmly the zoom taken out is held near zero (relative to its size): 0.3 removes about
    # three quarters of a zoom-like difference. All of it (0) frees the frames from the mount's
    # zoom error but also from part of moving on; none leaves that error in. Real GoPro clips
    # with a changed mount (bench_world, median / p95 ms, derivatives of the new frame alone):
    # segment 14.1/36.3, 12.3/33.6, 16.1/41.2; ridge 0: 10.9/31.4, 12.0/36.1, 9.2/30.1; 0.3:
    # 10.7/30.1, 10.8/33.1, 9.7/29.9.
    vertex_zoom_ridge: float = 0.3
    # Where the depth is less (the vertex is not used), the segment fit again on every frame with
    # the zoom the mount left over taken out: one zoom for the run, measured from the frames
    # (:func:`.vertex.shared_zoom_error`). Real GoPro clips whose motion is mostly a view change
    # (fourth session, held-out pairs): heromode_mount median 15.6 -> 10.7 ms, p95 38.7 -> 29.9;
    # heromode_mount_heldout_d 28.7 -> 9.5, heromode_mount_heldout_g 11.9 -> 10.6; but the
    # generated flat pairs with a mount: stop_leadin_60fps 3.2 -> 3.3 ms, long_720p 3.7 -> 5.4
    # (p95 12.3 -> 17.5; over a flat scene a zoom and moving on are one change): opt-in.
    segment_shared_zoom: bool = False
    # ... and where there is depth, the vertex with that shared zoom taken out instead of the
    # ridge: karma_mount_a/b/c 10.6 / 10.0 / 9.6 -> 9.9 / 9.8 / 9.2 ms, but held out
    # karma_mount_heldout_f 11.2 -> 13.3 (its zoom found 0.5 % off where the mount was right):
    # opt-in.
    vertex_shared_zoom: bool = False
    # Share of a sequence's new samples that must look the same as its centre (a stop of the
    # new run) before the sequence may hold one reference frame (pace 0); 0 turns this off.
    # Moving new frames that all resemble one reference frame are a look-alike (a snowbank, a
    # field), not a stop. At 0.5: Nordland native 74.3 -> 82.7 % within a frame, full 85.5 ->
    # 86.2 %, but held-out b 77.7 -> 77.1 % and parallax_season 467.9 -> 472.9 ms median: off.
    stop_share: float = 0.0
    # With ``pace_band_s`` > 0 the path is first searched as straight runs at constant paces
    # (pace_path), changing pace at ``pace_switch_cost``, then again by the plain search kept
    # within ``pace_band_s`` (reference s) of it. At 0.3: Nordland full 85.5 -> 89.6 % within a
    # frame (p95 957 -> 144 ms), native 74.3 -> 81.3 %, held-out a/b 85.0 -> 86.0 % and 77.7 ->
    # 79.4 %, short and the test's seed-21 construction unchanged; karma_mount_a's overlap starts
    # 0.3 s later (86.7 -> 85.3 % within a frame alone; 91.0 % with the vertex refinement) and
    # parallax_season (unsolved either way, 1.9 % within a frame) 467.9 -> 511.7 ms median. On:
    # real footage first; about +0.03 of a plain decode on the 2-minute pairs (noisy).
    pace_switch_cost: float = 0.5
    pace_band_s: float = 0.3
    paced_stop_share: float = 0.5  # the paced runs hold one frame only where this still


#: The paced first pass searches this far (reference s) either side of the plain path.
PACE_SEARCH_S = 5.0

#: Share of a sequence's samples that must lie inside the matrix for it to count in a row's
#: null evidence (the per-frame significance; the decision's null total counts every sequence).
NULL_ROW_COVER = 0.5

#: Pace ratios (reference seconds per new second) the sequence comparison tries: a stop to 2x.
SEQ_PACES = (0.0, 0.5, 0.6, 0.75, 0.9, 1.0, 1.15, 1.33, 1.6, 2.0)


@dataclass(frozen=True)
class CoarsePath:
    """Indices into the new and reference samples, one reference sample per new sample.

    ``similarity`` is the raw cosine of the global descriptors on the path; ``evidence`` the
    sequence score there (contrast-normalised units: 0 is an average pair, ``tau_z`` the DP's
    bar). ``score`` is the path's total and ``null_score`` the best total of the same search
    against the time-reversed reference, which no true match can follow: their ratio says
    whether the runs match at all.
    """

    i_new: np.ndarray
    j_ref: np.ndarray
    t_ref_s: np.ndarray  # reference time of each path sample, below a sample (peak of the evidence)
    similarity: np.ndarray
    evidence: np.ndarray
    null_evidence: np.ndarray  # best sequence score of the same frames, reversed reference
    frame_evidence: np.ndarray  # each path sample's own contrast-normalised similarity
    score: float
    null_score: float
    grid_s: float = 0.0  # spacing of the grid the DP ran on (0: every sample)

    @property
    def match_ratio(self) -> float:
        """Path score over the reversed-reference score (large: a real match)."""
        return self.score / max(self.null_score, 1e-9)


def similarity_matrix(new: Keyframes, ref: Keyframes) -> np.ndarray:
    """Cosine similarity of every new sample to every reference sample, (n_new, n_ref) float32."""
    return new.desc @ ref.desc.T


def contrast_normalise(
    sim: np.ndarray, w_new: np.ndarray | None = None, w_ref: np.ndarray | None = None
) -> np.ndarray:
    """Each row, then each column, to zero mean and unit spread (SeqSLAM's local contrast
    enhancement): a frame that resembles everything (sky, snow) no longer wins everywhere.

    ``w_new`` / ``w_ref`` weigh the samples in those statistics (see :func:`repeat_weights`): a
    stop repeats one frame for many samples, and counted many times it would pull its own match
    down."""
    z = _standardise(sim, axis=1, w=w_ref)
    return _standardise(z, axis=0, w=w_new)


def _standardise(x: np.ndarray, axis: int, w: np.ndarray | None) -> np.ndarray:
    if w is None:
        mean, sd = x.mean(axis=axis, keepdims=True), x.std(axis=axis, keepdims=True)
    else:
        shape = (1, -1) if axis == 1 else (-1, 1)
        wn = (w / w.sum()).reshape(shape).astype(np.float32)
        mean = (x * wn).sum(axis=axis, keepdims=True)
        sd = np.sqrt(np.maximum((x * x * wn).sum(axis=axis, keepdims=True) - mean * mean, 0))
    return ((x - mean) / (sd + 1e-6)).astype(np.float32)


def repeat_weights(desc: np.ndarray, same: float = 0.98) -> np.ndarray:
    """1 / length of the run of near-identical consecutive samples each sample belongs to: a
    stop (or a frozen picture) counts once, however long it lasts."""
    n = len(desc)
    if n < 2:
        return np.ones(n)
    alike = np.einsum("ij,ij->i", desc[1:], desc[:-1]) >= same
    run_id = np.concatenate([[0], np.cumsum(~alike)])
    lengths = np.bincount(run_id)
    return 1.0 / lengths[run_id]


def sequence_enhance(
    z: np.ndarray,
    slopes: np.ndarray,
    half_len: int,
    taps: int = 9,
    row_max_share: float | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Best mean of ``z`` along short straight sequences through each cell.

    ``slopes`` are in reference samples per new sample; a sequence runs ``half_len`` new samples
    either side (at most ``taps`` samples of it are read). Cells near the edges average what
    lies inside the matrix. With ``row_max_share``, also each row's best over the sequences
    with at least that share of their samples inside (-inf where none has): near a corner a
    sequence shrinks to a cell or two, whose mean is as high as a single frame's best match.
    """
    n, m = z.shape
    ks = np.unique(np.round(np.linspace(-half_len, half_len, min(taps, 2 * half_len + 1))))
    best = np.full((n, m), -np.inf, np.float32)
    row_best = np.full(n, -np.inf, np.float32)
    need = 0.0 if row_max_share is None else row_max_share * len(ks)
    acc = np.empty((n, m), np.float32)
    cnt = np.empty((n, m), np.float32)
    for v in slopes:
        acc.fill(0.0)
        cnt.fill(0.0)
        for k in ks.astype(np.int64):
            dj = int(round(v * k))
            i0, i1 = max(0, -k), min(n, n - k)
            j0, j1 = max(0, -dj), min(m, m - dj)
            if i1 <= i0 or j1 <= j0:
                continue
            acc[i0:i1, j0:j1] += z[i0 + k : i1 + k, j0 + dj : j1 + dj]
            cnt[i0:i1, j0:j1] += 1.0
        mean = acc / np.maximum(cnt, 1.0)
        np.maximum(best, mean, out=best)
        if row_max_share is not None:
            covered = np.where(cnt >= need, mean, -np.inf)
            np.maximum(row_best, covered.max(axis=1), out=row_best)
    return best if row_max_share is None else (best, row_best)


def static_share(desc: np.ndarray, half_len: int, same: float | None = None) -> np.ndarray:
    """For each sample, the share of the samples within ``half_len`` of it that look the same
    as it: near 1 inside a stop, near 0 where the camera moves.

    "The same" is descriptor cosine >= ``same``; by default relative to the run's own
    consecutive samples (a shaking camera at a stop is far from identical frames, but far more
    alike than while it moves): half-way from their median cosine to 1, at most 0.98."""
    n = len(desc)
    if same is None:
        step = np.einsum("ij,ij->i", desc[1:], desc[:-1]) if n > 1 else np.ones(1)
        med = float(np.median(step))
        same = min(0.98, med + 0.5 * (1.0 - med))
    hits = np.zeros(n)
    cnt = np.zeros(n)
    for k in range(-half_len, half_len + 1):
        i0, i1 = max(0, -k), min(n, n - k)
        if i1 <= i0:
            continue
        hits[i0:i1] += np.einsum("ij,ij->i", desc[i0:i1], desc[i0 + k : i1 + k]) >= same
        cnt[i0:i1] += 1.0
    return hits / np.maximum(cnt, 1.0)


def _paced_enhance(z: np.ndarray, slopes: np.ndarray, half: int, still: np.ndarray) -> np.ndarray:
    """:func:`sequence_enhance`, where the sequences that hold one reference frame (slope 0)
    count only on the rows where the new run stands still (``still``)."""
    moving = slopes[slopes != 0]
    enh = sequence_enhance(z, moving, half)
    if len(moving) == len(slopes) or not still.any():
        return enh
    held = sequence_enhance(z, np.zeros(1), half)
    return np.where(still[:, None], np.maximum(enh, held), enh).astype(np.float32)


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
    """Best monotone path (open begin, open end) through the sequence-enhanced similarity matrix.

    When the full matrix would exceed ``params.max_dp_cells``, the DP runs on both runs thinned
    to a common grid (so memory and time stay bounded on long runs) and the path is interpolated
    for every new sample; :func:`refine_path` then searches around it wide enough to cover the grid.
    """
    n, m = len(new.t_s), len(ref.t_s)
    grid_s, ii, jj = 0.0, np.arange(n), np.arange(m)
    if n * m > params.max_dp_cells:
        grid_s = _dp_grid_s(new.t_s, ref.t_s, params.max_dp_cells)
        ii, jj = _thin(new.t_s, grid_s), _thin(ref.t_s, grid_s)
    tn, tr = new.t_s[ii], ref.t_s[jj]
    dt_new = float(np.median(np.diff(tn))) if len(tn) > 1 else 0.1
    dt_ref = float(np.median(np.diff(tr))) if len(tr) > 1 else 0.1
    w_new = repeat_weights(new.desc[ii])
    z = contrast_normalise(new.desc[ii] @ ref.desc[jj].T, w_new, repeat_weights(ref.desc[jj]))
    slopes = np.asarray(SEQ_PACES) * dt_new / dt_ref
    half = max(1, int(round(params.seq_half_s / dt_new)))
    k_max = max(1, int(np.ceil(params.max_ratio * dt_new / dt_ref)))
    if params.stop_share > 0:
        still = static_share(new.desc[ii], half) >= params.stop_share
        enh = _paced_enhance(z, slopes, half, still)
    else:
        enh = sequence_enhance(z, slopes, half)
    # A stop repeats one frame: its rows count once in all, or one frame's look would decide
    # where the whole stop goes; the frames around it do.
    w_rows = w_new[:, None].astype(np.float32)
    mask = _band_mask(tn, tr, prior)

    def scored(e: np.ndarray, bar: float) -> np.ndarray:
        out = (e - bar) * w_rows
        return out if mask is None else np.where(mask, out, -5.0).astype(np.float32)

    pi, pj, _ = _dp(scored(enh, params.tau_z), k_max)
    if params.pace_band_s > 0 and len(pi) > 2:
        band = _paced_band(z, (pi, pj), new.desc[ii], w_new, dt_new, dt_ref, half, params)
        if mask is not None:
            band &= mask
        pi, pj, _ = _dp(np.where(band, scored(enh, params.tau_z), -5.0), k_max)
    # The decision compares totals at a stricter bar (``tau_decide``) than the path's: what a
    # weak stretch adds there is noise. Sequences that run backwards through the reference give
    # what the search finds where no true match can be: the whole reference reversed, or its
    # blocks reversed in shuffled order. The path must beat the best of them.
    total = _dp(scored(enh, params.tau_decide), k_max)[2]
    enh_null, null_rows = sequence_enhance(z, -slopes, half, row_max_share=NULL_ROW_COVER)
    enh_null = enh_null[:, ::-1]
    null = max(
        _dp((enh_null[:, cols] - params.tau_decide) * w_rows, k_max)[2]
        for cols in _null_orders(len(tr), params.null_blocks, params.null_shuffles)
    )
    # A floor: the null of a short search is a noisy small number; no match is shorter or weaker
    # than ``null_floor_s`` seconds of samples one bar above the decision's.
    null = max(null, params.null_floor_s / dt_new * params.tau_decide)
    evidence = enh[pi, pj]
    z_path = z[pi, pj]
    # Per row, only sequences mostly inside the matrix: at its corners (the runs' ends) a
    # sequence is a cell or two, and the null would be the frame's own best match.
    null_evidence = np.where(np.isfinite(null_rows), null_rows, enh_null.max(axis=1))[pi]
    t_path = np.interp(pj + _peak_offset(enh, pi, pj), np.arange(len(tr)), tr)
    i_full, j_full = ii[pi], jj[pj]
    if grid_s:
        i_all = np.arange(i_full[0], i_full[-1] + 1)
        t_path = np.interp(new.t_s[i_all], new.t_s[i_full], t_path)
        evidence = np.interp(new.t_s[i_all], new.t_s[i_full], evidence)
        null_evidence = np.interp(new.t_s[i_all], new.t_s[i_full], null_evidence)
        z_path = np.interp(new.t_s[i_all], new.t_s[i_full], z_path)
        j_all = np.clip(np.searchsorted(ref.t_s, t_path), 0, m - 1)
        i_full, j_full = i_all, j_all
    s_path = np.einsum("ij,ij->i", new.desc[i_full], ref.desc[j_full])
    return CoarsePath(
        i_full,
        j_full,
        t_path,
        s_path,
        evidence.astype(np.float64),
        null_evidence.astype(np.float64),
        z_path.astype(np.float64),
        total,
        null,
        grid_s,
    )


def _paced_band(
    z: np.ndarray,
    plain: tuple[np.ndarray, np.ndarray],
    desc: np.ndarray,
    w_new: np.ndarray,
    dt_new: float,
    dt_ref: float,
    half: int,
    params: AlignParams,
) -> np.ndarray:
    """Cells within ``params.pace_band_s`` of the path of straight runs at constant paces
    (:func:`pace_path.paced_dp`), searched within ``PACE_SEARCH_S`` of the ``plain`` path's
    rows and columns; rows it does not reach are left free (the ends)."""
    n, m = z.shape
    rows = np.arange(plain[0][0], plain[0][-1] + 1)
    wide = int(round(PACE_SEARCH_S / dt_ref))
    lo = np.interp(rows, plain[0], plain[1]).astype(np.int64) - wide
    slopes = np.concatenate([[0.0], pace_path.PACE_GRID]) * dt_new / dt_ref
    per = pace_path.pace_scores(z, slopes, half, rows, lo, 2 * wide + 1)
    still = static_share(desc, half)[rows] >= params.paced_stop_share
    per[0][~still] = -3.0  # no holding one reference frame while the new run moves
    per = np.nan_to_num(per, nan=-5.0)
    per -= params.tau_z
    per *= w_new[rows][None, :, None].astype(np.float32)
    pi, pj, _ = pace_path.paced_dp(per, slopes, params.pace_switch_cost, lo)
    centre = np.full(n, np.nan)
    centre[rows[pi]] = pj
    width = round(params.pace_band_s / dt_ref)
    band = np.abs(np.arange(m)[None, :] - centre[:, None]) <= width
    band[np.isnan(centre)] = True
    return band


def _peak_offset(e: np.ndarray, pi: np.ndarray, pj: np.ndarray) -> np.ndarray:
    """Sub-sample position (-0.5..0.5) of the peak of ``e`` along each row at the path cells:
    the vertex of the parabola through the cell and its two neighbours."""
    m = e.shape[1]
    left = e[pi, np.maximum(pj - 1, 0)]
    mid = e[pi, pj]
    right = e[pi, np.minimum(pj + 1, m - 1)]
    curv = left - 2 * mid + right
    off = np.where(curv < -1e-6, 0.5 * (left - right) / np.where(curv < -1e-6, curv, -1.0), 0.0)
    return np.clip(off, -0.5, 0.5)


def _null_orders(m: int, blocks: int, shuffles: int) -> list[np.ndarray]:
    """Column orders of the reversed-sequence matrix: as it is, and ``shuffles`` orders of its
    ``blocks`` blocks (fixed seed: the same videos give the same decision)."""
    orders = [np.arange(m)]
    parts = np.array_split(np.arange(m), min(blocks, max(1, m // 4)))
    rng = np.random.default_rng(0)
    for _ in range(shuffles if len(parts) > 1 else 0):
        orders.append(np.concatenate([parts[k] for k in rng.permutation(len(parts))]))
    return orders


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


def _dp(score: np.ndarray, k_max: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Local-alignment DP over ``score`` (steps of 0..``k_max`` reference samples per new
    sample): the best path's indices and its total score."""
    n, m = score.shape
    acc = np.empty((n, m), np.float32)
    back = np.zeros((n, m), np.int8)  # step taken in j to reach (i, j); -1 = path starts here
    acc[0] = score[0]
    back[0] = -1
    padded = np.full(m + k_max, -np.inf, np.float32)
    # Row k of ``steps``: the previous row moved k reference samples on (-inf where nothing
    # reaches); argmax takes the smallest step among equals.
    steps = np.lib.stride_tricks.sliding_window_view(padded, m)[::-1]
    for i in range(1, n):
        padded[k_max:] = acc[i - 1]
        step = steps.argmax(axis=0).astype(np.int8)
        best = steps.max(axis=0)
        start = best <= 0
        acc[i] = score[i] + np.where(start, 0.0, best)
        back[i] = np.where(start, -1, step)
    i, j = np.unravel_index(int(np.argmax(acc)), acc.shape)
    total = float(acc[i, j])
    path_i, path_j = [i], [j]
    while back[i, j] >= 0 and i > 0:
        j -= int(back[i, j])
        i -= 1
        path_i.append(i)
        path_j.append(j)
    return np.array(path_i[::-1]), np.array(path_j[::-1]), total


def refine_path(
    new: Keyframes, ref: Keyframes, path: CoarsePath, params: AlignParams = AlignParams()
) -> tuple[np.ndarray, np.ndarray]:
    """Sub-sample reference time for each path sample, and its fine similarity (0..1)."""
    fn = fine_vectors(new.thumbs[path.i_new])
    fr_all = ref.thumbs
    t_ref = np.empty(len(path.i_new))
    dt_ref = float(np.median(np.diff(ref.t_s)))
    radius = max(2, int(round(max(params.refine_radius_s, 1.5 * path.grid_s) / dt_ref)))
    m = len(ref.t_s)
    kept = fine_cache(fr_all)  # the reference's fine vectors, kept between calls

    def vec(j: int) -> np.ndarray:
        return kept.vec(fr_all, j)

    def grad(j: int) -> np.ndarray:
        return kept.grad(fr_all, j)

    sims_near, quality = [], np.empty(len(path.i_new))
    for k, (j0, v) in enumerate(zip(path.j_ref, fn, strict=True)):
        lo, hi = max(0, j0 - radius), min(m, j0 + radius + 1)
        sims = np.array([v @ vec(j) for j in range(lo, hi)])
        sims_near.append((lo, sims))
        quality[k] = float(sims.max())
    if not params.refine:
        return path.t_ref_s.astype(np.float64), quality
    # Where the runs look alike, each frame's own look places it between two reference samples.
    # Where they do not (another season, light or line), a fine match far from the sequence
    # evidence's peak is more likely a look-alike elsewhere: the peak's time stands.
    look_alike = float(np.median(quality)) >= params.fine_trust
    slack = 1 + round(path.grid_s / dt_ref)
    shaken = grad if params.refine_shift == "always" else None
    fits = []
    for k, (j0, (lo, sims)) in enumerate(zip(path.j_ref, sims_near, strict=True)):
        jb = lo + int(np.argmax(sims))
        near = abs(jb - j0) <= slack and quality[k] >= params.fine_min
        trusted = (near or (look_alike and quality[k] >= params.fine_trust)) and _continuous(
            vec, jb, m, params.fine_continuity
        )
        fits.append(_segment(fn[k], jb, vec, m, shaken, params.shift_ridge) if trusted else None)
    for k, f in enumerate(fits):
        if f is None:
            t_ref[k] = path.t_ref_s[k]
            continue
        a, alpha = f[0], f[1]
        t_ref[k] = ref.t_s[a] + alpha * (ref.t_s[a + 1] - ref.t_s[a])
    same_view = float(np.median(quality)) >= params.vertex_min_quality
    if shaken is not None and params.refine_vertex and same_view:
        t_ref = place_by_vertex(
            t_ref,
            fn,
            new.thumbs[path.i_new],
            fits,
            vec,
            ref.t_s,
            params.vertex_min_depth,
            params.vertex_zoom_ridge,
            ref.thumbs,
            segment=(
                (lambda v, j: _segment(v, j, vec, m, shaken, params.shift_ridge))
                if params.segment_shared_zoom
                else None
            ),
            shared_zoom=params.vertex_shared_zoom,
        )
    return t_ref, quality


def _continuous(vec, jb: int, m: int, min_sim: float) -> bool:
    """True when reference sample ``jb`` resembles its neighbours: only then does a frame lie
    *between* two samples (a slide show, or a gap in the video, has nothing in between)."""
    sims = [float(vec(jb) @ vec(j)) for j in (jb - 1, jb + 1) if 0 <= j < m]
    return bool(sims) and max(sims) >= min_sim


def _segment(v: np.ndarray, jb: int, vec, m: int, grad=None, ridge: float = 0.05):
    """The segment either side of sample ``jb`` that ``v`` lies on: (a, alpha, shift or None).

    Projection onto the segment joining two samples' descriptors; with ``grad`` (sample ->
    (2, d) derivatives for a one-pixel move of the picture) a small shift is fitted at the same
    time, ``ridge`` keeping it small where moving on and shifting look alike."""
    best, best_res = (jb, 0.0, None), np.inf
    for a, b in ((jb - 1, jb), (jb, jb + 1)):
        if a < 0 or b >= m:
            continue
        ra, d = vec(a), vec(b) - vec(a)
        if float(d @ d) < 1e-9:
            continue
        basis = d[None, :] if grad is None else np.vstack([d, grad(a)])
        coef, res = _fit_segment(v - ra, basis, ridge)
        if res < best_res:
            best_res, best = res, (a, float(coef[0]), coef[1:] if grad is not None else None)
    return best


def _fit_segment(x: np.ndarray, basis: np.ndarray, ridge: float) -> tuple[np.ndarray, float]:
    """Least squares ``x ~ alpha * basis[0] + shift . basis[1:]`` (shift ridge-penalised), alpha
    kept in 0..1; returns (coefficients, residual norm)."""
    gram = basis @ basis.T
    pen = np.zeros(len(basis))
    pen[1:] = ridge * float(np.trace(gram[1:, 1:])) / max(len(basis) - 1, 1)
    coef = np.linalg.solve(gram + np.diag(pen) + 1e-9 * np.eye(len(basis)), basis @ x)
    alpha = float(np.clip(coef[0], 0.0, 1.0))
    if alpha != coef[0] and len(basis) > 1:
        g = gram[1:, 1:] + np.diag(pen[1:])
        coef[1:] = np.linalg.solve(g + 1e-9 * np.eye(len(g)), basis[1:] @ (x - alpha * basis[0]))
    coef[0] = alpha
    return coef, float(np.linalg.norm(x - coef @ basis))


def nearest_keys(t_s: np.ndarray, orbs: dict[int, OrbFeatures], t_want_s: np.ndarray) -> np.ndarray:
    """For each time in ``t_want_s``, the sample index (a key of ``orbs``) of the keypoint
    sample nearest in time (``t_s``: every sample's time)."""
    keys = np.array(sorted(orbs))
    key_t = t_s[keys]
    return keys[np.argmin(np.abs(key_t[None, :] - np.asarray(t_want_s)[:, None]), axis=1)]


def verify_path(
    new_t: np.ndarray,
    new_orbs: dict[int, OrbFeatures],
    ref: Keyframes,
    ref_orbs: dict[int, OrbFeatures],
    path_i: np.ndarray,
    t_ref_path: np.ndarray,
    progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, list[PairCheck], np.ndarray]:
    """Geometric checks for each path sample that has ORB features.

    Returns (indices into the path, checks, the reference sample each was checked against).
    The reference side uses the ORB sample nearest in time to the refined reference time.
    """
    idx, counts, used = [], [], []
    todo = [k for k, i in enumerate(path_i) if int(i) in new_orbs]
    nearest = nearest_keys(ref.t_s, ref_orbs, t_ref_path[todo])
    checks = verify_pairs(
        [(new_orbs[int(path_i[k])], ref_orbs[int(j)]) for k, j in zip(todo, nearest, strict=True)]
    )
    for n_done, (k, j, check) in enumerate(zip(todo, nearest, checks, strict=True)):
        idx.append(k)
        used.append(int(j))
        counts.append(check)
        if n_done % 10 == 0:
            report(progress, "verify", n_done, len(todo), "pairs")
    report(progress, "verify", len(todo), len(todo), "pairs")
    return np.array(idx, np.int64), counts, np.array(used, np.int64)
