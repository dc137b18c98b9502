"""GPS tracks -> a coarse time prior ``t_new -> t_ref`` for the visual search (or GPS-only sync).

Video time = track time - clock offset. For telemetry embedded in the video (GPMF) the offset is
0; for a GPX / FIT the offset is the UTC of the video's first frame (see
:func:`mtbsync_core.gps.clock.estimate_clock_offset`).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..model import TimePrior
from .kalman import ref_path_with_speed, smooth_along_track
from .match import (
    GRID_DT_S,
    MIN_FIXES,
    MIN_OVERLAP_S,
    TrackMatch,
    as_json_number,
    build_ref_path,
    clean_on_path,
    gap_to_nearest,
    local_xy,
    monotone_assign,
    project_exact,
    project_near,
    robust_sigma,
    smooth_local_linear,
    smoothing_sigma_s,
)
from .match import _candidates as candidates
from .track import Track, decimate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GpsTimePrior(TimePrior):
    """A :class:`TimePrior` from GPS with a per-sample confidence (0..1).

    ``details`` holds only JSON-able values (scalars, short lists) for ``report.json``.
    """

    confidence: np.ndarray | None = None
    #: the (reference, new) tracks as matched: valid fixes, trimmed to the videos, on video time
    tracks: tuple[Track, Track] | None = None


MAX_RATE_HZ = 5.0  # faster tracks are averaged down to this rate before matching
TRIM_MARGIN_S = 5.0  # fixes kept beyond each end of the video when trimming a long track
ERROR_INFLATION = 1.2  # the smoothers' variance is optimistic where the motion model is wrong
UTC_CLOCK_UNCERTAINTY_S = 1.0  # creation_time has whole seconds; added per UTC-clock track


def _distinct_times(track: Track) -> Track:
    """Drop fixes that repeat the previous fix's time (some loggers write duplicates)."""
    keep = np.concatenate([[True], np.diff(track.t_s) > 1e-6]) if len(track) else np.zeros(0, bool)
    return track if keep.all() else track.select(keep)


def _monotone(y: np.ndarray) -> np.ndarray:
    from scipy.optimize import isotonic_regression

    ok = np.isfinite(y)
    if not ok.all():
        y = np.interp(np.arange(len(y)), np.flatnonzero(ok), y[ok])
    return isotonic_regression(y).x


def _assign(ref: Track, new: Track):
    """Project the new fixes on the smoothed reference path; None when they never meet."""
    from scipy.spatial import cKDTree

    rxy, nxy = local_xy(ref, new)
    if np.isfinite(ref.speed_m_s).sum() >= MIN_FIXES:
        path = ref_path_with_speed(
            ref.t_s, rxy[:, 0], rxy[:, 1], ref.speed_m_s, smoothing_sigma_s(ref)
        )
    else:
        path = build_ref_path(ref.t_s, rxy[:, 0], rxy[:, 1], smoothing_sigma_s(ref))
    if path.s_m[-1] < 20.0:
        return None
    fit = np.column_stack([np.interp(ref.t_s, path.t_s, path.xy_m[:, k]) for k in (0, 1)])
    noise_ref_m = robust_sigma((rxy - fit).ravel())
    sigma_m = max(3.0, 2.0 * noise_ref_m)
    cands = candidates(path, cKDTree(path.xy_m), nxy, max(30.0, 6.0 * sigma_m))
    j = monotone_assign(path, cands, new.t_s, sigma_m, back_tol_m=max(5.0, 2.0 * sigma_m))
    s, d = project_exact(path, nxy, np.maximum(j, 0))
    at_end = (s <= 1e-6) | (s >= path.s_m[-1] - 1e-6)
    on = clean_on_path((j >= 0) & ~(at_end & (d > 2.0 * sigma_m)))
    return path, s, d, on, noise_ref_m


