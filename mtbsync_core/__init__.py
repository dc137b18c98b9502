"""mtbsync_core: line up repeated runs of a trail, carry markers across, export them.

The public API: what the app, the CLI and users import. Importing it has no side effects.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import (
    AudioMissingError,
    BatchError,
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
    OutputError,
    OutputExistsError,
    VideoOpenError,
    WarpFileError,
    WarpFitError,
)
from .lazy import lazy_exports
from .progress import ProgressCallback, ProgressEvent
from .timebase import (
    frame_to_seconds,
    frames_to_timecode,
    parse_fps,
    seconds_to_frame,
    seconds_to_timecode,
    timecode_to_frames,
)

# The rest of the public API is imported on first use (PEP 562), so that `import mtbsync_core`
# and the CLI start fast: each name maps to the module that defines it.
_LAZY: dict[str, str] = {
    # data model (numpy)
    "Keyframes": "model",
    "Marker": "model",
    "MatchPairs": "model",
    "TimePrior": "model",
    "TransferredMarker": "model",
    "VideoInfo": "model",
    # run-to-run engine
    "AlignParams": "align",
    "ReferenceIndex": "index",
    "build_index": "index",
    "check_index": "index",
    "load_index": "index",
    "save_index": "index",
    "read_markers_csv": "markers",
    "read_transferred_csv": "markers",
    "transfer_markers": "markers",
    "write_markers_csv": "markers",
    "write_transferred_csv": "markers",
    "SyncParams": "pipeline",
    "SyncResult": "pipeline",
    "sync_runs": "pipeline",
    "write_sync_outputs": "pipeline",
    "SampleParams": "sampling",
    "VideoStream": "video",
    "open_video": "video",
    "probe_video": "video",
    "make_proxy": "video.proxy",
    "content_hash": "fileio",
    "FitParams": "warp",
    "TimeWarp": "warp",
    "fit_warp": "warp",
    "read_warp": "warp",
    "write_warp": "warp",
    # many runs against one reference
    "BatchResult": "batch",
    "DaskExecutor": "batch",
    "LocalExecutor": "batch",
    "RunOutcome": "batch",
    "compute_splits": "batch",
    "find_runs": "batch",
    "make_executor": "batch",
    "run_batch": "batch",
    # exports / imports
    "edl_to_string": "export",
    "export_to_string": "export",
    "fcpxml_to_string": "export",
    "premiere_xml_to_string": "export",
    "read_edl": "export",
    "read_fcpxml": "export",
    "read_markers_file": "export",
    "read_premiere_xml": "export",
    "write_export": "export",
    "video_export_options": "export",
    "read_start_timecode": "video.timecode",
    "read_video_rate": "video.timecode",
    # GPS and telemetry
    "ClockOffset": "gps",
    "GpsTimePrior": "gps",
    "Imu": "gps",
    "Track": "gps",
    "clock_check": "gps",
    "estimate_clock_offset": "gps",
    "match_tracks": "gps",
    "prior_for_videos": "gps",
    "prior_from_tracks": "gps",
    "prior_summary": "gps",
    "read_fit": "gps",
    "read_gpx": "gps",
    "read_imu": "gps",
    "read_track": "gps",
    "refine_clock_offset": "gps",
    "warp_samples_from_prior": "gps",
    "video_start_utc": "gps",
    "write_fit": "gps",
    "write_gpx": "gps",
    # multi-camera
    "CameraSync": "multicam",
    "Frame": "multicam",
    "MulticamResult": "multicam",
    "Timeline": "multicam",
    "read_multicam": "multicam",
    "sync_cameras": "multicam",
    "trim_cameras": "multicam",
    "write_multicam": "multicam",
    # chapters and redundant recordings
    "StitchResult": "stitch",
    "stitch_recordings": "stitch",
    "find_chapter_sets": "video.chapters",
    "join_chapters": "video.chapters",
    "StitchError": "errors",
    "ChapterError": "errors",
}


__all__ = [
    "__version__",
    # errors
    "AudioMissingError",
    "BatchError",
    "ExportError",
    "FeaturelessVideoError",
    "GpsParseError",
    "ImportMarkersError",
    "IndexFileError",
    "IndexMismatchError",
    "MarkerFileError",
    "MtbSyncError",
    "MulticamError",
    "NoReliableMatchError",
    "OutputError",
    "OutputExistsError",
    "VideoOpenError",
    "WarpFileError",
    "WarpFitError",
    # progress, time (the data model is in _LAZY)
    "ProgressCallback",
    "ProgressEvent",
    "frame_to_seconds",
    "frames_to_timecode",
    "parse_fps",
    "seconds_to_frame",
    "seconds_to_timecode",
    "timecode_to_frames",
    *_LAZY,
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
