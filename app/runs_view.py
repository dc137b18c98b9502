"""What the Runs page shows, computed from the project store (no Streamlit here, so it is testable):
the summary table, every run's delta-time curve against the reference, and the split times."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.state import ProjectStore
from mtbsync_core.batch import (
    RunOutcome,
    best_segments,
    compute_splits,
    reference_splits,
    summary_rows,
    warp_arrays,
)

BEST_ROW = "best possible (sum of best segments)"
REF_ROW = "reference"


def outcomes(store: ProjectStore) -> list[RunOutcome]:
    """The runs' latest batch outcomes (runs never synced are left out)."""
    return [RunOutcome.from_dict(r.outcome) for r in store.runs() if r.outcome]


def summary(store: ProjectStore) -> list[dict]:
    """The batch summary's rows for the project's runs (one per run with an outcome)."""
    return summary_rows(outcomes(store), store.ref_markers())


@dataclass(frozen=True)
class DeltaCurve:
    """Time a run is behind (+) or ahead (-) of the reference, along the reference's time."""

    run: str
    t_ref_s: np.ndarray
    delta_s: np.ndarray


def delta_curves(store: ProjectStore, step_s: float = 0.1) -> list[DeltaCurve]:
    """For every synced run: elapsed time on the run minus elapsed time on the reference, from
    the first reference time both share (the run's warp inverted; no extrapolation)."""
    curves = []
    for row in store.runs():
        if not row.outcome or row.outcome.get("status") not in ("ok", "low_confidence"):
            continue
        arrays = warp_arrays(Path(row.out_dir)) if row.out_dir else None
        if arrays is None:
            continue
        t_new, t_ref = arrays
        t_ref = np.maximum.accumulate(t_ref)
        grid = np.arange(t_ref[0], t_ref[-1] + 1e-9, step_s)
        if len(grid) < 2:
            continue
        # where the run stops, t_ref repeats: take the time it leaves the spot
        keep = np.r_[np.diff(t_ref) > 0, True]
        run_t = np.interp(grid, t_ref[keep], t_new[keep])
        delta = (run_t - run_t[0]) - (grid - grid[0])
        curves.append(DeltaCurve(row.name, grid, delta))
    return curves


def split_table(store: ProjectStore) -> tuple[list[str], list[dict]]:
    """Segment names and rows (reference, each synced run, the best possible run) of split times;
    each row has ``run``, one value per segment and ``total_s`` (NaN: not reached)."""
    markers = store.ref_markers()
    ref = reference_splits(markers)
    names = list(ref.segment_names)
    runs = [o for o in outcomes(store) if o.synced]
    t_refs = [m.t_ref_s for m in markers]
    splits = [
        (o.name, compute_splits(markers, dict(zip(t_refs, o.marker_t_new_s, strict=False))))
        for o in runs
    ]
    rows = [{"run": REF_ROW, **dict(zip(names, ref.split_s, strict=True)), "total_s": ref.total_s}]
    for name, s in splits:
        rows.append({"run": name, **dict(zip(names, s.split_s, strict=True)), "total_s": s.total_s})
    best, best_total = best_segments([s for _, s in splits])
    if best:
        rows.append({"run": BEST_ROW, **dict(zip(names, best, strict=True)), "total_s": best_total})
    return names, rows


def fastest_per_segment(names: list[str], rows: list[dict]) -> dict[str, str]:
    """For each segment, the run with the fastest split (among the runs, not the best row)."""
    out = {}
    for n in names:
        cands = [
            (r[n], r["run"])
            for r in rows
            if r["run"] not in (REF_ROW, BEST_ROW) and math.isfinite(r[n])
        ]
        if cands:
            out[n] = min(cands)[1]
    return out
