"""A monotone path made of straight runs at constant pace: the coarse path's first pass.

The plain path search (``align._dp``) scores each cell by the best straight sequence through it,
whatever direction that sequence takes, and may then leave the cell in any direction: through a
stretch where the runs look alike it can sprint to a look-alike frame at the steepest pace and
wait there, each cell scored by a sequence the path itself does not follow. Here the path moves
in one of a set of paces (slopes) at a time, each cell is scored by the sequence of the path's
own pace, and changing pace costs ``switch_cost``. Pace 0 (holding one reference frame) is
offered only where the new run stands still.
"""

from __future__ import annotations

import numpy as np

#: Paces (reference seconds per new second) of the straight runs, besides 0: 0.5x to 2x in
#: equal ratios (about 10 % apart), fine enough that a parallel path a few frames off does not
#: beat following the true one.
PACE_GRID = np.geomspace(0.5, 2.0, 16)


def pace_scores(
    z: np.ndarray,
    slopes: np.ndarray,
    half_len: int,
    rows: np.ndarray,
    lo: np.ndarray,
    width: int,
    taps: int = 9,
) -> np.ndarray:
    """(len(slopes), len(rows), width): the mean of ``z`` along the straight sequence of each
    slope (reference samples per new sample) through each cell of a band, ``half_len`` new
    samples either side (at most ``taps`` of them read). Band row ``r`` is row ``rows[r]`` of
    ``z``, columns ``lo[r] .. lo[r] + width - 1``; cells outside ``z`` are NaN, sequences near
    its edges average what lies inside."""
    n, m = z.shape
    ks = np.unique(np.round(np.linspace(-half_len, half_len, min(taps, 2 * half_len + 1))))
    cols = lo[:, None] + np.arange(width)[None, :]  # (rows, width) absolute columns
    out = np.zeros((len(slopes), len(rows), width), np.float32)
    for c, v in enumerate(slopes):
        cnt = np.zeros((len(rows), width), np.float32)
        for k in ks.astype(np.int64):
            src = rows + k
            ok_rows = (src >= 0) & (src < n)
            cj = cols + int(round(v * k))
            ok = ok_rows[:, None] & (cj >= 0) & (cj < m)
            vals = z[np.clip(src, 0, n - 1)[:, None], np.clip(cj, 0, m - 1)]
            out[c] += np.where(ok, vals, 0.0)
            cnt += ok
        out[c] /= np.maximum(cnt, 1.0)
    out[:, (cols < 0) | (cols >= m)] = np.nan
    return out


def pace_steps(slopes: np.ndarray, n: int) -> np.ndarray:
    """(n, len(slopes)) int: the reference samples a run of each slope moves into row ``i``
    (a straight line through whole samples: round(v * i) - round(v * (i - 1)))."""
    i = np.arange(n)[:, None]
    pos = np.round(np.asarray(slopes)[None, :] * i).astype(np.int64)
    steps = np.zeros_like(pos)
    steps[1:] = pos[1:] - pos[:-1]
    return steps


def _shift(dst: np.ndarray, src: np.ndarray, rows: np.ndarray, off: int, fill) -> None:
    """dst[rows, u] = src[rows, u + off] where that exists, else ``fill``."""
    w = src.shape[1]
    if off >= w or -off >= w:
        dst[rows] = fill
    elif off >= 0:
        dst[rows, : w - off] = src[rows, off:]
        dst[rows, w - off :] = fill
    else:
        dst[rows, -off:] = src[rows, : w + off]
        dst[rows, :-off] = fill


def paced_dp(
    score: np.ndarray, slopes: np.ndarray, switch_cost: float, lo: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Local-alignment DP (open begin and end) over per-pace band scores ``score`` (S, n, width;
    row ``i`` starts at column ``lo[i]``): the path moves by :func:`pace_steps` of its current
    pace; a change of pace costs ``switch_cost``. Returns the best path's rows, its (absolute)
    columns and its total."""
    s_n, n, w = score.shape
    steps = pace_steps(slopes, n)
    back = np.empty((n, s_n, w), np.int8)  # previous pace class; -1 = the path starts here
    back[0] = -1
    acc = score[:, 0].copy()
    cls = np.broadcast_to(np.arange(s_n, dtype=np.int8)[:, None], (s_n, w))
    c0, u0 = np.unravel_index(int(np.argmax(acc)), acc.shape)
    best_total, best_at = float(acc[c0, u0]), (0, int(c0), int(u0))
    shifted = np.empty_like(acc)
    shifted_cls = np.empty((s_n, w), np.int8)
    for i in range(1, n):
        c_best = np.argmax(acc, axis=0)
        switched = acc[c_best, np.arange(w)] - switch_cost
        stay = acc >= switched[None]
        prev = np.where(stay, acc, switched[None])
        prev_cls = np.where(stay, cls, c_best[None].astype(np.int8))
        d = int(lo[i] - lo[i - 1])
        for k in np.unique(steps[i]):
            rows = np.flatnonzero(steps[i] == k)
            _shift(shifted, prev, rows, d - int(k), -np.inf)
            _shift(shifted_cls, prev_cls, rows, d - int(k), -1)
        start = ~(shifted > 0)
        acc = score[:, i] + np.where(start, 0.0, shifted)
        back[i] = np.where(start, -1, shifted_cls)
        top = float(acc.max())
        if top > best_total:
            c, u = np.unravel_index(int(np.argmax(acc)), acc.shape)
            best_total, best_at = top, (i, int(c), int(u))
    i, c, u = best_at
    path_i, path_j = [i], [int(lo[i]) + u]
    while i > 0 and back[i, c, u] >= 0:
        c_prev = int(back[i, c, u])
        u += int(lo[i] - lo[i - 1]) - int(steps[i, c])
        c = c_prev
        i -= 1
        path_i.append(i)
        path_j.append(int(lo[i]) + u)
    return np.array(path_i[::-1]), np.array(path_j[::-1]), best_total
