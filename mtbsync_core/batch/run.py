"""One run of a batch, as a worker executes it: sync, transfer, write the run's folder.

A run's folder holds ``warp.json``, ``pairs.csv``, ``report.json``, ``markers.csv`` (the
transferred markers) and, written last, ``outcome.json``: the run's key (content hashes and
parameters) and its result. A run whose ``outcome.json`` carries the same key is finished.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MtbSyncError, NoReliableMatchError
from ..fileio import write_text_atomic
from ..model import Marker

OUTCOME_FILE = "outcome.json"
OUTCOME_FORMAT = "mtbsync.batch.outcome"
#: Statuses of a run that synced (its markers were carried over).
SYNCED = ("ok", "low_confidence")


@dataclass(frozen=True)
class RunSpec:
    """What a worker needs to do one run (all plain values: it travels to other processes)."""

    name: str
    video_path: str
    out_dir: str
    key: str
    review_threshold: float = 0.6


@dataclass(frozen=True)
class RunOutcome:
    """The result of one run: ``status`` ok | low_confidence | no_match | failed.

    ``marker_t_new_s`` follows the reference markers' order (NaN where a marker is not reached);
    ``reason`` says why a run failed or did not match.
    """

    name: str
    video_path: str
    key: str
    status: str
    reason: str = ""
    coverage: float = math.nan
    median_confidence: float = math.nan
    markers_review: int = 0
    marker_t_new_s: tuple[float, ...] = ()
    duration_s: float = math.nan
    elapsed_s: float = 0.0
    resumed: bool = field(default=False, compare=False)

    @property
    def synced(self) -> bool:
        """True when the run was aligned (ok or low_confidence)."""
        return self.status in SYNCED

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (NaN as null)."""
        d = asdict(self)
        d.pop("resumed")
        return {k: _json_num(v) for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any], resumed: bool = False) -> RunOutcome:
        """Inverse of :meth:`to_dict`."""
        nan = lambda v: math.nan if v is None else v  # noqa: E731
        return cls(
            name=d["name"],
            video_path=d["video_path"],
            key=d["key"],
            status=d["status"],
            reason=d.get("reason", ""),
            coverage=nan(d.get("coverage")),
            median_confidence=nan(d.get("median_confidence")),
            markers_review=int(d.get("markers_review", 0)),
            marker_t_new_s=tuple(nan(v) for v in d.get("marker_t_new_s", ())),
            duration_s=nan(d.get("duration_s")),
            elapsed_s=float(d.get("elapsed_s", 0.0)),
            resumed=resumed,
        )


def _json_num(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, tuple | list):
        return [_json_num(x) for x in v]
    return v


def read_outcome(out_dir: str | Path) -> RunOutcome | None:
    """The ``outcome.json`` in a run's folder, or None when there is none or it is unreadable."""
    p = Path(out_dir) / OUTCOME_FILE
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
        if d.get("format") != OUTCOME_FORMAT:
            return None
        return RunOutcome.from_dict(d["outcome"], resumed=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_outcome(outcome: RunOutcome, out_dir: str | Path) -> Path:
    """Write ``outcome.json`` atomically (the run's last file)."""
    doc = {"format": OUTCOME_FORMAT, "version": 1, "outcome": outcome.to_dict()}
    return write_text_atomic(Path(out_dir) / OUTCOME_FILE, json.dumps(doc, indent=2), force=True)


def sync_one(
    ref_path: str, spec: RunSpec, index, params, markers: tuple[Marker, ...]
) -> RunOutcome:
    """Sync ``spec``'s run to the reference, transfer ``markers``, write its folder; never raises
    for a bad run: the outcome says ``failed`` or ``no_match`` with the reason."""
    from ..markers import transfer_markers, write_transferred_csv
    from ..pipeline import sync_runs, write_report, write_sync_outputs
    from ..video import parallel

    t0 = time.perf_counter()
    out = Path(spec.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = {"name": spec.name, "video_path": spec.video_path, "key": spec.key}
    try:
        with parallel.sequential():  # the batch's parallelism is across runs, one a core
            result = sync_runs(ref_path, spec.video_path, index=index, params=params)
    except NoReliableMatchError as err:
        if getattr(err, "report", None):
            write_report(err.report, out / "report.json", force=True)
        outcome = RunOutcome(
            **base,
            status="no_match",
            reason=str(err),
            marker_t_new_s=tuple(math.nan for _ in markers),
            elapsed_s=time.perf_counter() - t0,
        )
        write_outcome(outcome, out)
        return outcome
    except MtbSyncError as err:  # an unreadable run fails alone; the batch goes on
        outcome = RunOutcome(
            **base,
            status="failed",
            reason=str(err),
            marker_t_new_s=tuple(math.nan for _ in markers),
            elapsed_s=time.perf_counter() - t0,
        )
        write_outcome(outcome, out)
        return outcome
    write_sync_outputs(result, out, force=True)
    moved = transfer_markers(markers, result.warp, spec.review_threshold)
    write_transferred_csv(moved, out / "markers.csv", force=True)
    rep = result.report
    outcome = RunOutcome(
        **base,
        status=str(rep["status"]),
        coverage=float(rep.get("coverage", math.nan)),
        median_confidence=float(rep.get("median_confidence", math.nan)),
        markers_review=int(sum(m.needs_review for m in moved)),
        marker_t_new_s=tuple(float(m.t_new_s) for m in moved),
        duration_s=float(result.new_info.duration_s),
        elapsed_s=time.perf_counter() - t0,
    )
    write_outcome(outcome, out)
    return outcome


def warp_arrays(out_dir: str | Path) -> tuple[np.ndarray, np.ndarray] | None:
    """``(t_new_s, t_ref_s)`` of a run folder's warp.json, or None when it has none."""
    p = Path(out_dir) / "warp.json"
    if not p.is_file():
        return None
    d = json.loads(p.read_text(encoding="utf-8"))
    return np.asarray(d["t_new_s"], float), np.asarray(d["t_ref_s"], float)
