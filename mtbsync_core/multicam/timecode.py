"""Coarse clocks from the container: MP4 ``tmcd`` start timecode, else ``creation_time``.

Timecode gives a camera's start to a frame (when the cameras were jammed or set to time of day);
``creation_time`` only to a second (and some cameras write it at the end of a recording), so it
is reported ``ambiguous`` and serves as a coarse check.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from fractions import Fraction

from ..timebase import snap_fps, timecode_to_frames
from .media import open_media
from .solve import PairEstimate

log = logging.getLogger(__name__)


def _tmcd(path: str) -> str | None:
    try:
        from ..video.timecode import read_start_timecode
    except ImportError:  # the video package may not provide it yet
        read_start_timecode = None
    if read_start_timecode is not None:
        return read_start_timecode(path)
    with open_media(path) as c:
        for s in c.streams:
            tc = s.metadata.get("timecode")
            if tc:
                return tc
        return c.metadata.get("timecode")


def read_start_clock(path: str | os.PathLike[str], fps: float) -> tuple[str, float | None]:
    """(kind, seconds of day) of the first frame: kind ``timecode``, ``creation_time`` or ``none``."""
    p = os.fspath(path)
    tc = _tmcd(p)
    if tc:
        rate = snap_fps(fps) if fps > 0 else Fraction(30)
        try:
            return "timecode", float(Fraction(timecode_to_frames(tc, rate)) / rate)
        except ValueError as err:
            log.warning("unreadable timecode %r in %s: %s", tc, p, err)
    with open_media(p) as c:
        ct = c.metadata.get("creation_time")
    if ct:
        try:
            dt = datetime.fromisoformat(ct.replace("Z", "+00:00"))
            return "creation_time", dt.timestamp()
        except ValueError:
            pass
    return "none", None


def estimate_clock_pair(ref: tuple[str, float | None], cam: tuple[str, float | None],
                        i: int = 0, j: int = 1) -> PairEstimate:
    """Camera ``j`` on camera ``i``'s clock from start clocks (no drift information)."""
    (kind_i, s_i), (kind_j, s_j) = ref, cam
    if s_i is None or s_j is None or kind_i != kind_j:
        return PairEstimate(i, j, 0.0, 0.0, 0.0, "failed", "timecode",
                            message="no common start timecode / creation time in the files; "
                            "use --method audio, flash, or --offset CAM=SECONDS")
    if kind_i == "timecode":
        return PairEstimate(i, j, s_j - s_i, 0.0, 0.5, "ok", "timecode",
                            message="from start timecode (frame accuracy, no drift)")
    if kind_i == "creation_time" and s_i is not None and s_j is not None:
        day = 86400.0
        # keep the sign but fold a day boundary
        delta = (s_j - s_i + day / 2) % day - day / 2 if abs(s_j - s_i) > day / 2 else s_j - s_i
        return PairEstimate(i, j, delta, 0.0, 0.1, "ambiguous", "timecode",
                            message="from creation_time only (1 s resolution): coarse")
    return PairEstimate(i, j, 0.0, 0.0, 0.0, "failed", "timecode", message="no clock")
