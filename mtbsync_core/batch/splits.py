"""Split times: how long each run took between consecutive reference markers.

A segment runs from one marker to the next in reference order ("rock garden -> drop"). A run's
split is the difference of the two markers' times on that run; NaN where the run does not reach
either marker (never guessed). The total spans the first to the last marker.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..model import Marker


@dataclass(frozen=True)
class Splits:
    """Split times of one run (seconds; NaN where a marker was not reached)."""

    segment_names: tuple[str, ...]
    split_s: tuple[float, ...]
    total_s: float


def ordered_markers(markers: Sequence[Marker]) -> list[Marker]:
    """Markers in reference time order (stable for equal times)."""
    return sorted(markers, key=lambda m: m.t_ref_s)


def segment_names(markers: Sequence[Marker]) -> tuple[str, ...]:
    """``"A -> B"`` for each pair of consecutive markers in reference order."""
    ms = ordered_markers(markers)
    return tuple(f"{a.name} -> {b.name}" for a, b in zip(ms[:-1], ms[1:], strict=True))


def compute_splits(markers: Sequence[Marker], t_new_by_ref_s: Mapping[float, float]) -> Splits:
    """Splits of a run whose marker times are ``t_new_by_ref_s[marker.t_ref_s]`` (NaN: missed)."""
    ms = ordered_markers(markers)
    t = np.array([t_new_by_ref_s.get(m.t_ref_s, math.nan) for m in ms], float)
    split = np.diff(t) if len(t) > 1 else np.zeros(0)
    total = float(t[-1] - t[0]) if len(t) > 1 else math.nan
    return Splits(segment_names(ms), tuple(float(x) for x in split), total)


def reference_splits(markers: Sequence[Marker]) -> Splits:
    """The reference run's own splits (its marker times are the reference times)."""
    return compute_splits(markers, {m.t_ref_s: m.t_ref_s for m in markers})


def best_segments(all_splits: Sequence[Splits]) -> tuple[tuple[float, ...], float]:
    """Per segment the fastest split over the runs, and their sum (the "best possible run").

    A segment no run reached has NaN, and then so has the sum.
    """
    if not all_splits:
        return (), math.nan
    m = np.array([s.split_s for s in all_splits], float)
    with np.errstate(all="ignore"):
        best = [float(np.nanmin(col)) if np.isfinite(col).any() else math.nan for col in m.T]
    return tuple(best), float(sum(best)) if best else math.nan
