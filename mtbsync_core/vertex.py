"""Sub-sample placement of a frame by the vertex of its distances to the reference, for a
camera whose view differs a little from the reference's (a changed mount, shake).

The segment fit in :func:`.align.refine_path` projects a new frame's fine descriptor onto the
segment joining two reference samples. Once a mount has been compensated, what is left of it
(a zoom off by a few tenths of a percent reads as moving on by about ten milliseconds on a
camera going forward) and the frame's own shake move that projection. Here a frame is placed
where its distance to the reference, with what a small view change of the frame explains
taken out, is least: the vertex of the parabola through its distances to three neighbouring
reference samples. The part taken out is the same for every sample, so the distance still
grows quadratically about the right time; noise only raises the whole parabola.

Over a scene with little depth (a pan, a far view) the vertex has too little left to go on and
the segment fit places the frames; the mount's zoom error still reads as moving on there, so it
is measured once for the run, the zoom at which the frames (each with its own shift and roll)
come nearest the reference (:func:`shared_zoom_error`), and taken out of every frame first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .features import fine_similarity_derivatives

FineVector = Callable[[int], np.ndarray]  # reference sample index -> its fine vector
Residual = Callable[[np.ndarray], float]  # a descriptor difference -> its energy
Segment = Callable[[np.ndarray, int], tuple]  # (fine vector, sample) -> (a, alpha, shift)


def place_by_vertex(
    t_ref: np.ndarray,
    fn: np.ndarray,
    thumbs: np.ndarray,
    fits: Sequence[tuple | None],
    vec: FineVector,
    t_s: np.ndarray,
    min_depth: float,
    zoom_ridge: float = 0.0,
    ref_thumbs: np.ndarray | None = None,
    segment: Segment | None = None,
    shared_zoom: bool = False,
) -> np.ndarray:
    """``t_ref`` (reference time of each path sample) with each frame that has a segment fit
    (``fits[k]``: (sample, alpha, ...) or None; ``fn[k]`` its fine vector, ``thumbs[k]`` its
    fine thumbnail) placed again, with what is left of the mount taken out.

    Where the run's motion is mostly what a view change of the frame cannot explain (a scene
    with depth: the median share of the motion between a frame's neighbouring reference
    samples left after removing its shift, zoom and roll is at least ``min_depth``), each frame
    is placed by :func:`vertex_time`, its own shift and roll taken out and its zoom held by
    ``zoom_ridge`` (:func:`view_change_residual`); with ``shared_zoom``, the zoom left by the
    mount is instead measured once for the run (:func:`shared_zoom_error`), taken out of every
    frame and the rest of the zoom left in. Elsewhere (little depth: a pan, a far view) the
    vertex has too little left to go on, and with ``segment`` ((fine vector, sample) -> (a,
    alpha, shift): the segment fit of :func:`.align.refine_path`) every frame is fitted again
    with the shared zoom taken out; without it the segment fit stands.

    The view change's derivatives are taken on the mean of the frame (brought to the reference
    sample's contrast) and ``ref_thumbs`` (every reference sample's fine thumbnail) at the
    sample its segment fit is nearest, when given: half the new frame's own noise and
    compression, and still one subspace for every distance. Real GoPro clips with a changed
    mount (bench_world karma_mount_a/b/c, median ms): new frame alone 10.7 / 10.9 / 9.7,
    the mean 10.3 / 9.9 / 9.5."""
    m = len(t_s)
    moves, depth = {}, []
    for k, f in enumerate(fits):
        if f is None:
            continue
        j = int(f[0]) + round(float(f[1]))
        if not 1 <= j <= m - 2:
            continue
        th = thumbs[k] if ref_thumbs is None else _between(thumbs[k], ref_thumbs[j])
        g = fine_similarity_derivatives(th).T.astype(np.float64)
        q, _ = np.linalg.qr(g)
        d = (vec(j + 1) - vec(j - 1)).astype(np.float64)
        depth.append(float(np.linalg.norm(d - q @ (q.T @ d)) / max(np.linalg.norm(d), 1e-9)))
        moves[k] = (j, g)
    if not depth:
        return t_ref
    with_depth = float(np.median(depth)) >= min_depth
    if not with_depth and segment is None:
        return t_ref
    zoom = shared_zoom_error(fn, moves, vec, t_s) if shared_zoom or not with_depth else 0.0
    out = t_ref.copy()
    for k, (j, g) in moves.items():
        v = fn[k] - zoom * g[:, 2]
        if with_depth:
            energy = shake_residual(g) if shared_zoom else view_change_residual(g, zoom_ridge)
            t = vertex_time(v, energy, j, vec, t_s)
            if t is not None:
                out[k] = t
        else:
            a, alpha, _ = segment(v.astype(np.float32), j)
            out[k] = t_s[a] + alpha * (t_s[a + 1] - t_s[a])
    return out


#: Zoom errors (log scale) :func:`shared_zoom_error` considers: a mount measured from a few
#: keypoint pairs is off by a few tenths of a percent (real GoPro clips: 0.1-0.7 %).
ZOOM_GRID = np.linspace(-0.012, 0.012, 49)


def shared_zoom_error(
    fn: np.ndarray, moves: dict[int, tuple[int, np.ndarray]], vec: FineVector, t_s: np.ndarray
) -> float:
    """The zoom (log scale) the new frames still show after mount compensation: the median over
    frames of the zoom at which each frame, its own shift and roll taken out, comes nearest the
    reference (the vertex of its distances to three neighbouring samples). ``moves``: frame ->
    (nearest sample, view-change derivatives (d, 4): shift x, shift y, zoom, roll).

    One number for the run: a frame's own zoom and its time are nearly the same change on a
    camera going forward, but the scene's depth (and other frames, moving at other paces)
    tell them apart, and the mount is the same for every frame. Each distance is quadratic in
    the zoom, so the grid costs a few scalar operations a frame."""
    m, best = len(t_s), []
    for k, (j, g) in moves.items():
        q, _ = np.linalg.qr(g[:, [0, 1, 3]])
        z = g[:, 2] - q @ (q.T @ g[:, 2])
        lo, hi = max(0, j - 2), min(m, j + 3)
        e = []  # distance of each sample lo..hi-1 at every zoom of the grid
        for jj in range(lo, hi):
            x = (fn[k] - vec(jj)).astype(np.float64)
            x -= q @ (q.T @ x)
            e.append(x @ x - 2 * ZOOM_GRID * (x @ z) + ZOOM_GRID**2 * (z @ z))
        e = np.array(e)
        low = np.full(len(ZOOM_GRID), np.inf)
        for c in range(max(1, lo + 1), min(m - 1, hi - 1)):
            e0, e1, e2 = e[c - 1 - lo], e[c - lo], e[c + 1 - lo]
            curv = e0 - 2 * e1 + e2
            ok = (e1 <= e0) & (e1 <= e2) & (curv > 0)
            vertex = e1 - (e2 - e0) ** 2 / (8 * np.where(ok, curv, 1.0))
            low = np.where(ok, np.minimum(low, vertex), low)
        if np.isfinite(low).any():
            best.append(float(ZOOM_GRID[int(np.argmin(low))]))
    return float(np.median(best)) if best else 0.0


def shake_residual(g: np.ndarray) -> Residual:
    """x -> what of ``x`` a shift and a roll of the frame (columns 0, 1 and 3 of ``g``: shift x,
    shift y, zoom, roll) do not explain, as an energy: the frame's own shake."""
    q, _ = np.linalg.qr(g[:, [0, 1, 3]])

    def energy(x: np.ndarray) -> float:
        r = x - q @ (q.T @ x)
        return float(r @ r)

    return energy


