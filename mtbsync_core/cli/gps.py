"""``mtbsync gps info | prior``: look at a track, or at the GPS prior between two runs."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math

from ..errors import GpsParseError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``gps`` subcommands to ``sub``."""
    p = sub.add_parser(
        "gps", help="GPS / telemetry tracks: inspect a track, build a GPS time prior"
    )
    gsub = p.add_subparsers(dest="gps_command", required=True, metavar="ACTION")

    i = gsub.add_parser("info", help="summarise a GPX, FIT or GoPro MP4 (GPMF telemetry)")
    i.add_argument("file", help="a .gpx, .fit, GoPro .mp4/.mov or raw GPMF payload")
    i.add_argument(
        "--backend",
        choices=("gpmf-parser", "telemetry-parser"),
        default="gpmf-parser",
        help="telemetry parser for videos (default %(default)s)",
    )
    i.add_argument("--json", action="store_true", help="print JSON instead of text")
    i.set_defaults(func=cmd_info)

    r = gsub.add_parser("prior", help="the GPS time prior new -> reference (what `sync` would use)")
    r.add_argument("--reference", required=True, help="reference run video")
    r.add_argument("--new", required=True, help="new run video")
    r.add_argument(
        "--ref-track", help="reference track (GPX / FIT); default: the video's telemetry"
    )
    r.add_argument("--new-track", help="new run track (GPX / FIT); default: the video's telemetry")
    r.add_argument("--out", help="write the prior's samples as JSON here")
    r.add_argument("--force", action="store_true", help="overwrite --out")
    r.set_defaults(func=cmd_prior)


def _utc(t_s: float | None) -> str:
    if t_s is None or not math.isfinite(t_s):
        return "-"
    return dt.datetime.fromtimestamp(t_s, tz=dt.UTC).isoformat(timespec="milliseconds")


def _info(args: argparse.Namespace) -> dict:
    from ..gps import read_imu, read_track, track_kind

    out: dict = {"file": args.file, "kind": track_kind(args.file)}
    try:
        out["gps"] = read_track(args.file, backend=args.backend).summary()
    except GpsParseError as err:
        if out["kind"] not in ("video", "gpmf-raw"):
            raise
        out["gps"] = None
        out["gps_reason"] = str(err)
    if out["kind"] in ("video", "gpmf-raw"):
        try:
            imu = read_imu(args.file, backend=args.backend)
            out["imu"] = {
                "camera": imu.camera,
                "accl_samples": len(imu.t_accl_s),
                "accl_rate_hz": round(imu.accl_rate_hz, 2),
                "gyro_samples": len(imu.t_gyro_s),
                "gyro_rate_hz": round(imu.gyro_rate_hz, 2),
            }
        except GpsParseError as err:
            if out["gps"] is None:
                if (
                    str(err) == out["gps_reason"]
                ):  # one cause (not a video, no gpmd track): say it once
                    raise
                raise GpsParseError(f"{out['gps_reason']} Nor any ACCL/GYRO: {err}") from err
    return out


def cmd_info(args: argparse.Namespace) -> int:
    """Print a track's summary (and IMU telemetry counts for camera files)."""
    out = _info(args)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{out['file']} ({out['kind']})")
    g = out.get("gps")
    if g is None:
        print(f"  GPS: none: {out.get('gps_reason', '')}")
    else:
        first = g["t_first_s"]
        when = _utc(first) if g["clock"] == "utc" else f"{first:.3f} s video time"
        print(
            f"  GPS: {g['fixes_valid']}/{g['fixes']} fixes with a fix, {g['duration_s']:.1f} s at "
            f"{g['rate_hz']:.2f} Hz, {g['length_m']:.0f} m, from {when} ({g['source']}, {g['clock']} clock)"
        )
        if g.get("camera"):
            print(f"  camera: {g['camera']}")
        if g.get("utc_at_video_zero_s") is not None:
            print(f"  video starts at {_utc(g['utc_at_video_zero_s'])} (GPS time)")
    if "imu" in out:
        m = out["imu"]
        print(
            f"  IMU: {m['accl_samples']} ACCL at {m['accl_rate_hz']} Hz, "
            f"{m['gyro_samples']} GYRO at {m['gyro_rate_hz']} Hz"
        )
    return 0


def cmd_prior(args: argparse.Namespace) -> int:
    """Build the GPS prior between two runs; print its report, optionally write its samples."""
    from ..fileio import check_writable, write_text_atomic
    from ..gps import prior_for_videos, warp_samples_from_prior
    from ..video import probe_video

    if args.out:
        check_writable(args.out, args.force)
    ref, new = probe_video(args.reference), probe_video(args.new)
    prior, info = prior_for_videos(
        args.reference,
        args.new,
        ref_track=args.ref_track,
        new_track=args.new_track,
        video_duration_ref_s=ref.duration_s,
        video_duration_new_s=new.duration_s,
    )
    print(json.dumps(info, indent=2))
    if prior is not None and args.out:
        t_new, t_ref, conf = warp_samples_from_prior(prior)
        doc = {
            "format": "mtbsync.gps_prior",
            "version": 1,
            "half_width_s": prior.half_width_s,
            "t_new_s": [round(float(x), 4) for x in t_new],
            "t_ref_s": [round(float(x), 4) for x in t_ref],
            "confidence": [round(float(x), 3) for x in conf],
            "report": info,
        }
        write_text_atomic(args.out, json.dumps(doc), force=args.force)
    return 0 if prior is not None else 1
