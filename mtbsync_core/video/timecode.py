"""A video's frame rate and start timecode, read from the container (never typed by hand).

The start timecode comes from the MP4/MOV ``tmcd`` track, which FFmpeg (and so PyAV) shows as
``timecode`` metadata on the video stream, on the timecode data stream and sometimes on the
container. GoPro cameras write one (``GoPro TCD`` track). A ``;`` before the frames marks
drop-frame timecode.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from ..errors import VideoOpenError
from ..timebase import snap_fps

_TC_RE = re.compile(r"^\d{1,2}:\d{2}:\d{2}[:;.,]\d{2,3}$")


@dataclass(frozen=True)
class VideoTiming:
    """What an export needs to know about the video its markers go on."""

    fps: Fraction  # exact, NTSC rates as /1001 ratios
    duration_s: float
    start_tc: str | None  # e.g. "19:26:48:04"; ";" before the frames when drop-frame
    width: int
    height: int
    audio_channels: int = 0  # of the first audio stream; 0 without sound
    audio_rate_hz: int = 0


def _open(path: str | os.PathLike[str]) -> av.container.InputContainer:
    p = Path(path)
    if not p.is_file():
        raise VideoOpenError(f"Video '{p}' does not exist or is not a file. Check the path.")
    try:
        container = av.open(str(p))
    except (av.FFmpegError, OSError) as err:
        raise VideoOpenError(f"Cannot open '{p}' as a video ({err}). Pass a video file.") from err
    if not container.streams.video:
        container.close()
        raise VideoOpenError(f"'{p}' has no video stream. Pass a video file.")
    return container


def _rate(stream: av.video.stream.VideoStream, path: str | os.PathLike[str]) -> Fraction:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate or rate <= 0:
        raise VideoOpenError(
            f"Could not read a frame rate from '{path}'. Re-mux or re-encode "
            "the file, or pass --fps without --video."
        )
    return snap_fps(float(rate))


def _timecode(container: av.container.InputContainer) -> str | None:
    video = container.streams.video[0]
    sources = (
        [video.metadata]
        + [s.metadata for s in container.streams if s.type == "data"]
        + [container.metadata]
    )
    for meta in sources:
        tc = (meta.get("timecode") or "").strip()
        if _TC_RE.match(tc):
            return tc
    return None


def read_start_timecode(path: str | os.PathLike[str]) -> str | None:
    """The timecode of the video's first frame (``HH:MM:SS:FF``, ``;`` if drop-frame), or None."""
    with _open(path) as container:
        return _timecode(container)


def read_video_rate(path: str | os.PathLike[str]) -> Fraction:
    """The video's frame rate as an exact Fraction (29.97 -> 30000/1001)."""
    with _open(path) as container:
        return _rate(container.streams.video[0], path)


def read_video_timing(path: str | os.PathLike[str]) -> VideoTiming:
    """Frame rate, duration, start timecode and size, from the container without decoding."""
    with _open(path) as container:
        stream = container.streams.video[0]
        fps = _rate(stream, path)
        if stream.duration is not None and stream.time_base is not None:
            duration_s = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration_s = container.duration / av.time_base
        elif stream.frames:
            duration_s = float(stream.frames / fps)
        else:
            raise VideoOpenError(f"Could not read the duration of '{path}'. Re-mux the file.")
        return VideoTiming(
            fps=fps,
            duration_s=duration_s,
            start_tc=_timecode(container),
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            **_audio(container),
        )


def _audio(container: av.container.InputContainer) -> dict[str, int]:
    """Channels and sample rate of the first audio stream (empty without one)."""
    if not container.streams.audio:
        return {}
    a = container.streams.audio[0].codec_context
    return {"audio_channels": int(a.channels or 0), "audio_rate_hz": int(a.sample_rate or 0)}
