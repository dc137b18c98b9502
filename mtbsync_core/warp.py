"""Monotone time warp ``t_new -> t_ref``: robust fit, manual anchors, inverse, JSON I/O.

The fit: outliers removed against a weighted isotonic regression, then l1 trend filtering on a
dense grid (piecewise-linear with few slope changes: stops and pace changes keep their corners,
noise is averaged away), solved by iteratively reweighted banded least squares, and made
non-decreasing. Manual anchors are hard constraints: data contradicting them is dropped, a
local correction pulls the warp through them exactly. A fit or refit takes tens of milliseconds.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.linalg import solveh_banded
from scipy.optimize import isotonic_regression

from .errors import WarpFileError, WarpFitError
from .fileio import write_text_atomic

WARP_FORMAT = "mtbsync.warp"
WARP_VERSION = 1
GRID_STEP_S = 0.05  # dense samples: 20 per second of overlap
ANCHOR_REACH_S = 5.0  # an anchor's correction fades over this many seconds
ANCHOR_TRUST_S = 1.0  # an anchor vouches for the warp this close to itself only
EVIDENCE_GAP_S = 0.25  # within this of a fitted pair the pair's confidence holds in full
EVIDENCE_FADE_S = 1.0  # beyond that gap, confidence falls to 0 over this many seconds
MAX_GRID = 2_000_000  # a day of footage at 20 samples per second, plus slack


@dataclass(frozen=True)
class FitParams:
    """Warp-fit knobs."""

    kink_penalty: float | None = (
        None  # l1 weight on slope changes (stiffer when larger); None: from the noise
    )
    max_kink_penalty: float = 0.1  # the automatic weight never exceeds this
    outlier_s: float = 0.15  # residual from the isotonic fit beyond which a pair is dropped
    grid_step_s: float = GRID_STEP_S


@dataclass(frozen=True)
class TimeWarp:
    """A dense monotone map from new-run time to reference time over ``overlap_new_s``.

    ``t_new_s``/``t_ref_s``/``confidence`` are samples dense enough (>= 10 per second) that
    linear interpolation is the warp. ``data_*`` keep the pairs it was fitted to, so anchors
    can be added and the warp refitted.
    """

    t_new_s: np.ndarray
    t_ref_s: np.ndarray
    confidence: np.ndarray
    anchors: tuple[tuple[float, float], ...] = ()
    overlap_new_s: tuple[float, float] = (0.0, 0.0)
    data_t_new_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    data_t_ref_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    data_weight: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fit: FitParams = field(default_factory=FitParams)

    def to_ref(self, t_new_s: float | np.ndarray) -> np.ndarray:
        """Reference time for new time(s); NaN outside the overlap."""
        t = np.asarray(t_new_s, np.float64)
        out = np.interp(t, self.t_new_s, self.t_ref_s)
        lo, hi = self.overlap_new_s
        return np.where((t < lo - 1e-9) | (t > hi + 1e-9), np.nan, out)

    def to_new(self, t_ref_s: float | np.ndarray) -> np.ndarray:
        """New time(s) at which the warp first reaches ``t_ref_s``; NaN outside its range."""
        r = np.asarray(t_ref_s, np.float64)
        k = np.searchsorted(self.t_ref_s, r, side="left")
        k = np.clip(k, 1, len(self.t_ref_s) - 1)
        r0, r1 = self.t_ref_s[k - 1], self.t_ref_s[k]
        n0, n1 = self.t_new_s[k - 1], self.t_new_s[k]
        frac = np.where(r1 > r0, (r - r0) / np.where(r1 > r0, r1 - r0, 1.0), 1.0)
        out = n0 + np.clip(frac, 0, 1) * (n1 - n0)
        outside = (r < self.t_ref_s[0] - 1e-9) | (r > self.t_ref_s[-1] + 1e-9)
        return np.where(outside, np.nan, out)

    def confidence_at(self, t_new_s: float | np.ndarray) -> np.ndarray:
        """Confidence (0..1) at new time(s); 0 outside the overlap."""
        t = np.asarray(t_new_s, np.float64)
        c = np.interp(t, self.t_new_s, self.confidence)
        lo, hi = self.overlap_new_s
        return np.where((t < lo - 1e-9) | (t > hi + 1e-9), 0.0, c)

    def with_anchors(self, anchors: tuple[tuple[float, float], ...] | list) -> TimeWarp:
        """The warp refitted with ``anchors`` ((t_new_s, t_ref_s) pairs) as hard constraints.

        The pairs keep the confidence this warp gave them. An anchor is the editor's word at
        its own time only: between an anchor and the nearest pair, confidence falls with the
        distance from that pair (see :func:`evidence_confidence`). Refuses
        (:class:`WarpFitError`) a non-finite anchor or one far outside the runs.
        """
        from .warp_check import check_anchors_in_range

        check_anchors_in_range(anchors, self.data_t_new_s, self.data_t_ref_s)
        return fit_warp(
            self.data_t_new_s,
            self.data_t_ref_s,
            self.data_weight,
            anchors=anchors,
            params=self.fit,
            data_confidence=np.interp(self.data_t_new_s, self.t_new_s, self.confidence),
            overlap_new_s=self.overlap_new_s,
        )

    def residuals(self) -> np.ndarray:
        """Data pairs' t_ref minus the warp at their t_new (seconds)."""
        return self.data_t_ref_s - np.interp(self.data_t_new_s, self.t_new_s, self.t_ref_s)

    def to_dict(self) -> dict[str, Any]:
        """The ``mtbsync.warp`` JSON object."""
        r = lambda a: [round(float(x), 6) for x in a]  # noqa: E731
        return {
            "format": WARP_FORMAT,
            "version": WARP_VERSION,
            "t_new_s": r(self.t_new_s),
            "t_ref_s": r(self.t_ref_s),
            "confidence": [round(float(x), 4) for x in self.confidence],
            "anchors": [{"t_new_s": float(a), "t_ref_s": float(b)} for a, b in self.anchors],
            "overlap_new_s": [float(self.overlap_new_s[0]), float(self.overlap_new_s[1])],
            "data": {
                "t_new_s": r(self.data_t_new_s),
                "t_ref_s": r(self.data_t_ref_s),
                "weight": [round(float(x), 4) for x in self.data_weight],
            },
            "fit": {
                "kink_penalty": self.fit.kink_penalty,
                "max_kink_penalty": self.fit.max_kink_penalty,
                "outlier_s": self.fit.outlier_s,
                "grid_step_s": self.fit.grid_step_s,
            },
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "warp") -> TimeWarp:
        """Read the ``mtbsync.warp`` JSON object (raises :class:`WarpFileError`)."""
        if (
            not isinstance(d, dict)
            or d.get("format") != WARP_FORMAT
            or d.get("version") != WARP_VERSION
        ):
            raise WarpFileError(
                f"'{source}' is not an {WARP_FORMAT} version {WARP_VERSION} file. Pass a warp.json written by `mtbsync sync`."
            )
        from .warp_check import check_warp_dict

        c = check_warp_dict(d, source)
        dx, dy, dw = (np.asarray(v, np.float64) for v in c["data"])
        return cls(
            t_new_s=np.asarray(c["t_new_s"], np.float64),
            t_ref_s=np.asarray(c["t_ref_s"], np.float64),
            confidence=np.asarray(c["confidence"], np.float64),
            anchors=tuple(c["anchors"]),
            overlap_new_s=c["overlap_new_s"],
            data_t_new_s=dx,
            data_t_ref_s=dy,
            data_weight=dw,
            fit=FitParams(**c["fit"]),
        )


