"""Multi-camera sync: N simultaneous cameras on one master timeline.

Clock model (see :mod:`.io`): ``master_s = offset_s + (1 + drift_ppm * 1e-6) * camera_s``, camera
time being the camera's own PTS in seconds from its first video frame.

Names are imported from their modules on first use (PEP 562), so that the CLI and the package
start without loading the signal-processing stack.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_LAZY: dict[str, str] = {
    "METHODS": "io",
    "AudioParams": "audio",
    "AudioTrack": "media",
    "CameraSync": "io",
    "FlashEvents": "flash",
    "Frame": "timeline",
    "MulticamResult": "io",
    "PairEstimate": "solve",
    "PtsTable": "media",
    "Timeline": "timeline",
    "TrimmedCamera": "trim",
    "decode_audio": "media",
    "detect_flash_events": "flash",
    "estimate_audio_pair": "audio",
    "estimate_event_pair": "events",
    "estimate_flash_pair": "flash",
    "estimate_imu_pair": "imu",
    "estimate_motion_pair": "motion",
    "read_motion": "motion",
    "read_flash_events": "flash",
    "read_multicam": "io",
    "read_pts_table": "media",
    "result_from_dict": "io",
    "result_to_dict": "io",
    "solve_joint": "solve",
    "sync_cameras": "sync",
    "trim_cameras": "trim",
    "write_multicam": "io",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
