"""``mtbsync export {edl,fcpxml,premiere,csv,json}`` and ``mtbsync import-markers``."""

from __future__ import annotations

import argparse
import sys
import warnings

from ..errors import ExportError, ImportMarkersError
from ..fileio import check_writable
from ..timebase import parse_fps

# The engine (numpy, scipy, PyAV) is imported inside the handlers, after the arguments are
# checked, so that `--help` and a usage error answer at once.

#: The export formats (the same as ``mtbsync_core.export.FORMATS``; a test checks it).
_FORMAT_HELP = {
    "edl": "CMX3600 EDL of timeline markers for DaVinci Resolve",
    "fcpxml": "FCPXML 1.10 project for Final Cut Pro (markers inside the clip)",
    "premiere": "FCP7 XML (xmeml) sequence markers for Premiere Pro",
    "csv": "transferred-marker CSV: name,t_ref,t_new,confidence,needs_review,comment,colour",
    "json": "mtbsync.markers JSON with frames and timecodes",
}


def _fps_arg(text: str):
    try:
        return parse_fps(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``export`` and ``import-markers`` to ``sub``."""
    p = sub.add_parser(
        "export",
        help="export transferred markers for an editor",
        description="Write transferred markers as an editor file. Frame rate, "
        "duration and start timecode come from --video.",
    )
    p.add_argument(
        "format",
        choices=tuple(_FORMAT_HELP),
        help="; ".join(f"{k}: {v}" for k, v in _FORMAT_HELP.items()),
    )
    p.add_argument("--markers", required=True, help="transferred markers CSV (mtbsync transfer)")
    p.add_argument("--video", help="the new run's video: frame rate, duration, start timecode")
    p.add_argument("--out", required=True, help="output file")
    p.add_argument(
        "--start-tc",
        help="record start timecode HH:MM:SS:FF for every format (default: the camera's own "
        "start timecode from --video, else 00:00:00:00)",
    )
    p.add_argument(
        "--fps",
        type=_fps_arg,
        help="frame rate, only when no --video is given (e.g. 29.97, 25, 30000/1001)",
    )
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.set_defaults(func=run_export)

    p = sub.add_parser(
        "import-markers",
        help="read editor markers into a reference marker CSV",
        description="Read markers from an EDL, FCPXML or Premiere XML file and "
        "write the reference marker CSV name,t_ref,colour,comment.",
    )
    p.add_argument("file", help="EDL, FCPXML (or .fcpxmld) or Premiere XML file")
    p.add_argument("--out", required=True, help="reference marker CSV to write")
    p.add_argument("--fps", type=_fps_arg, help="timeline frame rate (needed for non-drop EDLs)")
    p.add_argument(
        "--start-tc",
        help="timeline start timecode of an EDL (default: 01:00:00:00 "
        "when every marker is after it, else 00:00:00:00)",
    )
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.set_defaults(func=run_import)


def _show_warnings(caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        print(f"mtbsync: warning: {w.message}", file=sys.stderr)


def run_export(args: argparse.Namespace) -> int:
    """Handler of ``mtbsync export``."""
    if args.video and args.fps is not None:
        raise ExportError("Pass either --video or --fps, not both: the video's own rate is used.")
    check_writable(args.out, args.force)
    from ..export import write_export
    from ..markers import read_transferred_csv

    markers = read_transferred_csv(args.markers)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = write_export(
            args.format,
            markers,
            args.out,
            video_path=args.video,
            fps=args.fps,
            start_tc=args.start_tc,
            force=args.force,
        )
    _show_warnings(caught)
    placed = sum(1 for m in markers if m.t_new_s == m.t_new_s)  # NaN: outside the overlap
    kept = len(markers) if args.format in ("csv", "json") else placed
    print(f"wrote {out} ({kept} of {len(markers)} markers, {args.format})")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Handler of ``mtbsync import-markers``."""
    check_writable(args.out, args.force)
    from ..export import read_markers_file
    from ..markers import write_markers_csv

    markers = read_markers_file(args.file, fps=args.fps, start_tc=args.start_tc)
    if not markers:
        raise ImportMarkersError(
            f"'{args.file}' holds no markers. Add markers in your editor and export again."
        )
    write_markers_csv(markers, args.out, force=args.force)
    print(f"wrote {args.out} ({len(markers)} markers)")
    return 0
