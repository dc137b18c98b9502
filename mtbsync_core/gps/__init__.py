"""GPS and telemetry: tracks from GPX / FIT / GoPro GPMF, and the GPS time prior.

Importing this package imports no parser: gpxpy, fitdecode, py-gpmf-parser and telemetry-parser
load inside the readers that need them. Synthetic tracks live in
:mod:`mtbsync_core.gps.synthetic_track` (imported on its own: it needs the footage generator).
"""

from __future__ import annotations

from .clock import ClockOffset, clock_check, estimate_clock_offset, refine_clock_offset
from .fit import fit_to_bytes, read_fit, write_fit
from .gpmf import TelemetryBackend, get_backend
from .gpx import gpx_to_string, read_gpx, write_gpx
from .match import TrackMatch
from .prior import (
    GpsTimePrior,
    match_tracks,
    prior_for_videos,
    prior_from_tracks,
    prior_summary,
    warp_samples_from_prior,
)
from .read import camera_model, creation_time_utc, read_imu, read_track, track_kind, video_start_utc
from .track import Imu, Track, make_track

__all__ = [
    "ClockOffset",
    "GpsTimePrior",
    "Imu",
    "TelemetryBackend",
    "Track",
    "TrackMatch",
    "camera_model",
    "clock_check",
    "creation_time_utc",
    "estimate_clock_offset",
    "fit_to_bytes",
    "get_backend",
    "gpx_to_string",
    "make_track",
    "match_tracks",
    "prior_for_videos",
    "prior_from_tracks",
    "prior_summary",
    "read_fit",
    "read_gpx",
    "read_imu",
    "read_track",
    "refine_clock_offset",
    "track_kind",
    "video_start_utc",
    "warp_samples_from_prior",
    "write_fit",
    "write_gpx",
]
