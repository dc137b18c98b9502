"""mtbsync_core: line up repeated runs of a trail, carry markers across, export them.

The public API: what the app, the CLI and users import. Importing it has no side effects.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import (
    AudioMissingError,
    ExportError,
    FeaturelessVideoError,
    GpsParseError,
    ImportMarkersError,
    IndexFileError,
    IndexMismatchError,
    MarkerFileError,
    MtbSyncError,
    MulticamError,
    NoReliableMatchError,
    OutputExistsError,
    VideoOpenError,
    WarpFileError,
    WarpFitError,
)
from .model import Keyframes, MatchPairs, Marker, TimePrior, TransferredMarker, VideoInfo
from .progress import ProgressCallback, ProgressEvent
from .timebase import (
    frame_to_seconds,
    frames_to_timecode,
    parse_fps,
    seconds_to_frame,
    seconds_to_timecode,
    timecode_to_frames,
)

# --- run-to-run engine (video, index, align, warp, markers, pipeline) ---

# --- exports / imports (mtbsync_core.export) ---
from .export import (edl_to_string, export_to_string, fcpxml_to_string, premiere_xml_to_string,
                     read_edl, read_fcpxml, read_markers_file, read_premiere_xml, write_export)
from .video.timecode import read_start_timecode, read_video_rate

# --- GPS and telemetry (mtbsync_core.gps) ---
from .gps import (ClockOffset, Imu, Track, estimate_clock_offset, match_tracks, prior_from_tracks,
                  prior_summary, read_fit, read_gpx, read_imu, read_track, refine_clock_offset,
                  warp_samples_from_prior, video_start_utc, write_fit, write_gpx)

# --- multi-camera (mtbsync_core.multicam) ---

__all__ = [name for name in dir() if not name.startswith("_") and name not in {"annotations"}]
