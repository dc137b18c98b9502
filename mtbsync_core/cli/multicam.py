"""``mtbsync multicam sync|trim``: N simultaneous cameras on one timeline, and the trimmed export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import multicam  # lazy package: its engine modules load on first use
from ..checks import MAX_TIME_S, cli_number
from ..errors import MulticamError
from ..fileio import check_writable
from .common import progress_for


def _offset(text: str) -> tuple[str, float]:
    cam, sep, val = text.rpartition("=")
    try:
        if not sep or not cam:
            raise ValueError
        return cam, cli_number(val, -MAX_TIME_S, MAX_TIME_S)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"offset {text!r} must be CAM=SECONDS, e.g. helmet=1.25"
        ) from None


def _roi(text: str) -> tuple[int, int, int, int]:
    try:
        x, y, w, h = (int(v) for v in text.split(","))
        return x, y, w, h
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"roi {text!r} must be X,Y,W,H in pixels, e.g. 10,20,40,30"
        ) from None


def _exposure(text: str) -> float | None:
    if text == "auto":
        return None
    try:
        val = float(text)
        if not 0 < val <= 1:
            raise ValueError
        return val
    except ValueError:
        raise argparse.ArgumentTypeError(f"exposure {text!r} must be in (0, 1] or 'auto'") from None


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``multicam`` with its ``sync`` and ``trim`` subcommands to ``sub``."""
    mc = sub.add_parser(
        "multicam",
        help="put simultaneous cameras on one timeline (sound, gyro, motion, flash, timecode)",
    )
    msub = mc.add_subparsers(dest="multicam_command", metavar="ACTION", required=True)
    p = msub.add_parser(
        "sync",
        help="find each camera's offset and clock drift against a master",
        description="master time = offset_s + (1 + drift_ppm*1e-6) * camera time",
    )
    p.add_argument("cameras", nargs="+", metavar="CAM", help="video files (two or more)")
    p.add_argument("--out", required=True, help="folder for multicam.json")
    p.add_argument(
        "--master", help="camera id (file stem) or path of the master camera (default: the first)"
    )
    p.add_argument(
        "--method",
        choices=multicam.METHODS,
        default="auto",
        help="evidence to use: imu = GoPro gyroscopes of cameras on one bike or rider; motion = "
        "frame differences and shake of silent cameras, only when asked for (default "
        "%(default)s: sound and gyroscopes, then flash, then timecode)",
    )
    p.add_argument(
        "--offset",
        type=_offset,
        action="append",
        default=[],
        metavar="CAM=SECONDS",
        help="manual offset of a camera on the master clock (repeatable; overrides)",
    )
    p.add_argument(
        "--roi", type=_roi, help="X,Y,W,H pixel box around the flash / LED for --method flash"
    )
    p.add_argument(
        "--exposure",
        type=_exposure,
        default=1.0,
        metavar="SHARE|auto",
        help="share of the frame period the shutters are open, for flash timing "
        "(1 = 360 degrees, 0.5 = 180; 'auto' estimates it; default 1)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing multicam.json")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sync)
    t = msub.add_parser("trim", help="write each camera trimmed to the common start (frame-exact)")
    t.add_argument("source", help="multicam.json or the folder holding it")
    t.add_argument("--out", required=True, help="folder for the trimmed videos")
    t.add_argument("--force", action="store_true", help="overwrite existing outputs")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_trim)


def cmd_sync(args: argparse.Namespace) -> int:
    """Handler of ``mtbsync multicam sync``."""
    out = Path(args.out) / "multicam.json"
    check_writable(out, args.force)
    result = multicam.sync_cameras(
        args.cameras,
        master=args.master,
        method=args.method,
        manual_offsets=dict(args.offset),
        roi=args.roi,
        flash_exposure=args.exposure,
        progress=progress_for(args),
    )
    multicam.write_multicam(out, result, force=args.force)
    print(
        f"{'camera':<16} {'status':<10} {'method':<9} {'offset_s':>11} {'drift_ppm':>10} {'conf':>5}"
    )
    for c in result.cameras:
        print(
            f"{c.camera_id:<16} {c.status:<10} {c.method:<9} {c.offset_s:>11.5f} {c.drift_ppm:>10.2f} "
            f"{c.confidence:>5.2f}"
        )
    print(f"wrote {out}")
    bad = [c for c in result.cameras if c.status != "ok"]
    for c in bad:
        print(f"mtbsync: warning: {c.camera_id}: {c.status}: {c.message}", file=sys.stderr)
    if bad:
        print(
            f"mtbsync: error: {len(bad)} camera(s) not reliably placed; see {out} and the "
            "warnings above for what to try next.",
            file=sys.stderr,
        )
        return 4
    return 0


def cmd_trim(args: argparse.Namespace) -> int:
    """Handler of ``mtbsync multicam trim``."""
    result = multicam.read_multicam(args.source)
    if not any(c.status != "failed" for c in result.cameras):
        raise MulticamError(f"No camera in '{args.source}' was placed; nothing to trim.")
    _, done = multicam.trim_cameras(result, args.out, force=args.force, progress=progress_for(args))
    for d in done:
        print(
            f"{d.camera_id:<16} from frame {d.cut_frame_idx:>6} ({d.cut_t_cam_s:.4f} s) {d.mode:<8} "
            f"{d.frames_written} frames ({d.frames_reencoded} re-encoded) -> {d.path}"
        )
    print(f"wrote {Path(args.out) / 'multicam.json'}")
    return 0
