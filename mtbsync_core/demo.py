"""The whole chain on the bundled sample data: index, sync, transfer, exports, then a batch of
every sample run (new, run2, run3) against the reference with split times."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from .index import build_index, save_index
from .markers import read_markers_csv, transfer_markers, write_transferred_csv
from .pipeline import sync_runs, write_sync_outputs
from .progress import ProgressCallback

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"


def run_demo(
    out_dir: str | os.PathLike[str],
    sample_dir: str | os.PathLike[str] = SAMPLE_DIR,
    force: bool = False,
    progress: ProgressCallback | None = None,
) -> dict[str, Path]:
    """Index the sample reference, sync the sample new run, transfer its markers, export them."""
    s, out = Path(sample_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    index = build_index(s / "ref.mp4", progress=progress)
    paths = {"index": save_index(index, out / "ref_index.npz", force=force)}
    result = sync_runs(s / "ref.mp4", s / "new.mp4", index=index, progress=progress)
    paths.update(write_sync_outputs(result, out, force=force))
    markers = transfer_markers(read_markers_csv(s / "ref_markers.csv"), result.warp)
    paths["markers"] = write_transferred_csv(markers, out / "new_markers.csv", force=force)
    try:
        from .export import write_export
    except ImportError:  # exports not installed in this build
        return paths
    with warnings.catch_warnings(record=True) as seen:  # the same note three times helps nobody
        warnings.simplefilter("always")
        for fmt, ext in (("edl", "edl"), ("fcpxml", "fcpxml"), ("premiere", "xml")):
            paths[fmt] = write_export(
                fmt, markers, out / f"new_markers.{ext}", video_path=str(s / "new.mp4"), force=force
            )
    for message in dict.fromkeys(str(w.message) for w in seen):
        warnings.warn(message, stacklevel=2)
    paths.update(_demo_batch(s, out, index, progress))
    return paths


def _demo_batch(s: Path, out: Path, index, progress: ProgressCallback | None) -> dict[str, Path]:
    """The sample runs (new, run2, run3, whichever exist) in a batch: ``out/batch/summary.csv``."""
    from .batch import LocalExecutor, run_batch

    runs = [s / f"{n}.mp4" for n in ("new", "run2", "run3") if (s / f"{n}.mp4").is_file()]
    if len(runs) < 2:
        return {}
    with LocalExecutor(min(os.cpu_count() or 1, len(runs))) as ex:
        result = run_batch(
            s / "ref.mp4",
            runs,
            read_markers_csv(s / "ref_markers.csv"),
            out / "batch",
            executor=ex,
            index=index,
            force=True,
            progress=progress,
        )
    return {f"batch_{k}": p for k, p in result.paths.items()}