def _ref_distance(path, ref: Track, rxy: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Along-path distance of the reference at each path time, its 1-sigma (m), its fix noise (m).

    A speed-aided path already is the smoothed distance; a positions-only path is re-timed by
    projecting the fixes on it and smoothing those distances in time.
    """
    if path.sd_m is not None:
        fit = np.column_stack([np.interp(ref.t_s, path.t_s, path.xy_m[:, k]) for k in (0, 1)])
        return path.s_m, path.sd_m, robust_sigma((rxy - fit).ravel())
    j = np.clip(
        np.round((ref.t_s - path.t_s[0]) / GRID_DT_S).astype(np.int64), 0, len(path.t_s) - 1
    )
    s_ref = project_near(path, rxy, j, window=40)[0]
    s_grid, sd_m, noise_m = smooth_along_track(ref.t_s, s_ref, ref.speed_m_s, path.t_s)
    return np.maximum.accumulate(s_grid), sd_m, noise_m


def match_tracks(ref: Track, new: Track) -> TrackMatch | None:
    """``u_ref = f(u_new)`` on the tracks' own clocks, or None when the tracks do not overlap."""
    ref, new = (decimate(_distinct_times(t.only_valid()), MAX_RATE_HZ) for t in (ref, new))
    if len(ref) < MIN_FIXES or len(new) < MIN_FIXES:
        log.info("GPS prior: too few fixes (ref %d, new %d)", len(ref), len(new))
        return None
    assigned = _assign(ref, new)
    if assigned is None or assigned[3].sum() < MIN_FIXES:
        log.info("GPS prior: the new track never follows the reference path")
        return None
    path, s, d, on, _ = assigned
    tn, sn = new.t_s[on], s[on]
    u_new = np.arange(tn[0], tn[-1] + 1e-9, GRID_DT_S)
    if len(u_new) * GRID_DT_S < MIN_OVERLAP_S:
        return None
    s_ref_grid, sd_ref_m, noise_ref_m = _ref_distance(path, ref, local_xy(ref, new)[0])
    s_out, sd_new_m, noise_new_m = smooth_along_track(tn, sn, new.speed_m_s[on], u_new)
    s_out = np.clip(_monotone(s_out), s_ref_grid[0], s_ref_grid[-1])
    s_strict = s_ref_grid + np.arange(len(s_ref_grid)) * 1e-9
    u_ref = np.interp(s_out, s_strict, path.t_s)
    sd_m = np.hypot(np.interp(u_ref, path.t_s, sd_ref_m), sd_new_m)
    err_s, conf = _errors(path.t_s, s_ref_grid, tn, u_new, u_ref, sd_m)
    details = {
        "fixes_ref": len(ref),
        "fixes_new": len(new),
        "fixes_on_path": int(on.sum()),
        "on_path_fraction": as_json_number(on.mean()),
        "median_distance_to_ref_path_m": as_json_number(float(np.median(d[on]))),
        "noise_ref_along_m": as_json_number(noise_ref_m),
        "noise_new_along_m": as_json_number(noise_new_m),
        "speed_used": bool(np.isfinite(new.speed_m_s[on]).sum() >= MIN_FIXES),
        "ref_path_length_m": as_json_number(path.s_m[-1], 1),
        "overlap_along_ref_m": as_json_number(s_out[-1] - s_out[0], 1),
    }
    return TrackMatch(u_new, u_ref, err_s, conf, details)


def _errors(t_grid, s_grid, tn, u_new, u_ref, sd_m):
    """Per-sample 1-sigma error (s) of u_ref and a 0..1 confidence.

    The smoothers' own uncertainty (metres along the path), inflated by ERROR_INFLATION for model
    mismatch and by gaps between fixes, over the reference's local speed.
    """
    v_ref = smooth_local_linear(t_grid, np.gradient(s_grid, t_grid), u_ref, 1.0)
    v_at = np.maximum(np.nan_to_num(v_ref, nan=1.0), 0.5)
    gap = gap_to_nearest(tn, u_new)
    err_s = ERROR_INFLATION * sd_m / v_at * (1.0 + gap / 2.0)
    return err_s, 1.0 / (1.0 + (err_s / 0.5) ** 2)


def _trim(track: Track, duration_s: float | None) -> Track:
    if duration_s is None:
        return track
    keep = (track.t_s >= -TRIM_MARGIN_S) & (track.t_s <= duration_s + TRIM_MARGIN_S)
    return track.select(keep)


def prior_from_tracks(
    ref: Track | None,
    new: Track | None,
    *,
    ref_clock_offset_s: float = 0.0,
    new_clock_offset_s: float = 0.0,
    video_duration_ref_s: float | None = None,
    video_duration_new_s: float | None = None,
    clock_uncertainty_s: float | None = None,
) -> TimePrior | None:
    """A :class:`TimePrior` (video times, 10 samples per second) from two tracks, or None.

    None (never an exception) when a track is missing, too short, or the runs do not overlap
    along the reference path. ``clock_uncertainty_s`` widens the band; by default 0 for video
    clocks and :data:`UTC_CLOCK_UNCERTAINTY_S` per UTC-clock track.
    """
    if ref is None or new is None:
        return None
    for role, tr, off in (("ref", ref, ref_clock_offset_s), ("new", new, new_clock_offset_s)):
        if tr.clock == "utc" and off == 0.0 and len(tr) and tr.t_s[0] > 1e8:
            log.warning(
                "GPS prior: the %s track has a UTC clock but no clock offset was given; "
                "pass %s_clock_offset_s (see estimate_clock_offset / prior_for_videos)",
                role,
                role,
            )
    r = _trim(ref.only_valid().shifted(ref_clock_offset_s), video_duration_ref_s)
    n = _trim(new.only_valid().shifted(new_clock_offset_s), video_duration_new_s)
    m = match_tracks(replace(r, clock="video"), replace(n, clock="video"))
    if m is None:
        return None
    keep = (m.u_new_s >= 0) & (m.u_ref_s >= 0)
    if video_duration_new_s is not None:
        keep &= m.u_new_s <= video_duration_new_s
    if video_duration_ref_s is not None:
        keep &= m.u_ref_s <= video_duration_ref_s
    if keep.sum() * GRID_DT_S < MIN_OVERLAP_S:
        log.info("GPS prior: overlap inside the videos is under %.0f s", MIN_OVERLAP_S)
        return None
    if clock_uncertainty_s is None:
        clock_uncertainty_s = UTC_CLOCK_UNCERTAINTY_S * sum(t.clock == "utc" for t in (ref, new))
    err = m.err_s[keep]
    half_width_s = float(
        np.clip(3.0 * np.percentile(err, 90) + clock_uncertainty_s + 0.5, 1.5, 30.0)
    )
    t_new, t_ref = m.u_new_s[keep], m.u_ref_s[keep]
    details: dict[str, Any] = dict(m.details)
    details.update(
        _summary(
            ref,
            new,
            t_new,
            t_ref,
            err,
            m.confidence[keep],
            ref_clock_offset_s,
            new_clock_offset_s,
            clock_uncertainty_s,
        )
    )
    source = ref.source if ref.source == new.source else f"{ref.source}+{new.source}"
    return GpsTimePrior(
        t_new, t_ref, half_width_s, source, details, confidence=m.confidence[keep], tracks=(r, n)
    )


def _summary(ref, new, t_new, t_ref, err, conf, off_ref, off_new, clock_unc) -> dict[str, Any]:
    return {
        "used": True,
        "source_ref": ref.source,
        "source_new": new.source,
        "track_clock_ref": ref.clock,
        "track_clock_new": new.clock,
        "clock_offset_ref_s": off_ref,
        "clock_offset_new_s": off_new,
        "clock_uncertainty_s": clock_unc,
        "overlap_new_s": [as_json_number(t_new[0]), as_json_number(t_new[-1])],
        "overlap_ref_s": [as_json_number(t_ref[0]), as_json_number(t_ref[-1])],
        "error_sd_median_s": as_json_number(float(np.median(err))),
        "error_sd_p90_s": as_json_number(float(np.percentile(err, 90))),
        "quality": as_json_number(float(np.median(conf))),
    }


def prior_summary(prior: TimePrior | None) -> dict[str, Any]:
    """The JSON-able part of a prior's details for ``report.json`` (``{"used": False}`` if None)."""
    if prior is None:
        return {"used": False}
    out = {k: v for k, v in prior.details.items() if not isinstance(v, np.ndarray)}
    out.update(source=prior.source, half_width_s=as_json_number(prior.half_width_s))
    return out


def warp_samples_from_prior(prior: TimePrior) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t_new_s, t_ref_s, confidence) samples, 10 per second, for GPS-only sync (``--method gps``)."""
    conf = getattr(prior, "confidence", None)
    if conf is None or len(conf) != len(prior.t_new_s):
        conf = np.full(len(prior.t_new_s), float(prior.details.get("quality") or 0.5))
    return prior.t_new_s.copy(), prior.t_ref_s.copy(), np.clip(conf, 0.0, 1.0)


def prior_for_videos(
    ref_video: str | os.PathLike[str],
    new_video: str | os.PathLike[str],
    *,
    ref_track: Track | str | os.PathLike[str] | None = None,
    new_track: Track | str | os.PathLike[str] | None = None,
    video_duration_ref_s: float | None = None,
    video_duration_new_s: float | None = None,
) -> tuple[TimePrior | None, dict[str, Any]]:
    """The GPS prior for two videos, and a JSON-able report of what happened.

    A track not given (None) is read from the video's own telemetry (GoPro GPMF); a path is
    read with :func:`read_track` (a corrupt file given explicitly raises GpsParseError). Each
    track's clock offset comes from :func:`estimate_clock_offset`. Returns (None, {"used":
    False, "reason": ...}) when a track is missing, unusable or the runs do not overlap.
    """
    from ..errors import GpsParseError
    from .clock import estimate_clock_offset
    from .read import read_track

    info: dict[str, Any] = {"used": False}
    found: dict[str, tuple[Track, Any]] = {}
    for role, video, track, dur in (
        ("ref", ref_video, ref_track, video_duration_ref_s),
        ("new", new_video, new_track, video_duration_new_s),
    ):
        if track is None:
            try:
                track = read_track(video)
            except GpsParseError as err:
                info["reason"] = f"{role}: {err}"
                return None, info
        elif not isinstance(track, Track):
            track = read_track(track)
        off = estimate_clock_offset(track, video, video_duration_s=dur)
        info[f"clock_{role}"] = off.as_dict()
        if not math.isfinite(off.uncertainty_s):
            info["reason"] = f"{role}: {off.note}"
            return None, info
        found[role] = (track, off)
    (ref, off_ref), (new, off_new) = found["ref"], found["new"]
    prior = prior_from_tracks(
        ref,
        new,
        ref_clock_offset_s=off_ref.offset_s,
        new_clock_offset_s=off_new.offset_s,
        video_duration_ref_s=video_duration_ref_s,
        video_duration_new_s=video_duration_new_s,
        clock_uncertainty_s=off_ref.uncertainty_s + off_new.uncertainty_s,
    )
    if prior is None:
        info["reason"] = "the tracks are too short or do not overlap along the reference path"
        return None, info
    info.update(prior_summary(prior))
    return prior, info
