"""``mtbsync highlights RUN... --out DIR`` and ``mtbsync highlights eval --labels FILE``.

The engine is imported inside the handlers, so that the CLI starts without it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .common import progress_for


def _label_map(text: str) -> tuple[str, str]:
    label, sep, kind = text.partition("=")
    if not sep or not label or not kind:
        raise argparse.ArgumentTypeError(f"label map {text!r} must be LABEL=KIND, e.g. trick=jump")
    return label, kind


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``highlights`` (find, cut, mark) and its ``eval`` form to ``sub``."""
    p = sub.add_parser(
        "highlights",
        help="find jumps, drops, crashes, fast and loud moments; cut clips and markers",
        description="mtbsync highlights RUN... --out DIR [--kinds jump,crash,fast,loud] [--clips] "
        "[--pad 2]\n  or: mtbsync highlights eval --labels FILE --highlights highlights.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="GoPro or other videos (or 'eval')")
    p.add_argument("--out", help="output folder (one subfolder per run when there are several)")
    p.add_argument(
        "--kinds",
        default="jump,crash,fast,loud",
        help="kinds to find: jump (with drop), crash, fast, loud, shake (default %(default)s)",
    )
    p.add_argument("--clips", action="store_true", help="cut each highlight as a frame-exact clip")
    p.add_argument(
        "--pad", type=float, default=2.0, help="seconds added before and after (default 2)"
    )
    p.add_argument(
        "--merge-gap",
        type=float,
        default=6.0,
        help="events closer than this (s) make one highlight (default 6)",
    )
    p.add_argument(
        "--markers",
        default="edl,fcpxml,premiere",
        help="editor marker files to write: edl,fcpxml,premiere or 'none' (default all)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a detector threshold, e.g. freefall_g=0.4 or crash_g=5 (repeatable; names as in "
        "HighlightParams)",
    )
    p.add_argument("--track", help="GPX or FIT track for a video without GPS telemetry")
    p.add_argument(
        "--track-offset",
        type=float,
        help="UTC seconds of the video's first frame (when the video does not say)",
    )
    p.add_argument(
        "--picture",
        choices=("auto", "on", "off"),
        default="auto",
        help="use the decoded picture: auto = only without telemetry (default)",
    )
    p.add_argument("--jobs", type=int, default=1, help="runs processed in parallel (default 1)")
    p.add_argument("--labels", help="eval: CVAT for video 1.1 XML or CSV kind,start_s,end_s")
    p.add_argument("--highlights", help="eval: the highlights.json to score")
    p.add_argument("--video", help="eval: the video the CVAT frame numbers refer to")
    p.add_argument("--fps", type=float, help="eval: frame rate for CVAT frames without --video")
    p.add_argument(
        "--label-map",
        type=_label_map,
        action="append",
        default=[],
        metavar="LABEL=KIND",
        help="eval: read a label as a kind, e.g. trick=jump (repeatable)",
    )
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_highlights)