def write_warp(warp: TimeWarp, path: str | os.PathLike[str], force: bool = False) -> Path:
    """Write ``warp`` as ``warp.json`` (atomically; no overwrite without ``force``)."""
    return write_text_atomic(path, json.dumps(warp.to_dict(), separators=(",", ":")), force=force)


def read_warp(path: str | os.PathLike[str]) -> TimeWarp:
    """Read a ``warp.json`` (raises :class:`WarpFileError`)."""
    from .fileio import INCOMPLETE_MARK

    p = Path(path)
    if (p.parent / INCOMPLETE_MARK).exists():
        raise WarpFileError(
            f"Warp file '{p}' is from a sync that was interrupted while writing. Re-run `mtbsync sync`."
        )
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise WarpFileError(f"Warp file '{p}' does not exist. Run `mtbsync sync` first.") from err
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise WarpFileError(
            f"Warp file '{p}' is not valid JSON ({err}). Re-run `mtbsync sync`."
        ) from err
    if not isinstance(d, dict):
        raise WarpFileError(f"Warp file '{p}' is not a JSON object. Re-run `mtbsync sync`.")
    return TimeWarp.from_dict(d, source=str(p))


def trend_filter(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    grid: np.ndarray,
    lam: float,
    iters: int = 20,
    eps: float = 1e-5,
) -> np.ndarray:
    """l1 trend filter of weighted points (x, y) on a uniform ``grid``.

    Minimises ``sum w (f(x) - y)^2 + lam * sum |second difference of f|`` with f linear between
    grid points, by iteratively reweighted least squares; each step is one banded Cholesky solve.
    """
    n = len(grid)
    h = (grid[-1] - grid[0]) / max(n - 1, 1)
    k = np.clip(((x - grid[0]) / h).astype(np.int64), 0, n - 2)
    f = (x - grid[k]) / h
    data = np.zeros(
        (3, n)
    )  # upper banded form: row 2 diagonal, row 1 first, row 0 second off-diagonal
    np.add.at(data[2], k, w * (1 - f) ** 2)
    np.add.at(data[2], k + 1, w * f * f)
    np.add.at(data[1], k + 1, w * f * (1 - f))
    rhs = np.zeros(n)
    np.add.at(rhs, k, w * (1 - f) * y)
    np.add.at(rhs, k + 1, w * f * y)
    omega = np.ones(max(n - 2, 0))
    fit = np.interp(grid, x, y)
    for _ in range(iters):
        ab = data.copy()
        om = lam * omega
        ab[2, :-2] += om
        ab[2, 1:-1] += 4 * om
        ab[2, 2:] += om
        ab[1, 1:-1] += -2 * om
        ab[1, 2:] += -2 * om
        ab[0, 2:] += om
        ab[2] += 1e-9
        fit = solveh_banded(ab, rhs, check_finite=False)
        omega = 1.0 / np.maximum(np.abs(fit[:-2] - 2 * fit[1:-1] + fit[2:]), eps)
    return fit