def _between(new_thumb: np.ndarray, ref_thumb: np.ndarray) -> np.ndarray:
    """The mean of a new fine thumbnail, brought to a reference one's mean and contrast, and
    that reference thumbnail (float32)."""
    n = new_thumb.astype(np.float32)
    r = ref_thumb.astype(np.float32)
    n = (n - n.mean()) / (float(n.std()) + 1e-6) * float(r.std()) + float(r.mean())
    return 0.5 * (n + r)


def view_change_residual(g: np.ndarray, zoom_ridge: float) -> Residual:
    """x -> what of ``x`` a small view change (columns of ``g``: shift x, shift y, zoom, roll)
    does not explain, as an energy; the zoom's share is held back by ``zoom_ridge`` (relative
    to its own size): 0 removes any zoom, a large value none."""
    gram = g.T @ g
    pen = np.zeros(len(gram))
    pen[2] = zoom_ridge * gram[2, 2]
    solve = np.linalg.inv(gram + np.diag(pen) + 1e-12 * np.eye(len(gram))) @ g.T

    def energy(x: np.ndarray) -> float:
        c = solve @ x
        r = x - g @ c
        return float(r @ r + pen @ (c * c))

    return energy


def vertex_time(
    v: np.ndarray, residual: Residual, jb: int, vec: FineVector, t_s: np.ndarray
) -> float | None:
    """Reference time where the new frame ``v`` is nearest the reference: the vertex of the
    parabola (in time) through its distances (``residual`` of the difference: see
    :func:`view_change_residual`) to samples ``jb - 1``, ``jb``, ``jb + 1``, recentred on the
    nearest of them (at most twice). None when there is no such minimum. ``vec(j)`` is
    reference sample ``j``'s fine vector, ``t_s`` every sample's time."""
    m = len(t_s)

    def dist(j: int) -> float:
        return residual((v - vec(j)).astype(np.float64))

    for _ in range(2):
        if jb < 1 or jb > m - 2:
            return None
        e = [dist(j) for j in (jb - 1, jb, jb + 1)]
        step = int(np.argmin(e)) - 1
        if step == 0:
            break
        jb += step
    else:
        return None
    t = t_s[jb - 1 : jb + 2] - t_s[jb]
    c2, c1, _ = np.polyfit(t, e, 2)
    if c2 <= 0:
        return None
    return float(t_s[jb] + np.clip(-c1 / (2 * c2), t[0], t[2]))
