"""Multi-camera sync: N simultaneous cameras on one master timeline.

Clock model (see :mod:`.io`): ``master_s = offset_s + (1 + drift_ppm * 1e-6) * camera_s``, camera
time being the camera's own PTS in seconds from its first video frame.

Names are imported from their modules on first use (PEP 562), so that the CLI and the package
start without loading the signal-processing stack.
"""

from __future__ import annotations

import importlib

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


def __getattr__(name: str):
    """Import a public name from its module on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
