"""Pairwise clock estimates and the joint solve that puts N cameras on one timeline.

A pair estimate says ``t_i = offset_s + (1 + drift_ppm * 1e-6) * t_j`` (camera ``j``'s time
mapped onto camera ``i``'s). Rates compose multiplicatively, so drifts are solved in log-rate
space by weighted least squares, then offsets given the rates. A pair that disagrees with the
joint solution by more than ``tol_s`` (a broken cycle) is dropped and the rest re-solved.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PairEstimate:
    """Camera ``j`` on camera ``i``'s clock: ``t_i = offset_s + (1 + drift_ppm*1e-6) * t_j``."""

    i: int
    j: int
    offset_s: float
    drift_ppm: float
    confidence: float
    status: str  # ok | ambiguous | failed
    method: str
    residuals_s: tuple[float, ...] = ()
    message: str = ""
    n_windows: int = 0
    n_inliers: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        """Only ``ok`` pairs enter the joint solve."""
        return self.status == "ok"


@dataclass(frozen=True)
class Solution:
    """Per camera ``master = offset_s[k] + (1 + drift_ppm[k]*1e-6) * t_k``; NaN where unreached."""

    offset_s: np.ndarray
    drift_ppm: np.ndarray
    pair_error_s: dict[tuple[int, int], float]
    dropped: tuple[tuple[int, int], ...]


def _reached(n: int, pairs: list[PairEstimate], master: int) -> set[int]:
    seen, todo = {master}, [master]
    while todo:
        a = todo.pop()
        for p in pairs:
            for u, v in ((p.i, p.j), (p.j, p.i)):
                if u == a and v not in seen:
                    seen.add(v)
                    todo.append(v)
    return seen


def _lstsq(n: int, master: int, rows: list[tuple[int, int, float, float]]) -> np.ndarray:
    """Solve x_j - x_i = c (weighted) with x_master = 0; rows are (i, j, c, weight)."""
    a = np.zeros((len(rows) + 1, n))
    b = np.zeros(len(rows) + 1)
    for r, (i, j, c, w) in enumerate(rows):
        a[r, j], a[r, i], b[r] = w, -w, w * c
    a[-1, master] = 1e3
    return np.linalg.lstsq(a, b, rcond=None)[0]


def _solve_once(n: int, pairs: list[PairEstimate], master: int) -> Solution:
    reached = _reached(n, pairs, master)
    # log-rate of camera k relative to master: master = o_k + r_k t_k, with r_k = r_i * r_ij
    lr_rows = [(p.i, p.j, math.log1p(p.drift_ppm * 1e-6), max(p.confidence, 1e-3)) for p in pairs]
    lr = _lstsq(n, master, lr_rows)
    rate = np.exp(lr)
    # master = o_i + r_i t_i = o_i + r_i (o_ij + r_ij t_j)  =>  o_j - o_i = r_i * o_ij
    off_rows = [(p.i, p.j, rate[p.i] * p.offset_s, max(p.confidence, 1e-3)) for p in pairs]
    off = _lstsq(n, master, off_rows)
    errors = {}
    for p in pairs:
        errors[(p.i, p.j)] = float(off[p.j] - off[p.i] - rate[p.i] * p.offset_s)
    unreached = [k for k in range(n) if k not in reached]
    off[unreached] = np.nan
    rate[unreached] = np.nan
    return Solution(off, (rate - 1.0) * 1e6, errors, ())


def solve_joint(
    n: int, pairs: list[PairEstimate], master: int = 0, tol_s: float = 0.005
) -> Solution:
    """Offsets and drifts of ``n`` cameras against ``master`` from usable pair estimates.

    Cycle consistency: while some pair misfits the joint solution by more than ``tol_s`` and
    dropping it keeps the same cameras connected, the worst pair is dropped.
    """
    use = [p for p in pairs if p.usable]
    dropped: list[tuple[int, int]] = []
    while True:
        sol = _solve_once(n, use, master)
        if not sol.pair_error_s:
            break
        worst = max(sol.pair_error_s, key=lambda k: abs(sol.pair_error_s[k]))
        if abs(sol.pair_error_s[worst]) <= tol_s:
            break
        rest = [p for p in use if (p.i, p.j) != worst]
        if _reached(n, rest, master) != _reached(n, use, master):
            log.warning(
                "pair %s misfits by %.4f s but is needed to reach a camera",
                worst,
                sol.pair_error_s[worst],
            )
            break
        log.info("dropping inconsistent pair %s (%.4f s)", worst, sol.pair_error_s[worst])
        dropped.append(worst)
        use = rest
    return Solution(sol.offset_s, sol.drift_ppm, sol.pair_error_s, tuple(dropped))
