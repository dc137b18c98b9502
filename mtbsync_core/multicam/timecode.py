"""Coarse clocks from the files: MP4 ``tmcd`` start timecode, GoPro GPMF GPS time, ``creation_time``.

- Timecode gives a camera's start to a frame, as time of day; comparable between cameras only
  when they were jammed or set from one clock.
- GoPro GPMF GPS time (GPSU / GPS9) gives UTC of the first frame to a fraction of a second.
- ``creation_time`` only to a second (and some cameras write it at the end of a recording or in
  local time), so it is reported ``ambiguous``: a coarse check.

Used as a fallback after sound and light cues, and always as a check on them.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from fractions import Fraction

from ..errors import MtbSyncError
from ..timebase import snap_fps, timecode_to_frames
from .media import open_media
from .solve import PairEstimate

log = logging.getLogger(__name__)

#: Clock kinds in order of preference, with the confidence and status a pair of them earns.
KINDS: dict[str, tuple[float, str, str]] = {
    "timecode": (0.5, "ok", "start timecode (frame accuracy, no drift)"),
    "gps": (0.3, "ok", "GoPro GPS time in the telemetry (about 0.1 s, no drift)"),
    "creation_time": (0.1, "ambiguous", "creation_time only (1 s resolution): coarse"),
}


def _tmcd(path: str) -> str | None:
    try:
        from ..video.timecode import read_start_timecode
    except ImportError:  # the video package may not provide it
        read_start_timecode = None
    if read_start_timecode is not None:
        try:
            return read_start_timecode(path)
        except MtbSyncError:  # e.g. a sound-only file: read the tags directly below
            pass
    with open_media(path) as c:
        for s in c.streams:
            tc = s.metadata.get("timecode")
            if tc:
                return tc
        return c.metadata.get("timecode")


def _gps_utc(path: str) -> float | None:
    try:
        from ..gps.read import video_start_utc
    except ImportError:  # pragma: no cover - the gps package ships with the engine
        return None
    try:
        return video_start_utc(path, source="gps")
    except Exception as err:  # noqa: BLE001 - telemetry is optional; any parse failure means "none"
        log.info("no GPS time in %s: %s", path, err)
        return None


def read_start_clocks(path: str | os.PathLike[str], fps: float) -> dict[str, float]:
    """Seconds of the first frame by clock kind (``timecode``: of day; ``gps``, ``creation_time``: UNIX)."""
    p = os.fspath(path)
    out: dict[str, float] = {}
    tc = _tmcd(p)
    if tc:
        rate = snap_fps(fps) if fps > 0 else Fraction(30)
        try:
            drop = ";" in tc or "," in tc  # ":" is non-drop even at 29.97
            out["timecode"] = float(Fraction(timecode_to_frames(tc, rate, drop_frame=drop)) / rate)
        except ValueError as err:
            log.warning("unreadable timecode %r in %s: %s", tc, p, err)
    gps = _gps_utc(p)
    if gps is not None:
        out["gps"] = float(gps)
    with open_media(p) as c:
        ct = c.metadata.get("creation_time")
    if ct:
        try:
            out["creation_time"] = datetime.fromisoformat(ct.replace("Z", "+00:00")).timestamp()
        except ValueError:
            log.info("unreadable creation_time %r in %s", ct, p)
    return out


def estimate_clock_pair(
    ref: dict[str, float], cam: dict[str, float], i: int = 0, j: int = 1
) -> PairEstimate:
    """Camera ``j`` on camera ``i``'s clock from the best start clock both files have (no drift)."""
    days_apart = abs(ref.get("creation_time", 0.0) - cam.get("creation_time", 0.0)) > 86400
    for kind, (conf, status, what) in KINDS.items():
        if kind == "timecode" and days_apart:
            continue  # times of day from different days say nothing
        if kind in ref and kind in cam:
            delta = cam[kind] - ref[kind]
            if kind == "timecode" and abs(delta) > 43200:  # recordings across midnight
                delta -= 86400 * (1 if delta > 0 else -1)
            return PairEstimate(
                i,
                j,
                delta,
                0.0,
                conf,
                status,
                "timecode",
                message=f"from {what}",
                extra={"clock": kind},
            )
    return PairEstimate(
        i,
        j,
        0.0,
        0.0,
        0.0,
        "failed",
        "timecode",
        message="no common start timecode, GPS time or creation time in the files; "
        "use --method audio, flash, or --offset CAM=SECONDS",
    )