def auto_kink_penalty(x: np.ndarray, y: np.ndarray, grid_step_s: float, cap: float) -> float:
    """The l1 weight for data of this noise and density: ``3000 * noise^2 * pairs per grid step``.

    Noise is a robust estimate from second differences; noise-free pairs get almost no smoothing
    (the fit follows them), noisy sparse ones up to ``cap``. Tuned on the benchmark pairs.
    """
    if len(y) < 5 or x[-1] <= x[0]:
        return cap
    d2 = y[:-2] - 2 * y[1:-1] + y[2:]
    sigma = 1.4826 * float(np.median(np.abs(d2 - np.median(d2)))) / np.sqrt(6)
    density = len(x) / float(x[-1] - x[0]) * grid_step_s
    return float(np.clip(3000.0 * sigma**2 * density, 1e-4, cap))


def _inliers(y: np.ndarray, w: np.ndarray, outlier_s: float, max_rounds: int = 100) -> np.ndarray:
    """Mask of pairs consistent with a monotone warp.

    Each round fits a weighted isotonic regression and drops, in each pooled block whose worst
    residual is too large, only that worst pair: an outlier pools its neighbours with it, and
    they must not pay for it.
    """
    keep = np.ones(len(y), bool)
    for _ in range(max_rounds):
        idx = np.flatnonzero(keep)
        iso = isotonic_regression(y[idx], weights=w[idx]).x
        r = np.abs(y[idx] - iso)
        bad = r > max(outlier_s, 3 * 1.4826 * float(np.median(r)))
        if not bad.any() or len(idx) <= 2:
            break
        block = np.concatenate([[0], np.cumsum(np.abs(np.diff(iso)) > 1e-12)])
        order = np.lexsort((-r, block))  # by block, worst first within each
        first = np.ones(len(order), bool)
        first[1:] = block[order][1:] != block[order][:-1]
        worst = order[first]
        keep[idx[worst[bad[worst]]]] = False
    return keep


