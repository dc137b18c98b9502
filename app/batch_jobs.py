"""A project's batch (every run against the reference) on a background thread, with progress the
Runs page polls. One batch per project at a time; the job lives in the server process, so a page
reload or a second tab finds it; each run's outcome lands in the project's SQLite file.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.state import ProjectStore

log = logging.getLogger(__name__)


@dataclass
class BatchJob:
    """Progress of one project's batch."""

    project: str
    total: int
    done: int = 0
    stage: str = "starting"
    lines: list[str] = field(default_factory=list)
    status: str = "running"  # running | done | failed
    error: str | None = None
    started: float = field(default_factory=time.time)
    thread: threading.Thread | None = None

    @property
    def fraction(self) -> float:
        """Share of the runs done, 0..1."""
        return min(1.0, self.done / self.total) if self.total else 0.0


_JOBS: dict[str, BatchJob] = {}
_LOCK = threading.Lock()


def batch_dir(store: ProjectStore) -> Path:
    """Where the project's batch writes its run folders and summary."""
    return store.cache_dir / "batch"


def get_batch(store: ProjectStore) -> BatchJob | None:
    """The batch job of this project in this server process, if any."""
    return _JOBS.get(str(store.path))


def start_batch(store: ProjectStore, workers: int | None = None) -> BatchJob:
    """Start (or find running) the batch over the project's runs."""
    ref, runs = store.video("ref"), store.runs()
    if ref is None or not runs:
        raise ValueError("Add a reference video and at least one run before syncing the runs.")
    with _LOCK:
        job = _JOBS.get(str(store.path))
        if job is not None and job.status == "running":
            return job
        job = BatchJob(store.name, len(runs))
        job.thread = threading.Thread(
            target=_run, args=(store.path, job, workers), daemon=True, name="mtbsync-batch"
        )
        _JOBS[str(store.path)] = job
        job.thread.start()
    return job


def _run(db_path: Path, job: BatchJob, workers: int | None) -> None:
    from mtbsync_core import MtbSyncError
    from mtbsync_core.batch import LocalExecutor, run_batch

    store = ProjectStore(db_path)
    ref, runs, markers = store.video("ref"), store.runs(), store.ref_markers()
    out = batch_dir(store)

    def progress(ev) -> None:
        if ev.stage == "batch":
            job.stage, job.done, job.total = "runs", ev.done, ev.total or job.total
            if ev.message:
                job.lines.append(ev.message)
        else:
            job.stage = ev.stage

    n = workers or min(os.cpu_count() or 1, len(runs))
    try:
        with LocalExecutor(n) as ex:
            result = run_batch(
                ref.path, [r.path for r in runs], markers, out, executor=ex, progress=progress
            )
        for run, outcome in zip(runs, result.outcomes, strict=True):
            store.set_run_outcome(run.name, outcome.to_dict(), str(out / "runs" / outcome.name))
        job.status = "done"
    except MtbSyncError as err:
        job.status, job.error = "failed", str(err)
    except Exception as err:  # keep the server alive; the page shows a plain message
        log.exception("batch failed")
        job.status, job.error = (
            "failed",
            f"The batch failed unexpectedly: {type(err).__name__}: {err}",
        )
    finally:
        job.stage = "done"
