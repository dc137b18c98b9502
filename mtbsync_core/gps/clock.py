"""The clock offset between a track and a video: video time = track time - offset.

Two steps, reported in ``report.json``:

1. :func:`estimate_clock_offset` from metadata. A track on the video clock (GoPro GPMF) has
   offset 0. Otherwise the video's own GPS time (GoPro GPSU / GPS9) is used when it has one,
   else its ``creation_time`` tag -- whole seconds of the camera's clock, which many cameras
   (GoPro included) write in *local* time labelled UTC; a whole-quarter-hour time-zone shift
   that makes the track cover the video is then applied and said so.
2. :func:`refine_clock_offset` against a visual warp ``t_new -> t_ref``: the GPS match is
   computed once on the tracks' own clocks (it does not depend on the offsets), and the offset
   of one track is the median of the disagreements, which minimises the mean absolute
   disagreement in that track's time axis.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np

from .match import robust_sigma
from .track import Track

log = logging.getLogger(__name__)

TZ_STEP_S = 900.0  # time zones are whole quarter-hours
TZ_MAX_S = 14 * 3600.0
CREATION_TIME_UNCERTAINTY_S = 2.0  # whole-second tag + when the camera writes it


@dataclass(frozen=True)
class ClockOffset:
    """Track time minus video time, how it was found, and how far to trust it."""

    offset_s: float
    method: (
        str  # "video-clock" | "gps-time" | "creation_time" | "creation_time+tz" | "visual" | "none"
    )
    uncertainty_s: float
    note: str = ""

    def as_dict(self) -> dict:
        """JSON-able form for reports."""
        return {
            "offset_s": self.offset_s,
            "method": self.method,
            "uncertainty_s": self.uncertainty_s,
            "note": self.note,
        }


def _coverage(track: Track, start_s: float, duration_s: float) -> float:
    """Fraction of [start, start + duration] that the track's time span covers."""
    lo, hi = max(track.t_s[0], start_s), min(track.t_s[-1], start_s + duration_s)
    return max(0.0, hi - lo) / max(duration_s, 1e-9)


def _timezone_shift(track: Track, start_s: float, duration_s: float) -> float:
    """The smallest quarter-hour shift that makes the track cover the video best (0 if none helps)."""
    shifts = np.arange(-TZ_MAX_S, TZ_MAX_S + 1, TZ_STEP_S)
    cover = np.array([_coverage(track, start_s + sh, duration_s) for sh in shifts])
    if cover.max() <= _coverage(track, start_s, duration_s) + 1e-9:
        return 0.0
    best = np.flatnonzero(cover >= cover.max() - 1e-9)
    return float(shifts[best[np.argmin(np.abs(shifts[best]))]])


def estimate_clock_offset(
    track: Track,
    video: str | os.PathLike[str] | None = None,
    *,
    video_duration_s: float | None = None,
) -> ClockOffset:
    """Offset (track time - video time) of ``track`` for ``video``, from metadata alone."""
    from .read import creation_time_utc, video_start_utc

    if track.clock == "video":
        return ClockOffset(0.0, "video-clock", 0.0, "telemetry recorded by the camera itself")
    if video is None:
        return ClockOffset(0.0, "none", float("inf"), "no video to relate the track's UTC clock to")
    gps0 = video_start_utc(video, source="gps")
    if gps0 is not None:
        return ClockOffset(gps0, "gps-time", 0.5, "UTC from the camera's GPS time (GPSU/GPS9)")
    created = creation_time_utc(video)
    if created is None:
        return ClockOffset(0.0, "none", float("inf"), f"'{video}' has no creation_time tag")
    if video_duration_s is None or len(track) < 2:
        return ClockOffset(created, "creation_time", CREATION_TIME_UNCERTAINTY_S, "")
    shift = _timezone_shift(track, created, video_duration_s)
    if shift == 0.0:
        return ClockOffset(created, "creation_time", CREATION_TIME_UNCERTAINTY_S, "")
    note = (
        f"creation_time looked like local time: shifted by {shift / 3600:+.2f} h so the track "
        "covers the video"
    )
    log.warning("%s: %s", video, note)
    return ClockOffset(created + shift, "creation_time+tz", CREATION_TIME_UNCERTAINTY_S, note)


