"""Everything ``mtbsync highlights`` does for one run, and for many runs with an executor.

For many runs each gets its own folder ``OUT/<video stem>/``. A ``concurrent.futures`` executor
may be passed (a process pool by default when ``jobs > 1``); the batch executor of batch sync
can take its place once it exists.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import HighlightError
from ..fileio import check_writable
from .clips import Clip
from .io import HighlightResult
from .model import HighlightParams


@dataclass(frozen=True)
class RunOutputs:
    """What was found in one run and written for it."""

    result: HighlightResult
    json_path: str
    csv_path: str
    clips: tuple[Clip, ...] = ()
    marker_paths: tuple[str, ...] = ()


def run_highlights(
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    params: HighlightParams | None = None,
    kinds: Sequence[str] | str | None = None,
    clips: bool = False,
    markers: Sequence[str] = (),
    force: bool = False,
    track_path: str | None = None,
    track_offset_s: float | None = None,
    picture: bool | None = None,
    progress=None,
) -> RunOutputs:
    """Find the highlights of ``path``; write highlights.json/.csv, clips and markers in ``out_dir``."""
    from .api import find_highlights
    from .clips import cut_highlight_clips
    from .io import write_highlights
    from .markers import write_highlight_markers

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise HighlightError(f"Output '{out}' is a file, not a folder. Choose a folder for --out.")
    for name in ("highlights.json", "highlights.csv"):
        check_writable(out / name, force)
    result = find_highlights(
        path, params, kinds, track_path=track_path, track_offset_s=track_offset_s, picture=picture
    )
    j, c = write_highlights(result, out, force=force)
    made = tuple(cut_highlight_clips(result, out, force=force, progress=progress)) if clips else ()
    marks = (
        write_highlight_markers(result, out, markers, force=force)
        if markers and result.highlights
        else []
    )
    return RunOutputs(result, str(j), str(c), made, tuple(str(p) for p in marks))


def run_many(
    paths: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    jobs: int = 1,
    executor: Executor | None = None,
    **options,
) -> list[RunOutputs]:
    """:func:`run_highlights` over ``paths`` (one folder each when there are several), in order.

    With ``executor`` (any ``concurrent.futures.Executor``) or ``jobs > 1`` the runs go in
    parallel; results come back in the order of ``paths``. The first error is raised.
    """
    stems = [Path(p).stem for p in paths]
    if len(set(stems)) != len(stems):
        raise HighlightError(
            "Two runs have the same file name; their outputs would collide. Rename one."
        )
    outs = [Path(out_dir)] if len(paths) == 1 else [Path(out_dir) / s for s in stems]
    if executor is None and jobs <= 1:
        return [run_highlights(p, o, **options) for p, o in zip(paths, outs, strict=True)]
    options.pop("progress", None)  # a callback does not cross processes
    own = executor is None
    ex = executor or ProcessPoolExecutor(max_workers=jobs)
    try:
        futures = [
            ex.submit(run_highlights, p, o, **options) for p, o in zip(paths, outs, strict=True)
        ]
        return [f.result() for f in futures]
    finally:
        if own:
            ex.shutdown()
