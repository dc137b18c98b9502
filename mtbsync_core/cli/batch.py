"""``mtbsync batch``: many runs of one trail against one reference, on a process pool or Dask."""

from __future__ import annotations

import argparse
import os
import sys

BATCH_EXIT_INCOMPLETE = 6  # documented in errors.py and the README


def _workers(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(
            f"--workers must be a whole number of at least 1, not {text!r}"
        )
    return n


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``batch`` to ``sub``."""
    from .runs import _rate, _share  # the same checked numbers as `sync`

    p = sub.add_parser(
        "batch",
        help="sync many runs against one reference: per-run outputs, summary.csv, split times",
    )
    p.add_argument("--reference", required=True, help="reference run video")
    p.add_argument(
        "--runs",
        required=True,
        nargs="+",
        metavar="DIR_OR_GLOB",
        help="folders, globs ('runs/*.mp4') or files of the runs",
    )
    p.add_argument("--markers", required=True, help="reference markers CSV: name,t_ref[,...]")
    p.add_argument("--out", required=True, help="batch folder (rerun it to resume)")
    p.add_argument(
        "--workers", type=_workers, default=None, help="worker processes (default: the core count)"
    )
    p.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local: a process pool; dask: a Dask LocalCluster of --workers workers",
    )
    p.add_argument(
        "--scheduler", help="Dask scheduler address (tcp://HOST:8786): run on that cluster"
    )
    p.add_argument("--fps", type=_rate, help="most samples per second (default: the sampler's, 15)")
    p.add_argument(
        "--review-threshold",
        type=_share,
        default=0.6,
        help="below this confidence a marker needs review",
    )
    p.add_argument("--force", action="store_true", help="redo every run and overwrite its outputs")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_batch)


def cmd_batch(args: argparse.Namespace) -> int:
    from ..batch import find_runs, make_executor, run_batch
    from ..markers import read_markers_csv
    from ..pipeline import SyncParams
    from ..sampling import SampleParams
    from .display import BatchDisplay

    if not getattr(args, "verbose", False):  # Dask logs every worker start at INFO
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    markers = read_markers_csv(args.markers)
    from ..video import probe_video

    runs = find_runs(args.runs, args.reference)
    probe_video(args.reference)  # before any worker starts: a bad reference is one line at once
    sample = SampleParams() if args.fps is None else SampleParams(max_rate_hz=args.fps)
    params = SyncParams(sample=sample)
    workers = args.workers or min(os.cpu_count() or 1, len(runs))
    executor = make_executor(args.executor, workers, args.scheduler)
    where = (
        f"Dask at {args.scheduler}"
        if args.scheduler
        else f"{args.executor}, {executor.workers} worker(s)"
    )
    display = None if args.quiet else BatchDisplay(len(runs))
    try:
        if display:
            display.start(f"{len(runs)} run(s) against '{args.reference}' ({where})")
        result = run_batch(
            args.reference,
            runs,
            markers,
            args.out,
            executor=executor,
            params=params,
            review_threshold=args.review_threshold,
            force=args.force,
            progress=display,
        )
    finally:
        if display:
            display.stop()
        executor.shutdown()
    counts: dict[str, int] = {}
    for o in result.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    resumed = sum(o.resumed for o in result.outcomes)
    tally = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(
        f"{len(result.outcomes)} run(s): {tally}; {resumed} done before; "
        f"reference index {'built' if result.index_built else 'reused'}; {result.wall_s:.1f} s"
    )
    for k, p in result.paths.items():
        print(f"  {k:<8} {p}")
    if not result.all_synced:
        bad = [o for o in result.outcomes if not o.synced]
        for o in bad:
            print(f"mtbsync: run '{o.name}' {o.status}: {o.reason}", file=sys.stderr)
        return BATCH_EXIT_INCOMPLETE
    return 0