def refine_clock_offset(
    ref: Track,
    new: Track,
    t_new_s: np.ndarray,
    t_ref_s: np.ndarray,
    *,
    ref_clock_offset_s: float = 0.0,
    new_clock_offset_s: float = 0.0,
    which: str = "new",
    confidence: np.ndarray | None = None,
    min_confidence: float = 0.3,
) -> ClockOffset | None:
    """Re-estimate one track's clock offset so the GPS match agrees with a visual warp.

    ``t_new_s`` / ``t_ref_s`` are the visual warp's samples (video times); the other track's
    offset is held fixed. Returns None when the tracks do not overlap or too few warp samples
    fall where GPS matched. The uncertainty is the spread of the disagreements / sqrt(n).
    """
    from .prior import match_tracks

    if which not in {"new", "ref"}:
        raise ValueError(f"which must be 'new' or 'ref', not {which!r}")
    m = match_tracks(ref, new)
    if m is None:
        return None
    t_new_s, t_ref_s = np.asarray(t_new_s, float), np.asarray(t_ref_s, float)
    keep = np.isfinite(t_new_s) & np.isfinite(t_ref_s)
    if confidence is not None:
        keep &= np.asarray(confidence) >= min_confidence
    if which == "ref":
        u_new = t_new_s[keep] + new_clock_offset_s
        inside = (u_new >= m.u_new_s[0]) & (u_new <= m.u_new_s[-1])
        diffs = np.interp(u_new[inside], m.u_new_s, m.u_ref_s) - t_ref_s[keep][inside]
    else:
        u_ref = t_ref_s[keep] + ref_clock_offset_s
        moving = np.gradient(m.u_ref_s) > 1e-3  # the inverse is defined where the new run moves
        ur, un = m.u_ref_s[moving], m.u_new_s[moving]
        inside = (u_ref >= ur[0]) & (u_ref <= ur[-1]) if len(ur) else np.zeros(len(u_ref), bool)
        diffs = np.interp(u_ref[inside], ur, un) - t_new_s[keep][inside]
    if len(diffs) < 10:
        return None
    offset = float(np.median(diffs))
    unc = float(max(1.2533 * robust_sigma(diffs) / np.sqrt(len(diffs)) * 3.0, 0.05))
    note = f"median of {len(diffs)} warp samples; spread {robust_sigma(diffs):.2f} s"
    return ClockOffset(offset, "visual", unc, note)


def clock_check(
    prior, t_new_s: np.ndarray, t_ref_s: np.ndarray, confidence: np.ndarray | None = None
) -> dict:
    """After vision: how far each track's clock offset is from what the visual warp implies.

    ``prior`` is the :class:`~mtbsync_core.gps.prior.GpsTimePrior` used; ``t_new_s`` /
    ``t_ref_s`` the fitted warp's samples. Returns a JSON-able dict for ``report.json``:
    the visual offset of each track (the other held at its metadata value), the correction to
    the metadata offset, and the median disagreement GPS vs vision. ``{}`` without tracks.
    """
    tracks = getattr(prior, "tracks", None)
    if tracks is None:
        return {}
    ref, new = tracks  # already on video time: metadata offsets applied
    out: dict = {}
    for which in ("new", "ref"):
        off = refine_clock_offset(ref, new, t_new_s, t_ref_s, which=which, confidence=confidence)
        if off is None:
            continue
        meta = float(prior.details.get(f"clock_offset_{which}_s", 0.0))
        out[f"visual_offset_{which}_s"] = round(meta + off.offset_s, 3)
        out[f"correction_{which}_s"] = round(off.offset_s, 3)
        out[f"correction_{which}_uncertainty_s"] = round(off.uncertainty_s, 3)
    t_new_s, t_ref_s = np.asarray(t_new_s, float), np.asarray(t_ref_s, float)
    inside = (t_new_s >= prior.t_new_s[0]) & (t_new_s <= prior.t_new_s[-1]) & np.isfinite(t_ref_s)
    if inside.any():
        gap = np.interp(t_new_s[inside], prior.t_new_s, prior.t_ref_s) - t_ref_s[inside]
        out["gps_vs_vision_median_s"] = round(float(np.median(gap)), 3)
        out["gps_vs_vision_mad_s"] = round(float(np.median(np.abs(gap - np.median(gap)))), 3)
    return out
