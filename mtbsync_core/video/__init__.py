"""Video access behind a small interface (PyAV backend)."""

from .stream import SAMPLE_MODES, VideoStream, open_video, probe_video

__all__ = ["SAMPLE_MODES", "VideoStream", "open_video", "probe_video"]
