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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .features import fine_similarity_derivatives

FineVector = Callable[[int], np.ndarray]  # reference sample index -> its fine vector
Residual = Callable[[np.ndarray], float]  # a descriptor difference -> its energy


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
) -> np.ndarray:
    """``t_ref`` (reference time of each path sample) with each frame that has a segment fit
    (``fits[k]``: (sample, alpha, ...) or None; ``fn[k]`` its fine vector, ``thumbs[k]`` its
    fine thumbnail) placed by :func:`vertex_time` instead, when the run's motion is mostly
    what a view change of the frame cannot explain: a scene with depth (the median share of
    the motion between a frame's neighbouring reference samples left after removing its shift,
    zoom and roll is at least ``min_depth``). Over a flat scene or a pan little is left, and
    the segment fit stands.

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
    if not depth or float(np.median(depth)) < min_depth:
        return t_ref
    out = t_ref.copy()
    for k, (j, g) in moves.items():
        vertex = vertex_time(fn[k], view_change_residual(g, zoom_ridge), j, vec, t_s)
        if vertex is not None:
            out[k] = vertex
    return out


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