def cmd_highlights(args: argparse.Namespace) -> int:
    """Handler of ``mtbsync highlights``."""
    if args.runs == ["eval"]:
        return cmd_eval(args)
    if not args.out:
        print("mtbsync highlights: error: --out DIR is required", file=sys.stderr)
        return 2
    from ..highlights.detect import parse_kinds
    from ..highlights.runner import run_many

    try:
        kinds = parse_kinds(args.kinds)
    except ValueError as err:
        print(f"mtbsync highlights: error: {err}", file=sys.stderr)
        return 2
    fmts = (
        []
        if args.markers.strip() == "none"
        else [f.strip() for f in args.markers.split(",") if f.strip()]
    )
    bad = [f for f in fmts if f not in ("edl", "fcpxml", "premiere")]
    if bad or args.pad < 0 or args.merge_gap < 0 or args.jobs < 1:
        print(
            "mtbsync highlights: error: --markers takes edl,fcpxml,premiere or none; --pad, "
            "--merge-gap >= 0; --jobs >= 1",
            file=sys.stderr,
        )
        return 2
    try:
        params = _params(args)
    except ValueError as err:
        print(f"mtbsync highlights: error: {err}", file=sys.stderr)
        return 2
    picture = {"auto": None, "on": True, "off": False}[args.picture]
    outs = run_many(
        args.runs,
        args.out,
        jobs=args.jobs,
        params=params,
        kinds=kinds,
        clips=args.clips,
        markers=fmts,
        force=args.force,
        track_path=args.track,
        track_offset_s=args.track_offset,
        picture=picture,
        progress=progress_for(args),
    )
    for o in outs:
        r = o.result
        print(
            f"{r.video}: {len(r.highlights)} highlight(s) from {len(r.events)} event(s); "
            f"signals: {', '.join(r.sources) or 'picture only'}"
        )
        for h in r.highlights:
            print(
                f"  #{h.rank:<3} {h.start_s:9.2f}-{h.end_s:9.2f} s  score {h.score:.2f}  "
                f"{'+'.join(h.kinds):<14} {h.reason}"
            )
        for c in o.clips:
            print(
                f"  clip {c.path}: frames {c.first_frame_idx}-{c.last_frame_idx} {c.mode} "
                f"({c.frames_reencoded} re-encoded)"
            )
        print(f"  wrote {o.json_path}, {o.csv_path}" + "".join(f", {m}" for m in o.marker_paths))
    return 0


def _params(args: argparse.Namespace):
    """HighlightParams from --pad, --merge-gap and every --set NAME=VALUE."""
    from dataclasses import fields, replace

    from ..highlights.model import HighlightParams

    types = {f.name: f.type for f in fields(HighlightParams)}
    values: dict = {"pad_s": args.pad, "merge_gap_s": args.merge_gap}
    for item in args.set:
        name, sep, text = item.partition("=")
        if not sep or name not in types:
            raise ValueError(f"--set {item!r}: use NAME=VALUE with NAME one of {', '.join(types)}")
        try:
            values[name] = int(text) if types[name] in (int, "int") else float(text)
        except ValueError:
            raise ValueError(f"--set {item!r}: {text!r} is not a number") from None
    return replace(HighlightParams(), **values)


def cmd_eval(args: argparse.Namespace) -> int:
    """Handler of ``mtbsync highlights eval``: precision, recall and boundary error per kind."""
    if not args.labels or not args.highlights:
        print(
            "mtbsync highlights eval: error: --labels FILE and --highlights FILE are required",
            file=sys.stderr,
        )
        return 2
    from ..highlights.io import read_highlights
    from ..highlights.labels import read_labels, score_events

    result = read_highlights(args.highlights)
    kw: dict = {"label_map": dict(args.label_map)}
    video = args.video or (result.video if Path(result.video).is_file() else None)
    if video:
        from ..multicam import read_pts_table

        kw["frame_t_s"] = read_pts_table(video).t_s
    elif args.fps:
        kw["fps"] = args.fps
    labels = read_labels(args.labels, **kw)
    scores = score_events(labels, result.events)
    print(
        f"{'kind':<8} {'labels':>6} {'found':>6} {'match':>6} {'precision':>9} {'recall':>7} "
        f"{'start_err_s':>11} {'end_err_s':>9}"
    )
    for s in scores.values():
        print(
            f"{s.kind:<8} {s.n_labels:>6} {s.n_detected:>6} {s.true_pos:>6} {s.precision:>9.3f} "
            f"{s.recall:>7.3f} {s.start_err_median_s:>11.3f} {s.end_err_median_s:>9.3f}"
        )
    if args.out:
        from ..fileio import write_text_atomic

        dest = Path(args.out)
        dest = dest / "eval.json" if dest.is_dir() else dest
        write_text_atomic(
            dest, json.dumps({k: v.__dict__ for k, v in scores.items()}, indent=1), force=args.force
        )
        print(f"wrote {dest}")
    return 0
