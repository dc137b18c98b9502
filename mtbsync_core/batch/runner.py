"""``run_batch``: many runs of one trail against one reference, on any executor.

The reference is indexed once (kept as ``ref_index.npz`` in the batch folder) and scattered to
the workers once; each run is synced, its markers transferred and its folder written by a worker
(:func:`mtbsync_core.batch.run.sync_one`). Resumable: a run whose folder holds an outcome with
the same key (content hashes of both videos, the parameters and the markers) is not redone, so a
killed batch picks up where it stopped. Isolated: a run that cannot be read fails alone, with
its reason, and the others finish.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import math
import os
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import BatchError, MtbSyncError, OutputExistsError
from ..fileio import content_hash
from ..model import Marker
from ..progress import ProgressCallback, report
from .executor import BatchExecutor, LocalExecutor
from .run import RunOutcome, RunSpec, read_outcome, sync_one
from .summary import write_summary

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".mts")
INDEX_FILE = "ref_index.npz"
RUNS_DIR = "runs"


@dataclass(frozen=True)
class BatchResult:
    """Every run's outcome (in input order), the summary files and what the batch did."""

    reference: str
    markers: tuple[Marker, ...]
    outcomes: tuple[RunOutcome, ...]
    paths: dict[str, Path]
    index_built: bool
    wall_s: float

    @property
    def all_synced(self) -> bool:
        """True when every run synced (ok or low_confidence)."""
        return all(o.synced for o in self.outcomes)


def find_runs(
    patterns: Sequence[str], reference: str | os.PathLike[str] | None = None
) -> list[Path]:
    """Video files named by ``patterns`` (folders, globs or files), sorted, without the reference.

    A file named outright is kept even when it is missing (the batch reports it); a folder or
    glob that names no video raises :class:`BatchError`.
    """
    found: list[Path] = []
    for pat in patterns:
        p = Path(pat)
        if p.is_dir():
            hits = sorted(
                q for q in p.iterdir() if q.suffix.lower() in VIDEO_SUFFIXES and q.is_file()
            )
        elif glob.has_magic(pat):
            hits = sorted(Path(q) for q in glob.glob(pat) if Path(q).is_file())
        else:
            hits = [p]
        if not hits:
            raise BatchError(
                f"No video files in '{pat}'. Pass a folder, a glob such as 'runs/*.mp4', or files."
            )
        found.extend(hits)
    ref = Path(reference).resolve() if reference is not None else None
    out, seen = [], set()
    for p in found:
        r = p.resolve()
        if r != ref and r not in seen:
            seen.add(r)
            out.append(p)
    if not out:
        raise BatchError("The runs given are only the reference itself. Pass the other runs.")
    return out


def run_key(
    ref_hash: str, run_hash: str, params, markers: Sequence[Marker], review_threshold: float
) -> str:
    """Identity of a run's result: both videos' content, the parameters and the markers."""
    doc = json.dumps(
        [ref_hash, run_hash, asdict(params), [asdict(m) for m in markers], review_threshold],
        sort_keys=True,
        default=str,
    )
    return "b1:" + hashlib.sha256(doc.encode()).hexdigest()[:32]


def _run_names(paths: Sequence[Path]) -> list[str]:
    names: list[str] = []
    for p in paths:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", p.stem) or "run"
        name, k = base, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.append(name)
    return names


def _reference_index(reference: str, params, out: Path, progress: ProgressCallback | None):
    """Load the batch folder's index when it fits the reference, else build and keep it."""
    from ..index import build_index, check_index, load_index, save_index

    path = out / INDEX_FILE
    if path.exists():
        try:
            index = load_index(path)
            check_index(index, reference, params.sample, index_path=path)
            return index, False
        except MtbSyncError as err:
            log.info("rebuilding the batch's index: %s", err)
    index = build_index(reference, params.sample, progress)
    save_index(index, path, force=True)
    return index, True


