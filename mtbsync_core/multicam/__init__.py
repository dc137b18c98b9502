"""Multi-camera sync: N simultaneous cameras on one master timeline.

Clock model (see :mod:`.io`): ``master_s = offset_s + (1 + drift_ppm * 1e-6) * camera_s``, camera
time being the camera's own PTS in seconds from its first video frame.
"""

from .audio import AudioParams, estimate_audio_pair
from .flash import FlashEvents, detect_flash_events, estimate_flash_pair, read_flash_events
from .io import (
    CameraSync,
    MulticamResult,
    read_multicam,
    result_from_dict,
    result_to_dict,
    write_multicam,
)
from .media import AudioTrack, PtsTable, decode_audio, read_pts_table
from .solve import PairEstimate, solve_joint
from .sync import METHODS, sync_cameras
from .timeline import Frame, Timeline
from .trim import TrimmedCamera, trim_cameras

__all__ = [
    "METHODS",
    "AudioParams",
    "AudioTrack",
    "CameraSync",
    "FlashEvents",
    "Frame",
    "MulticamResult",
    "PairEstimate",
    "PtsTable",
    "Timeline",
    "TrimmedCamera",
    "decode_audio",
    "detect_flash_events",
    "estimate_audio_pair",
    "estimate_flash_pair",
    "read_flash_events",
    "read_multicam",
    "read_pts_table",
    "result_from_dict",
    "result_to_dict",
    "solve_joint",
    "sync_cameras",
    "trim_cameras",
    "write_multicam",
]
