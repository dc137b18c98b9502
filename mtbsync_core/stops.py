"""Stops of the new run: placed in the reference where the moving frames either side say.

The frame a rider (or a train) stopped on shows the place the frames before it were heading to
and the frames after it leave from. Matched on its own look, another season or line can put it a
few frames off, and a stop repeats that error for its whole length.
"""

from __future__ import annotations

import numpy as np

from .align import repeat_weights

#: The least scatter (s) credited to either side of a stop: a perfectly straight side does not
#: silence the other.
MIN_SIDE_SD_S = 0.02


def place_stops(
    t_new_s: np.ndarray,
    t_ref_s: np.ndarray,
    desc: np.ndarray,
    quality: np.ndarray,
    fine_trust: float,
    min_stop_s: float = 1.0,
    approach_s: float = 1.0,
) -> np.ndarray:
    """Reference times for the samples of each stop (near-identical new frames for
    ``min_stop_s`` or more): where the approach to it leads and the departure from it leaves
    (weighed by how straight each runs, see :func:`_stop_place`), not where the one repeated
    frame looks best.

    A stop's edges are the samples either side that still look like it (descriptor cosine to
    its frame at least :func:`stop_alike`): a codec shows a held picture a little differently
    after a cut, and those frames are the stop, not the approach or the departure. A stop whose
    frame looks like its match (fine similarity at least ``fine_trust``) keeps its own time;
    so do frames alike for a while that the matched path kept its pace through (snow, fog, a
    bare field: no stop). ``desc``: the samples' global descriptors (unit vectors)."""
    w = repeat_weights(desc, same=0.995)
    alike = stop_alike(desc)
    out = t_ref_s.copy()
    k = 0
    while k < len(w):
        run = max(int(round(1 / w[k])), 1)
        long_stop = run >= 2 and k >= 2 and t_new_s[k + run - 1] - t_new_s[k] >= min_stop_s
        if long_stop and float(np.median(quality[k : k + run])) < fine_trust:
            a, b = _stop_edges(desc, k, k + run, alike)
            place = _stop_place(t_new_s, t_ref_s, (a, b), (k, k + run), approach_s)
            if place is not None:
                out[a:b] = place
        k += run
    return out


def stop_alike(desc: np.ndarray) -> float:
    """Descriptor cosine at which two samples look the same, relative to how much the run's
    own consecutive samples differ: half-way from their median cosine to 1 (at most 0.98)."""
    if len(desc) < 2:
        return 0.98
    med = float(np.median(np.einsum("ij,ij->i", desc[1:], desc[:-1])))
    return min(0.98, med + 0.5 * (1.0 - med))


def _stop_edges(desc: np.ndarray, a: int, b: int, alike: float) -> tuple[int, int]:
    """The stop ``a:b`` widened by the neighbouring samples that still look like its frame."""
    frame = desc[a]
    while a > 1 and float(desc[a - 1] @ frame) >= alike:
        a -= 1
    while b < len(desc) and float(desc[b] @ frame) >= alike:
        b += 1
    return a, b


def _stop_place(
    t_new: np.ndarray,
    t_ref: np.ndarray,
    edges: tuple[int, int],
    core: tuple[int, int],
    approach_s: float,
) -> float | None:
    """Where the stop (samples ``edges[0]:edges[1]``; ``core``: its identical frames) is, from
    the moving samples within ``approach_s`` either side: each side's line carried to the stop
    from its nearest sample, the two weighed by how straight each side's matched path runs
    (inverse variance; the approach alone where there is no departure). None where the matched
    path kept moving through the identical frames (no stop)."""
    a, b = edges
    before = np.flatnonzero((t_new < t_new[a]) & (t_new >= t_new[a] - approach_s))
    if len(before) < 2:
        return None
    arrive, slope, var_in = _side(t_new, t_ref, before, a - 1, t_new[a])
    moved = float(np.ptp(t_ref[core[0] : core[1]]))
    if moved >= 0.5 * slope * (t_new[core[1] - 1] - t_new[core[0]]):
        return None
    after = np.flatnonzero((t_new > t_new[b - 1]) & (t_new <= t_new[b - 1] + approach_s))
    if len(after) < 2:
        return arrive
    leave, _, var_out = _side(t_new, t_ref, after, b, t_new[b - 1])
    return (arrive / var_in + leave / var_out) / (1 / var_in + 1 / var_out)


def _side(
    t_new: np.ndarray, t_ref: np.ndarray, idx: np.ndarray, anchor: int, t_at: float
) -> tuple[float, float, float]:
    """One side of a stop: the reference time its line (fitted over samples ``idx``, pace at
    least 0) reaches at new time ``t_at`` from its sample ``anchor``; the pace; the variance of
    the samples about the line (at least ``MIN_SIDE_SD_S`` squared)."""
    slope, icpt = np.polyfit(t_new[idx], t_ref[idx], 1)
    sd = float(np.std(t_ref[idx] - (slope * t_new[idx] + icpt)))
    slope = max(float(slope), 0.0)
    at = float(t_ref[anchor] + slope * (t_at - t_new[anchor]))
    return at, slope, max(sd, MIN_SIDE_SD_S) ** 2
