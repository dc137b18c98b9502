"""GPS tracks consistent with the synthetic footage of :mod:`mtbsync_core.synthetic`.

The trail of the footage is a straight canvas; here it is laid along a curvy polyline on the
ground (a fixed place in the Alps) so that distance along the polyline equals distance along the
trail (``trail.ref_distance(t_ref_s) / PX_PER_M`` metres). A run's fixes are taken at whole UTC
seconds (as GPS receivers log), with Gaussian position noise and Doppler-like speed.
"""

from __future__ import annotations

import math

import numpy as np

from ..synthetic import PX_PER_M, Trail, WarpProfile
from .track import Track, from_local_m, make_track

ORIGIN_LAT_DEG, ORIGIN_LON_DEG = 46.5967, 7.9073  # trailhead of the synthetic trail
LEAD_IN_OFFSET_M = (-150.0, 90.0)  # where the unrelated lead-in is filmed, from the trailhead
SPEED_NOISE_M_S = 0.15  # 1-sigma Doppler speed noise


def trail_geometry(
    length_m: float, seed: int = 0, step_m: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """(s_m, xy_m): a curvy ground path with arc length ``s_m`` (east/north metres).

    Heading is a sum of sinusoids of distance; the tightest turns have a radius of about 8 m.
    """
    rng = np.random.default_rng(seed)
    s = np.arange(0.0, length_m + 2 * step_m, step_m)
    p1, p2, p3 = rng.uniform(0, 2 * math.pi, 3)
    heading = (
        rng.uniform(0, 2 * math.pi)
        + 1.2 * np.sin(2 * math.pi * s / 120.0 + p1)
        + 0.5 * np.sin(2 * math.pi * s / 47.0 + p2)
        + 0.3 * np.sin(2 * math.pi * s / 300.0 + p3)
    )
    dx, dy = np.cos(heading) * step_m, np.sin(heading) * step_m
    xy = np.column_stack(
        [np.concatenate([[0.0], np.cumsum(dx[:-1])]), np.concatenate([[0.0], np.cumsum(dy[:-1])])]
    )
    return s, xy


def _positions(trail: Trail, t_ref: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """True (xy_m, along-trail distance) at reference times (NaN -> lead-in place).

    ``seed`` picks the trail's shape; a non-zero ``seed`` also moves it ``seed`` x 3 km east
    (another trail elsewhere, for unrelated runs).
    """
    s_of = np.array(
        [trail.ref_distance(float(t)) / PX_PER_M if np.isfinite(t) else np.nan for t in t_ref]
    )
    s_geo, xy_geo = trail_geometry(trail.length_px / PX_PER_M + 50.0, seed)
    xy = np.column_stack([np.interp(s_of, s_geo, xy_geo[:, k]) for k in (0, 1)])
    xy[:, 0] += 3000.0 * seed
    lead = ~np.isfinite(s_of)
    if lead.any():
        k = np.arange(lead.sum())
        xy[lead] = np.column_stack(
            [
                LEAD_IN_OFFSET_M[0] + 4.0 * np.sin(k / 5.0),
                LEAD_IN_OFFSET_M[1] + 4.0 * np.cos(k / 7.0),
            ]
        )
    return xy, s_of


def track_for_run(
    trail: Trail,
    t_video_s: np.ndarray,
    t_ref_s: np.ndarray,
    *,
    start_utc: float,
    hz: float = 1.0,
    noise_m: float = 3.0,
    seed: int = 0,
    geometry_seed: int = 0,
    with_speed: bool = True,
) -> Track:
    """A ``"utc"`` GPS track of one run whose video frame at ``t_video_s[i]`` shows ``t_ref_s[i]``.

    Fixes fall on whole multiples of ``1/hz`` UTC seconds within the video's span; the video's
    first frame is at ``start_utc``. ``noise_m`` is the horizontal RMS error of a fix (each axis
    gets ``noise_m / sqrt(2)``, independent per fix). ``t_ref_s`` NaN (an unrelated lead-in)
    puts the fix at another place near the trailhead. ``geometry_seed`` picks the trail's shape
    and must be the same for all runs of one trail; ``seed`` picks the noise.
    """
    t_video_s = np.asarray(t_video_s, np.float64)
    t_ref_s = np.asarray(t_ref_s, np.float64)
    first = math.ceil(start_utc * hz - 1e-9) / hz
    utc = np.arange(first, start_utc + t_video_s[-1] + 1e-9, 1.0 / hz)
    tv = utc - start_utc
    tr = _interp_nan(tv, t_video_s, t_ref_s)
    xy, s_true = _positions(trail, tr, geometry_seed)
    rng = np.random.default_rng(seed)
    xy = xy + rng.normal(0.0, noise_m / math.sqrt(2.0), xy.shape)
    lat, lon = from_local_m(xy[:, 0], xy[:, 1], ORIGIN_LAT_DEG, ORIGIN_LON_DEG)
    ele = 1500.0 - 0.12 * np.nan_to_num(s_true, nan=0.0) + rng.normal(0.0, 1.5, len(utc))
    speed = np.full(len(utc), np.nan)
    if with_speed:
        h = 0.05
        s_plus, _ = _positions_s(trail, _interp_nan(tv + h, t_video_s, t_ref_s))
        s_minus, _ = _positions_s(trail, _interp_nan(tv - h, t_video_s, t_ref_s))
        v = np.nan_to_num((s_plus - s_minus) / (2 * h), nan=1.0)
        speed = np.abs(v + rng.normal(0.0, SPEED_NOISE_M_S, len(utc)))
    return make_track(
        utc,
        lat,
        lon,
        ele,
        speed,
        None,
        source="gpx",
        clock="utc",
        camera="synthetic",
        details={"noise_m": noise_m, "hz": hz, "seed": seed},
    )


def _positions_s(trail: Trail, t_ref: np.ndarray) -> tuple[np.ndarray, None]:
    return np.array(
        [trail.ref_distance(float(t)) / PX_PER_M if np.isfinite(t) else np.nan for t in t_ref]
    ), None


def _interp_nan(t: np.ndarray, t_known: np.ndarray, y_known: np.ndarray) -> np.ndarray:
    """Linear interpolation that keeps NaN where the neighbouring known values are NaN."""
    y = np.interp(t, t_known, np.nan_to_num(y_known, nan=-1e12))
    near = np.clip(np.searchsorted(t_known, t), 0, len(t_known) - 1)
    prev = np.clip(near - 1, 0, len(t_known) - 1)
    bad = ~np.isfinite(y_known[near]) | ~np.isfinite(y_known[prev]) | (y < -1e11)
    return np.where(bad, np.nan, y)


def tracks_for_pair(
    trail: Trail,
    profile: WarpProfile,
    *,
    ref_duration_s: float,
    new_duration_s: float,
    noise_m: float = 3.0,
    hz: float = 1.0,
    seed: int = 0,
    with_speed: bool = True,
    ref_start_utc: float = 1_714_557_600.0,
    new_start_utc: float = 1_714_561_200.0,
    unrelated: bool = False,
) -> tuple[Track, Track]:
    """GPS tracks (``"utc"`` clock) of a synthetic reference run and of a new run following ``profile``.

    The reference video shows ``t_ref = t_video``; the new one ``t_ref = profile.truth(t_video)``
    (NaN during the lead-in). Video time = track time - start UTC. ``unrelated`` lays the new
    run on another trail 3 km away (the prior must then say it does not know).
    """
    fps = 30.0
    t_ref_video = np.arange(0.0, ref_duration_s + 1e-9, 1.0 / fps)
    t_new_video = np.arange(0.0, new_duration_s + 1e-9, 1.0 / fps)
    truth = profile.truth(t_new_video)  # beyond the reference's end the rider rides on
    ref = track_for_run(
        trail,
        t_ref_video,
        t_ref_video,
        start_utc=ref_start_utc,
        hz=hz,
        noise_m=noise_m,
        seed=seed * 2 + 1,
        with_speed=with_speed,
    )
    new = track_for_run(
        trail,
        t_new_video,
        truth,
        start_utc=new_start_utc,
        hz=hz,
        noise_m=noise_m,
        seed=seed * 2 + 2,
        with_speed=with_speed,
        geometry_seed=1 if unrelated else 0,
    )
    return ref, new


def prior_for_pair(
    trail: Trail,
    profile: WarpProfile,
    *,
    ref_duration_s: float,
    new_duration_s: float,
    noise_m: float = 3.0,
    hz: float = 1.0,
    seed: int = 0,
    with_speed: bool = True,
    unrelated: bool = False,
):
    """The GPS :class:`~mtbsync_core.model.TimePrior` for a synthetic pair (None if no overlap).

    For benchmarks: render the videos with the same ``trail``, ``profile`` and durations, and
    this prior is what GPS tracks logged during those runs would give.
    """
    from .prior import prior_from_tracks

    ref_utc, new_utc = 1_714_557_600.0, 1_714_561_200.0
    ref, new = tracks_for_pair(
        trail,
        profile,
        ref_duration_s=ref_duration_s,
        new_duration_s=new_duration_s,
        noise_m=noise_m,
        hz=hz,
        seed=seed,
        with_speed=with_speed,
        ref_start_utc=ref_utc,
        new_start_utc=new_utc,
        unrelated=unrelated,
    )
    return prior_from_tracks(
        ref,
        new,
        ref_clock_offset_s=ref_utc,
        new_clock_offset_s=new_utc,
        video_duration_ref_s=ref_duration_s,
        video_duration_new_s=new_duration_s,
    )
