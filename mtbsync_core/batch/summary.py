"""``summary.csv`` (and ``summary.parquet`` when pandas and pyarrow are installed): one row a run.

Columns: run, status, coverage, median_confidence, markers_review, one ``split: A -> B`` column
per marker segment (seconds on that run), total_s (first to last marker), delta_ref_s (total
against the reference's), delta_best_s (against the fastest run's total), reason, video_path,
elapsed_s. Empty cells are values the run did not reach.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..fileio import atomic_write, write_text_atomic
from ..model import Marker
from .run import RunOutcome
from .splits import compute_splits, reference_splits

SUMMARY_CSV = "summary.csv"
SUMMARY_PARQUET = "summary.parquet"


def summary_rows(outcomes: Sequence[RunOutcome], markers: Sequence[Marker]) -> list[dict[str, Any]]:
    """One dict a run in the summary's column order (NaN where a value is unknown)."""
    ref = reference_splits(markers)
    splits = [
        compute_splits(
            markers, dict(zip([m.t_ref_s for m in markers], o.marker_t_new_s, strict=False))
        )
        for o in outcomes
    ]
    totals = [s.total_s for s in splits if math.isfinite(s.total_s)]
    best_total = min(totals) if totals else math.nan
    rows = []
    for o, s in zip(outcomes, splits, strict=True):
        row: dict[str, Any] = {
            "run": o.name,
            "status": o.status,
            "coverage": o.coverage,
            "median_confidence": o.median_confidence,
            "markers_review": o.markers_review if o.synced else math.nan,
        }
        for name, split in zip(s.segment_names, s.split_s, strict=True):
            row[f"split: {name}"] = split
        row["total_s"] = s.total_s
        row["delta_ref_s"] = s.total_s - ref.total_s
        row["delta_best_s"] = s.total_s - best_total
        row.update(reason=o.reason, video_path=o.video_path, elapsed_s=o.elapsed_s)
        rows.append(row)
    return rows


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.4f}"
    return str(v)


def summary_to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """The summary as CSV text."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([_cell(row.get(c, "")) for c in columns])
    return buf.getvalue()


def summary_columns(markers: Sequence[Marker]) -> list[str]:
    """The summary's columns for this marker list."""
    split_cols = [f"split: {n}" for n in reference_splits(markers).segment_names]
    return [
        "run", "status", "coverage", "median_confidence", "markers_review", *split_cols,
        "total_s", "delta_ref_s", "delta_best_s", "reason", "video_path", "elapsed_s",
    ]  # fmt: skip


def write_summary(
    outcomes: Sequence[RunOutcome],
    markers: Sequence[Marker],
    out_dir: str | os.PathLike[str],
    parquet: bool = True,
) -> dict[str, Path]:
    """Write ``summary.csv`` (rewritten as runs finish: it is the batch's state) and, with
    ``parquet`` and pandas + pyarrow installed, ``summary.parquet``."""
    rows = summary_rows(outcomes, markers)
    cols = summary_columns(markers)
    out = Path(out_dir)
    paths = {
        "summary": write_text_atomic(out / SUMMARY_CSV, summary_to_csv(rows, cols), force=True)
    }
    if parquet:
        try:
            import pandas as pd
            import pyarrow  # noqa: F401
        except ImportError:
            return paths
        df = pd.DataFrame(rows, columns=cols)
        with atomic_write(out / SUMMARY_PARQUET, "wb", force=True, encoding=None) as fh:
            df.to_parquet(fh, index=False)
        paths["parquet"] = out / SUMMARY_PARQUET
    return paths


def read_summary(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Rows of a ``summary.csv`` as strings (empty string: not reached)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