def _plan(runs, names, out, ref_hash, params, markers, review_threshold, force):
    """Split runs into finished outcomes (resumed or unreadable) and specs still to do."""
    done: dict[str, RunOutcome] = {}
    todo: list[RunSpec] = []
    clash: list[str] = []
    for path, name in zip(runs, names, strict=True):
        run_dir = out / RUNS_DIR / name
        try:
            h = content_hash(path)
        except OSError as err:
            reason = (
                f"Cannot read run '{path}' ({err.strerror or err}). Check the path and permissions."
            )
            done[name] = RunOutcome(
                name,
                str(path),
                "",
                "failed",
                reason,
                marker_t_new_s=tuple(math.nan for _ in markers),
            )
            continue
        key = run_key(ref_hash, h, params, markers, review_threshold)
        prev = read_outcome(run_dir)
        if prev is not None and not force and prev.status != "failed":
            if prev.key == key:
                done[name] = prev
                continue
            clash.append(str(run_dir))
        todo.append(RunSpec(name, str(path), str(run_dir), key, review_threshold))
    if clash:
        raise OutputExistsError(
            f"Run folder '{clash[0]}' ({len(clash)} in all) holds a result made from another file or "
            "with other settings. Pass --force to redo those runs, or --out another folder."
        )
    return done, todo


def run_batch(
    reference: str | os.PathLike[str],
    runs: Sequence[str | os.PathLike[str]],
    markers: Sequence[Marker],
    out_dir: str | os.PathLike[str],
    *,
    executor: BatchExecutor | None = None,
    index=None,
    params=None,
    review_threshold: float = 0.6,
    force: bool = False,
    progress: ProgressCallback | None = None,
) -> BatchResult:
    """Sync every run in ``runs`` to ``reference`` and carry ``markers`` over; see the module doc.

    ``index``: a reference index already built (checked against ``reference``); without one the
    batch folder's ``ref_index.npz`` is used when it fits, else the index is built and kept there.
    ``executor`` defaults to a :class:`LocalExecutor` with one worker a core (at most one a run),
    shut down at the end; an executor given here is left running. Progress: one ``batch``
    event per finished run (``message`` names the run and its status).
    """
    from ..pipeline import SyncParams

    t0 = time.perf_counter()
    params = params or SyncParams()
    reference, markers = str(reference), tuple(markers)
    out = Path(out_dir)
    paths = [Path(r) for r in runs]
    names = _run_names(paths)
    try:
        ref_hash = content_hash(reference)
    except OSError as err:
        raise BatchError(
            f"Cannot read the reference '{reference}' ({err.strerror or err}). Check the path."
        ) from err
    from ..video import probe_video

    probe_video(reference)  # a reference that is no video stops the batch before any output
    out.mkdir(parents=True, exist_ok=True)
    done, todo = _plan(paths, names, out, ref_hash, params, markers, review_threshold, force)
    total = len(paths)
    for i, (name, o) in enumerate(done.items(), 1):
        msg = (
            f"{name}: {o.status} (done before)" if o.resumed else f"{name}: {o.status}: {o.reason}"
        )
        report(progress, "batch", i, total, "runs", msg)
    index_built = False
    if todo:
        own = executor is None
        # made before the index: a local pool's fork server loads the engine meanwhile
        ex = executor or LocalExecutor(min(os.cpu_count() or 1, len(todo)))
        try:
            if index is not None:
                from ..index import check_index

                check_index(index, reference, params.sample)
            else:
                index, index_built = _reference_index(reference, params, out, progress)
            _execute(ex, reference, todo, index, params, markers, done, out, total, progress)
        finally:
            if own:
                ex.shutdown()
    outcomes = tuple(done[n] for n in names)
    files = write_summary(outcomes, markers, out)
    return BatchResult(reference, markers, outcomes, files, index_built, time.perf_counter() - t0)


def _execute(ex, reference, todo, index, params, markers, done, out, total, progress) -> None:
    handle = ex.scatter(index)
    futures = {ex.submit(sync_one, reference, spec, handle, params, markers): spec for spec in todo}
    for fut in ex.as_completed(futures):
        spec = futures[fut]
        try:
            outcome = fut.result()
        except Exception as err:  # a worker died or hit a bug: that run fails, the rest go on
            log.exception("run %s failed in its worker", spec.name)
            outcome = RunOutcome(
                spec.name,
                spec.video_path,
                spec.key,
                "failed",
                f"The worker failed on '{spec.video_path}': {type(err).__name__}: {err}",
                marker_t_new_s=tuple(math.nan for _ in markers),
            )
        done[spec.name] = outcome
        msg = f"{spec.name}: {outcome.status} in {outcome.elapsed_s:.1f} s"
        if not outcome.synced:
            msg += f": {outcome.reason}"
        report(progress, "batch", len(done), total, "runs", msg)
        write_summary(list(done.values()), markers, out, parquet=False)