def _check_anchors(anchors) -> np.ndarray:
    a = np.array(sorted((float(x), float(y)) for x, y in anchors), np.float64).reshape(-1, 2)
    if not np.all(np.isfinite(a)):
        raise WarpFitError(
            "Anchors must be finite times in seconds (got NaN or infinity). Fix the anchor."
        )
    if len(a) > 1 and (np.any(np.diff(a[:, 0]) <= 0) or np.any(np.diff(a[:, 1]) < 0)):
        raise WarpFitError(
            f"Anchors {[tuple(map(float, r)) for r in a]} are not monotone: a later new time must not map to an "
            "earlier reference time, and two anchors cannot share a new time. Move or delete one."
        )
    return a


def _drop_contradicting(x: np.ndarray, y: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Mask of pairs consistent with the anchors' ordering."""
    keep = np.ones(len(x), bool)
    for an, ar in a:
        keep &= ~((x < an) & (y > ar)) & ~((x > an) & (y < ar))
    return keep


def _anchor_correction(grid: np.ndarray, fit: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Piecewise-linear correction that is exact at anchors and fades beyond ANCHOR_REACH_S."""
    delta = a[:, 1] - np.interp(a[:, 0], grid, fit)
    kx, ky = [a[0, 0] - ANCHOR_REACH_S], [0.0]
    for k in range(len(a)):
        if k > 0 and a[k, 0] - a[k - 1, 0] > 2 * ANCHOR_REACH_S:
            kx += [a[k - 1, 0] + ANCHOR_REACH_S, a[k, 0] - ANCHOR_REACH_S]
            ky += [0.0, 0.0]
        kx.append(a[k, 0])
        ky.append(delta[k])
    kx.append(a[-1, 0] + ANCHOR_REACH_S)
    ky.append(0.0)
    return np.interp(grid, kx, ky)


def fit_warp(
    t_new_s: np.ndarray,
    t_ref_s: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    anchors=(),
    params: FitParams = FitParams(),
    data_confidence: np.ndarray | None = None,
    overlap_new_s: tuple[float, float] | None = None,
) -> TimeWarp:
    """Fit a monotone warp to pairs (seconds), with manual anchors as hard constraints.

    ``weight`` (0..1) weighs each pair and, interpolated, is the warp's confidence unless
    ``data_confidence`` is given. Raises :class:`WarpFitError` with too few pairs or anchors
    that contradict each other.
    """
    x = np.asarray(t_new_s, np.float64)
    y = np.asarray(t_ref_s, np.float64)
    w = np.ones_like(x) if weight is None else np.clip(np.asarray(weight, np.float64), 1e-3, None)
    a = _check_anchors(anchors)
    order = np.argsort(x, kind="stable")
    x, y, w = x[order], y[order], w[order]
    conf = w if data_confidence is None else np.asarray(data_confidence, np.float64)[order]
    keep = _drop_contradicting(x, y, a) & np.isfinite(y)
    if keep.sum() + len(a) < 2:
        raise WarpFitError(
            f"Only {int(keep.sum())} usable pair(s) and {len(a)} anchor(s): a warp needs at least two. Add anchors."
        )
    xs, ys, ws = x[keep], y[keep], w[keep]
    if len(xs) >= 3:
        inl = _inliers(ys, ws, params.outlier_s)
        if inl.sum() >= 2:
            xs, ys, ws = xs[inl], ys[inl], ws[inl]
    if overlap_new_s is None:
        lo = min(xs[0] if len(xs) else np.inf, a[0, 0] if len(a) else np.inf)
        hi = max(xs[-1] if len(xs) else -np.inf, a[-1, 0] if len(a) else -np.inf)
    else:
        lo, hi = overlap_new_s
        if len(a):
            lo, hi = min(lo, a[0, 0]), max(hi, a[-1, 0])
    n_grid = max(2, int(np.ceil((hi - lo) / params.grid_step_s)) + 1)
    if n_grid > MAX_GRID:
        raise WarpFitError(
            f"The warp would span {hi - lo:.0f} s at {params.grid_step_s} s steps ({n_grid} samples, "
            f"more than {MAX_GRID}). Check the anchors and the pairs' times."
        )
    grid = np.linspace(lo, hi, n_grid)
    px = np.concatenate([xs, a[:, 0]]) if len(a) else xs
    py = np.concatenate([ys, a[:, 1]]) if len(a) else ys
    pw = np.concatenate([ws, np.full(len(a), 1e3)]) if len(a) else ws
    o = np.argsort(px, kind="stable")
    lam = params.kink_penalty
    if lam is None:
        lam = auto_kink_penalty(xs, ys, params.grid_step_s, params.max_kink_penalty)
    fit = (
        trend_filter(px[o], py[o], pw[o], grid, lam)
        if n_grid > 2
        else np.interp(grid, px[o], py[o])
    )
    if len(a):
        fit = fit + _anchor_correction(grid, fit, a)
    fit = np.maximum.accumulate(fit)
    for k in range(len(a)):  # exact at anchors, monotone between them
        seg_lo = a[k - 1, 1] if k > 0 else -np.inf
        left = (grid <= a[k, 0]) & (grid > (a[k - 1, 0] if k > 0 else -np.inf))
        fit[left] = np.clip(fit[left], seg_lo, a[k, 1])
    if len(a):
        right = grid > a[-1, 0]
        fit[right] = np.maximum(fit[right], a[-1, 1])
        grid, fit = _insert_anchors(grid, fit, a)
    c = evidence_confidence(grid, x[keep], conf[keep])
    for an, _ in a:
        c = np.maximum(c, np.clip(1 - np.abs(grid - an) / ANCHOR_TRUST_S, 0, 1))
    return TimeWarp(
        grid,
        fit,
        np.clip(c, 0, 1),
        tuple(map(tuple, a.tolist())),
        (float(grid[0]), float(grid[-1])),
        x,
        y,
        w,
        params,
    )


def evidence_confidence(grid: np.ndarray, x: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """Confidence at ``grid`` from pairs at ``x`` with confidence ``conf`` (x sorted).

    Interpolated between pairs, then scaled down with the distance to the nearest pair: in full
    within ``EVIDENCE_GAP_S``, falling to 0 over the next ``EVIDENCE_FADE_S``. A stretch that no
    pair covers (before the first, after the last, a long gap) is not vouched for by anything.
    """
    if len(x) == 0:
        return np.zeros_like(grid)
    c = np.interp(grid, x, conf)
    k = np.clip(np.searchsorted(x, grid), 1, max(len(x) - 1, 1))
    d = np.minimum(np.abs(grid - x[k - 1]), np.abs(grid - x[np.minimum(k, len(x) - 1)]))
    return c * np.clip(1 - (d - EVIDENCE_GAP_S) / EVIDENCE_FADE_S, 0, 1)


def _insert_anchors(
    grid: np.ndarray, fit: np.ndarray, a: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Add the anchors themselves as samples so interpolation passes exactly through them."""
    g = np.concatenate([grid, a[:, 0]])
    f = np.concatenate([fit, a[:, 1]])
    o = np.argsort(g, kind="stable")
    g, f = g[o], f[o]
    uniq = np.concatenate([[True], np.diff(g) > 1e-9])
    return g[uniq], np.maximum.accumulate(f[uniq])


def with_data_replaced(warp: TimeWarp, **changes: Any) -> TimeWarp:
    """A copy of ``warp`` with fields replaced (for tests and tools)."""
    return replace(warp, **changes)
