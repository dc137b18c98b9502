"""``mtbsync index | sync | warp refit | transfer | demo``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ..checks import MAX_TIME_S, cli_number
from ..errors import MtbSyncError, NoReliableMatchError, OutputExistsError
from ..fileio import check_set_writable, check_writable, output_lock, write_set_atomic
from .common import progress_for

# The engine (numpy, scipy, OpenCV, PyAV) is imported inside the handlers, after the arguments
# and input paths are checked, so that `--help` and a missing input answer at once.


def _anchor(text: str) -> tuple[float, float]:
    try:
        a, b = text.split(":")
        return cli_number(a, -MAX_TIME_S, MAX_TIME_S), cli_number(b, -MAX_TIME_S, MAX_TIME_S)
    except ValueError as err:
        why = f" ({err})" if "finite" in str(err) else ""
        raise argparse.ArgumentTypeError(
            f"anchor {text!r} must be T_NEW:T_REF in seconds, e.g. 12.5:14.04{why}"
        ) from None


def _rate(text: str) -> float:
    try:
        return cli_number(text, 0.0, 240.0, lo_open=True)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{err} (samples per second)") from None


def _share(text: str) -> float:
    try:
        return cli_number(text, 0.0, 1.0)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{err} (a confidence)") from None


def register(sub: argparse._SubParsersAction) -> None:
    """Add the run-to-run subcommands to ``sub``."""
    p = sub.add_parser("index", help="sample and describe a reference run once, for many syncs")
    p.add_argument("--reference", required=True, help="reference run video")
    p.add_argument("--out", required=True, help="index file to write (.npz)")
    p.add_argument(
        "--fps",
        type=_rate,
        help="most samples per second (default: the sampler's, 15)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing index")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser(
        "sync", help="align a new run to a reference run: warp.json, pairs.csv, report.json"
    )
    p.add_argument("--reference", required=True)
    p.add_argument("--new", required=True)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--index", help="reference index from `mtbsync index` (checked against the reference)"
    )
    p.add_argument("--ref-gpx", help="GPS track of the reference run (GPX, FIT)")
    p.add_argument("--new-gpx", help="GPS track of the new run (GPX, FIT)")
    p.add_argument(
        "--method",
        choices=("auto", "vision", "gps"),
        default="auto",
        help="auto: vision with a GPS prior when tracks exist; gps: tracks only",
    )
    p.add_argument("--fps", type=_rate, help="most samples per second (default: the sampler's, 15)")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("warp", help="work on a warp.json")
    wsub = p.add_subparsers(dest="warp_command", required=True, metavar="ACTION")
    r = wsub.add_parser("refit", help="refit a warp through manual anchors (hard constraints)")
    r.add_argument("--warp", required=True)
    r.add_argument(
        "--anchor",
        type=_anchor,
        action="append",
        default=[],
        metavar="T_NEW:T_REF",
        help="a manual anchor pair in seconds; repeat for more",
    )
    r.add_argument(
        "--clear-anchors", action="store_true", help="drop the anchors the warp already has"
    )
    r.add_argument("--out", required=True)
    r.add_argument("--force", action="store_true")
    r.set_defaults(func=cmd_warp_refit)

    p = sub.add_parser("transfer", help="carry reference markers to the new run")
    p.add_argument("--warp", required=True)
    p.add_argument(
        "--markers", required=True, help="reference markers CSV: name,t_ref[,colour][,comment]"
    )
    p.add_argument(
        "--out",
        required=True,
        help="new markers CSV: name,t_ref,t_new,confidence,needs_review,comment,colour",
    )
    p.add_argument(
        "--review-threshold",
        type=_share,
        default=0.6,
        help="below this confidence a marker needs review",
    )
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_transfer)

    p = sub.add_parser("demo", help="run the whole chain on the bundled sample data")
    p.add_argument("--out", default="out/demo", help="output folder (default %(default)s)")
    p.add_argument("--force", action="store_true", help="redo and overwrite an earlier demo")
    p.add_argument(
        "--quiet-if-done", action="store_true", help="do nothing if the demo outputs exist"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)


def _sample_params(args: argparse.Namespace):
    from ..sampling import SampleParams

    return SampleParams() if args.fps is None else SampleParams(max_rate_hz=args.fps)


def _require_file(path: str, flag: str) -> None:
    """A one-line error for a missing input, before any engine import."""
    if not Path(path).is_file():
        what = "is a folder" if Path(path).is_dir() else "does not exist"
        raise MtbSyncError(f"{flag} '{path}' {what}. Pass an existing file.")


def cmd_index(args: argparse.Namespace) -> int:
    check_writable(args.out, args.force)
    _require_file(args.reference, "--reference")
    from ..index import build_index, save_index

    t0 = time.perf_counter()
    index = build_index(args.reference, _sample_params(args), progress_for(args))
    save_index(index, args.out, force=args.force)
    print(
        f"Indexed {len(index.keyframes.t_s)} samples of '{args.reference}' in {time.perf_counter() - t0:.1f} s -> {args.out}"
    )
    return 0


def _track(path: str | None):
    if not path:
        return None
    from ..gps import read_track

    return read_track(path)


def _check_inputs(args: argparse.Namespace) -> None:
    """Every input exists and both videos open, before any long step (fail fast)."""
    for flag in ("reference", "new", "index", "ref_gpx", "new_gpx"):
        if getattr(args, flag):
            _require_file(getattr(args, flag), f"--{flag.replace('_', '-')}")
    from ..video import probe_video

    probe_video(args.new)
    probe_video(args.reference)


def cmd_sync(args: argparse.Namespace) -> int:
    out = Path(args.out)
    names = ["warp.json", "pairs.csv", "report.json"]
    check_set_writable(out, names, args.force)
    _check_inputs(args)
    with output_lock(out):
        check_set_writable(out, names, args.force)  # another run may have finished meanwhile
        return _sync_locked(args, out)


def _sync_locked(args: argparse.Namespace, out: Path) -> int:
    from ..index import load_index
    from ..pipeline import SyncParams, sync_runs, write_sync_outputs

    params = SyncParams(sample=_sample_params(args))
    index = load_index(args.index) if args.index else None
    if index is not None:
        from ..index import check_index

        check_index(index, args.reference, params.sample, index_path=args.index)
    try:
        result = sync_runs(
            args.reference,
            args.new,
            index=index,
            params=params,
            ref_track=_track(args.ref_gpx),
            new_track=_track(args.new_gpx),
            method=args.method,
            progress=progress_for(args),
        )
    except NoReliableMatchError as err:
        if getattr(err, "report", None):
            write_set_atomic(out, {"report.json": json.dumps(err.report, indent=2)}, args.force)
        raise
    paths = write_sync_outputs(result, out, force=args.force)
    rep = result.report
    ov = rep.get("overlap_new_s", [0, 0])
    print(
        f"{rep['status']}: new {ov[0]:.2f}-{ov[1]:.2f} s matched (coverage {rep.get('coverage', 0):.0%}, "
        f"median confidence {rep.get('median_confidence', float('nan')):.2f}) in {sum(rep['timings_s'].values()):.1f} s"
    )
    for k, p in paths.items():
        print(f"  {k:<7} {p}")
    if rep["status"] != "ok":
        print(
            "Some stretches are doubtful: review the markers flagged needs_review.", file=sys.stderr
        )
    return 0


def cmd_warp_refit(args: argparse.Namespace) -> int:
    check_writable(args.out, args.force)
    from ..warp import read_warp, write_warp

    warp = read_warp(args.warp)
    anchors = ([] if args.clear_anchors else list(warp.anchors)) + list(args.anchor)
    t0 = time.perf_counter()
    new = warp.with_anchors(anchors)
    dt = time.perf_counter() - t0
    write_warp(new, args.out, force=args.force)
    print(f"Refitted through {len(new.anchors)} anchor(s) in {dt * 1000:.0f} ms -> {args.out}")
    return 0


def cmd_transfer(args: argparse.Namespace) -> int:
    check_writable(args.out, args.force)
    from ..markers import read_markers_csv, transfer_markers, write_transferred_csv
    from ..warp import read_warp

    warp = read_warp(args.warp)
    markers = transfer_markers(read_markers_csv(args.markers), warp, args.review_threshold)
    write_transferred_csv(markers, args.out, force=args.force)
    n_rev = sum(m.needs_review for m in markers)
    n_out = sum(not m.in_overlap for m in markers)
    print(
        f"{len(markers)} marker(s) -> {args.out}: {n_rev} need review ({n_out} outside the overlap)"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    out = Path(args.out)
    if args.quiet_if_done and (out / "new_markers.csv").exists():
        return 0
    if out.exists() and any(out.iterdir()) and not args.force:
        raise OutputExistsError(
            f"Demo folder '{out}' exists. Pass --force to redo it, or --out another folder."
        )
    paths = run_demo(out, force=True, progress=progress_for(args))
    print("Demo done. Outputs:")
    for k, p in paths.items():
        print(f"  {k:<14} {p}")
    if "batch_summary" in paths:
        from ..batch import read_summary

        print("Sample runs against the reference (total: first to last marker):")
        for row in read_summary(paths["batch_summary"]):
            total = f"{float(row['total_s']):6.2f} s" if row["total_s"] else "  (misses a marker)"
            delta = f"{float(row['delta_ref_s']):+.2f} s" if row["delta_ref_s"] else ""
            print(f"    {row['run']:<8} {row['status']:<15} {total} {delta}")
    return 0
