"""The frame table of a video file: every frame's presentation time, read by demuxing (no decode).

``read_pts_table`` is what frame-exact cutting (:mod:`.smartcut`), multi-camera sync and
highlight clips stand on: display-order PTS, keyframe flags, frame rate, dropped frames.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from ..errors import VideoOpenError


@dataclass(frozen=True)
class PtsTable:
    """Every video frame's presentation time, read by demuxing packets (nothing decoded).

    ``t_s[i]`` is the camera time of frame ``i`` in display order; ``keyframe[i]`` marks
    keyframes; ``pts[i]`` the raw PTS in ``time_base`` units.
    """

    path: str
    pts: np.ndarray  # int64, sorted
    t_s: np.ndarray  # float64 camera times, t_s[0] == 0
    keyframe: np.ndarray  # bool
    time_base: Fraction
    start_pts: int
    fps: float  # average frame rate
    is_vfr: bool
    width: int
    height: int
    has_audio: bool
    dropped_frames: int = 0  # frames missing from an otherwise constant rate
    has_video: bool = True  # False for a sound recorder's file (then one pseudo frame at 0)
    span_s: float | None = None  # length of an audio-only file

    @property
    def frame_period_s(self) -> float:
        """Median spacing of frames (seconds)."""
        return (
            float(np.median(np.diff(self.t_s))) if len(self.t_s) > 1 else 1.0 / max(self.fps, 1.0)
        )

    @property
    def duration_s(self) -> float:
        """Camera time of the last frame (the length of an audio-only file)."""
        if self.span_s is not None:
            return self.span_s
        return float(self.t_s[-1]) if len(self.t_s) else 0.0


def open_media(path: str | os.PathLike[str]) -> av.container.InputContainer:
    """Open ``path`` with PyAV, turning failures into :class:`VideoOpenError`."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise VideoOpenError(f"Camera file '{p}' does not exist. Check the path.")
    try:
        return av.open(p)
    except (av.error.FFmpegError, OSError) as err:
        raise VideoOpenError(f"Could not open '{p}' as media ({err}). Pass a video file.") from err


def _audio_only_table(p: str, c: av.container.InputContainer) -> PtsTable:
    """A table for a sound recorder's file: camera time is the audio's own time."""
    st = c.streams.audio[0]
    end = 0.0
    for pkt in c.demux(st):
        if pkt.pts is not None:
            end = max(end, float((pkt.pts + (pkt.duration or 0)) * st.time_base))
    t0 = float((st.start_time or 0) * st.time_base)
    one = np.zeros(1)
    return PtsTable(
        p,
        one.astype(np.int64),
        one,
        np.ones(1, bool),
        Fraction(st.time_base),
        0,
        0.0,
        False,
        0,
        0,
        True,
        0,
        has_video=False,
        span_s=max(0.0, end - t0),
    )


def read_pts_table(path: str | os.PathLike[str], allow_audio_only: bool = False) -> PtsTable:
    """Demux the video stream of ``path`` and collect each frame's PTS (VFR-safe).

    With ``allow_audio_only``, a file with sound but no pictures (a separate sound recorder)
    gives a table with ``has_video`` False.
    """
    p = os.fspath(path)
    with open_media(p) as c:
        if not c.streams.video:
            if allow_audio_only and c.streams.audio:
                return _audio_only_table(p, c)
            raise VideoOpenError(f"'{p}' has no video stream. Pass a video file.")
        vs = c.streams.video[0]
        tb = Fraction(vs.time_base)
        pts, key = [], []
        for pkt in c.demux(vs):
            if pkt.pts is None or pkt.size == 0:
                continue
            pts.append(pkt.pts)
            key.append(bool(pkt.is_keyframe))
        width, height = vs.codec_context.width, vs.codec_context.height
        has_audio = bool(c.streams.audio)
    if not pts:
        raise VideoOpenError(f"'{p}' has no video frames. Pass a non-empty video file.")
    order = np.argsort(pts, kind="stable")
    pts_a = np.asarray(pts, np.int64)[order]
    t_s = (pts_a - pts_a[0]) * float(tb)
    d = np.diff(t_s)
    fps = (len(t_s) - 1) / t_s[-1] if len(t_s) > 1 and t_s[-1] > 0 else 0.0
    is_vfr, dropped = _spacing(d)
    return PtsTable(
        p,
        pts_a,
        t_s,
        np.asarray(key, bool)[order],
        tb,
        int(pts_a[0]),
        float(fps),
        is_vfr,
        int(width),
        int(height),
        has_audio,
        dropped,
    )


def _spacing(d: np.ndarray) -> tuple[bool, int]:
    """(variable frame rate?, frames missing in gaps of whole periods) from frame spacings."""
    if len(d) < 3:
        return False, 0
    period = float(np.median(d))
    mult = np.round(d / period)
    off_grid = np.abs(d - mult * period) > 0.1 * period
    is_vfr = bool(off_grid.mean() > 0.01)
    dropped = 0 if is_vfr else int(np.sum(np.clip(mult - 1, 0, None)))
    return is_vfr, dropped
