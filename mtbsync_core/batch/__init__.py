"""Many runs of one trail against one reference: executors, the batch, split times, the summary.

``run_batch`` indexes the reference once, ships it to the workers once and syncs every run on an
executor: :class:`LocalExecutor` (a process pool, the default) or :class:`DaskExecutor` (Dask
distributed, a cluster or a LocalCluster). Both follow ``concurrent.futures``.
"""

from __future__ import annotations

from .executor import BatchExecutor, DaskExecutor, LocalExecutor, make_executor
from .run import RunOutcome, RunSpec, read_outcome, sync_one, warp_arrays
from .runner import BatchResult, find_runs, run_batch, run_key
from .splits import Splits, best_segments, compute_splits, reference_splits, segment_names
from .summary import read_summary, summary_rows, write_summary

__all__ = [
    "BatchExecutor",
    "BatchResult",
    "DaskExecutor",
    "LocalExecutor",
    "RunOutcome",
    "RunSpec",
    "Splits",
    "best_segments",
    "compute_splits",
    "find_runs",
    "make_executor",
    "read_outcome",
    "read_summary",
    "reference_splits",
    "run_batch",
    "run_key",
    "segment_names",
    "summary_rows",
    "sync_one",
    "warp_arrays",
    "write_summary",
]
