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
from .align import AlignParams
from .index import ReferenceIndex, build_index, check_index, load_index, save_index
from .markers import (
    read_markers_csv,
    read_transferred_csv,
    transfer_markers,
    write_markers_csv,
    write_transferred_csv,
)
from .pipeline import SyncParams, SyncResult, sync_runs, write_sync_outputs
from .sampling import SampleParams
from .video import VideoStream, open_video, probe_video
from .video.proxy import make_proxy
from .fileio import content_hash
from .warp import FitParams, TimeWarp, fit_warp, read_warp, write_warp

# --- exports / imports (mtbsync_core.export) ---
from .export import (edl_to_string, export_to_string, fcpxml_to_string, premiere_xml_to_string,
                     read_edl, read_fcpxml, read_markers_file, read_premiere_xml, write_export)
from .video.timecode import read_start_timecode, read_video_rate

# --- GPS and telemetry (mtbsync_core.gps) ---
from .gps import (ClockOffset, GpsTimePrior, Imu, Track, clock_check, estimate_clock_offset, match_tracks,
                  prior_for_videos, prior_from_tracks, prior_summary, read_fit, read_gpx, read_imu,
                  read_track, refine_clock_offset, warp_samples_from_prior, video_start_utc, write_fit,
                  write_gpx)

# --- multi-camera (mtbsync_core.multicam) ---
from .multicam import CameraSync, Frame, MulticamResult, Timeline, read_multicam, sync_cameras, trim_cameras, write_multicam  # noqa: E501

__all__ = [name for name in dir() if not name.startswith("_") and name not in {"annotations"}]
