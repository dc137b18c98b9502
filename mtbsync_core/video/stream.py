"""A small :class:`VideoStream` over PyAV: probe, sequential sampling by PTS, frame at a time.

Frame times always come from presentation timestamps (VFR-safe), measured from the first video
frame: ``t_s = (pts - first_pts) * time_base``. Frames are reduced early: sampling reads the
luma plane directly and scales it down, so nothing is kept at full size.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from ..errors import VideoOpenError
from ..model import VideoInfo
from ..timebase import snap_fps

log = logging.getLogger(__name__)

#: Sampling modes: every frame, reference frames only (I and P: skips B-frame decoding), keyframes only.
SAMPLE_MODES = {"all": "DEFAULT", "nonref": "NONREF", "key": "NONKEY"}


def _open_container(path: str | os.PathLike[str]) -> av.container.InputContainer:
    p = Path(path)
    if not p.exists():
        raise VideoOpenError(f"Video '{p}' does not exist. Check the path.")
    if p.is_dir():
        raise VideoOpenError(
            f"'{p}' is a folder, not a video file. Pass a video file, or a folder holding one "
            "GoPro chapter set."
        )
    if p.stat().st_size == 0:
        raise VideoOpenError(
            f"Video '{p}' is empty (0 bytes). Copy the file from the camera again."
        )
    try:
        container = av.open(str(p))
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as err:
        raise VideoOpenError(
            f"Could not open '{p}' as a video ({err.__class__.__name__}: {err}). "
            "Pass an MP4/MOV video file; if it is one, it may be truncated or corrupt."
        ) from err
    if not container.streams.video:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
        container.close()
        raise VideoOpenError(f"'{p}' has no video stream ({kinds}). Pass a video file.")
    return container


def _rotation_deg(stream: av.video.stream.VideoStream, first: av.VideoFrame) -> int:
    """Clockwise turn (0, 90, 180, 270) that shows the frames upright, as FFmpeg's autorotate does.

    Read from the frame's display matrix (counter-clockwise degrees), else the old ``rotate`` tag.
    """
    try:
        ccw = float(getattr(first, "rotation", 0) or 0)
        cw = -ccw if ccw else float(stream.metadata.get("rotate", 0) or 0)
    except (TypeError, ValueError):
        cw = 0.0
    return int(round(cw / 90.0)) * 90 % 360


def _first_frame(container: av.container.InputContainer, path: str) -> av.VideoFrame:
    stream = container.streams.video[0]
    try:
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError as err:
        raise VideoOpenError(
            f"Video '{path}' could not be decoded ({err}). The file may be truncated or corrupt."
        ) from err
    raise VideoOpenError(
        f"Video '{path}' has a video stream but no decodable frame. The file may be truncated."
    )


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Read what a video is without decoding it all (decodes the first frame to prove it works).

    Raises :class:`VideoOpenError` for a missing, empty, non-video, audio-only or undecodable file.
    A folder holding one GoPro chapter set is probed as one video (see :mod:`.chapter_stream`).
    """
    if Path(path).is_dir():
        from .chapter_stream import probe_chapter_set

        return probe_chapter_set(path)
    path = str(path)
    with _open_container(path) as c:
        st = c.streams.video[0]
        first = _first_frame(c, path)
        tb = st.time_base or Fraction(1, 90000)
        rate = st.average_rate or st.guessed_rate or st.base_rate
        fps = snap_fps(float(rate)) if rate else Fraction(30)
        start_s = float(first.time or 0.0)
        if st.duration is not None:
            dur = float(st.duration * tb)
        elif c.duration is not None:
            dur = c.duration / 1e6
        else:
            dur = 0.0
        frames = int(st.frames or round(dur * float(fps)))
        gop = _keyframe_interval(c, st)
        guessed = st.guessed_rate or rate
        is_vfr = bool(
            rate and guessed and abs(float(rate) - float(guessed)) > 0.01 * float(guessed)
        )
        rot = _rotation_deg(st, first)
        upright = rot in (90, 270)  # sizes as shown, like the frames this module returns
        return VideoInfo(
            path=path,
            width=first.height if upright else first.width,
            height=first.width if upright else first.height,
            fps=fps,
            duration_s=dur,
            frame_count=frames,
            codec=st.codec_context.name,
            rotation_deg=rot,
            is_vfr=is_vfr,
            start_time_s=start_s,
            has_audio=bool(c.streams.audio),
            gop_size=gop,
        )


def _keyframe_interval(
    container: av.container.InputContainer, st: av.video.stream.VideoStream, max_packets: int = 600
) -> int | None:
    """Median distance between keyframes, in frames, from the first packets (demux only)."""
    container.seek(0)
    keys, n = [], 0
    for pkt in container.demux(st):
        if pkt.size == 0:
            continue
        if pkt.is_keyframe:
            keys.append(n)
        n += 1
        if n >= max_packets:
            break
    container.seek(0)
    return int(np.median(np.diff(keys))) if len(keys) >= 2 else None


def _luma(frame: av.VideoFrame) -> np.ndarray:
    """The frame's luma plane as a (h, w) uint8 view (no colour conversion)."""
    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "nv12"):
        plane = frame.planes[0]
        buf = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)
        return buf[:, : frame.width]
    return frame.to_ndarray(format="gray")


def _scaled(img: np.ndarray, width: int | None) -> np.ndarray:
    if width is None or img.shape[1] <= width:
        return np.ascontiguousarray(img)
    while (
        img.shape[1] >= 4 * width
    ):  # halve by striding first: free, and the area filter below averages
        img = img[::2, ::2]
    height = max(2, round(img.shape[0] * width / img.shape[1]))
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)


def _rotated(img: np.ndarray, rotation_deg: int) -> np.ndarray:
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return cv2.rotate(img, codes[rotation_deg]) if rotation_deg in codes else img


def _upright(img: np.ndarray, width: int | None, rotation_deg: int) -> np.ndarray:
    """``img`` turned upright, then ``width`` px wide as shown (rotate first: a 90/270 turn
    swaps the sides, so scaling the stored frame would size the wrong one)."""
    if rotation_deg in (90, 270):
        return _scaled(_rotated(np.ascontiguousarray(img), rotation_deg), width)
    return _rotated(_scaled(img, width), rotation_deg)


class VideoStream:
    """An open video: sequential sampling and random access by time.

    Use as a context manager, or call :meth:`close`. Times are seconds from the first frame.
    """

    def __init__(self, path: str | os.PathLike[str], threads: bool = True) -> None:
        self.path = str(path)
        self.info = probe_video(self.path)
        self._threads = threads
        self._container = _open_container(self.path)
        st = self._container.streams.video[0]
        st.thread_type = "AUTO" if threads else "SLICE"
        # Deblocking only polishes detail that sampling scales away; skipping it saves ~13 % of decode.
        st.codec_context.options = {"skip_loop_filter": "all"}

    def __enter__(self) -> VideoStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the decoder."""
        self._container.close()

    def _stream(self, skip: str = "DEFAULT") -> av.video.stream.VideoStream:
        st = self._container.streams.video[0]
        st.codec_context.skip_frame = skip
        return st

    def keyframe_interval_s(self) -> float | None:
        """Seconds between keyframes (None when unknown)."""
        g = self.info.gop_size
        return None if g is None else g / float(self.info.fps)

    def iter_gray(
        self,
        mode: str = "all",
        width: int | None = 320,
        start_s: float = 0.0,
        end_s: float = math.inf,
        min_gap_s: float = 0.0,
    ) -> Iterator[tuple[float, np.ndarray]]:
        """Yield ``(t_s, grey image)`` for each decoded frame in [start_s, end_s], ``width`` px wide.

        ``mode`` is ``"all"``, ``"nonref"`` (I and P frames: B-frames are not even decoded) or
        ``"key"`` (keyframes only). Frames closer than ``min_gap_s`` to the last one yielded are
        skipped. Decoding is sequential and threaded; the only seek is one to the keyframe before
        ``start_s``.
        """
        if mode not in SAMPLE_MODES:
            raise ValueError(f"mode must be one of {sorted(SAMPLE_MODES)}, got {mode!r}")
        st = self._stream(SAMPLE_MODES[mode])
        t0 = self.info.start_time_s
        last = -math.inf
        if start_s > 0:
            tb = float(st.time_base or Fraction(1, 90000))
            self._container.seek(int((start_s + t0) / tb), stream=st, backward=True)
        else:
            self._container.seek(0)
        seen_s = -math.inf  # the last frame the decoder gave, wanted or not
        try:
            for frame in self._container.decode(st):
                if frame.time is None or frame.time - t0 < start_s - 1e-6:
                    continue
                seen_s = float(frame.time) - t0
                if frame.time - t0 > end_s + 1e-6:
                    break
                t_s = float(frame.time) - t0
                if t_s - last < min_gap_s:
                    continue  # decoded (it may be a reference) but not wanted: no scaling work
                last = t_s
                yield t_s, _upright(_luma(frame), width, self.info.rotation_deg)
            else:
                self._check_complete(seen_s, end_s, mode)
        except av.error.FFmpegError as err:
            self._check_complete(seen_s, end_s, mode)  # a file that ends early says where
            where = f" after {seen_s:.1f} s" if seen_s >= 0 else ""
            raise VideoOpenError(
                f"Decoding '{self.path}' failed{where} ({err}). The file may be truncated; re-copy it from the camera."
            ) from err
        finally:
            st.codec_context.skip_frame = "DEFAULT"

    def _check_complete(self, last_s: float, end_s: float, mode: str) -> None:
        """Refuse a file whose frames stop well before the duration its header declares.

        A file cut short by a full card or an interrupted copy keeps the header of the whole
        recording; its frames simply end. Keyframe-only decoding may stop up to a GOP early.
        """
        dur = self.info.duration_s
        if dur <= 0 or end_s < dur - 1e-6:
            return
        gop_s = self.keyframe_interval_s() or 1.0
        slack_s = 1.0 + (1.5 * gop_s if mode != "all" else 0.0)
        if last_s < dur - slack_s:
            got = "no frame" if last_s < 0 else f"frames stop at {last_s:.1f} s"
            raise VideoOpenError(
                f"Video '{self.path}' is cut short: {got} of the {dur:.1f} s its header "
                "declares (an interrupted copy or a full card?). Copy the file from the camera again."
            )

    def frame_at(self, t_s: float, width: int | None = None, colour: bool = True) -> np.ndarray:
        """The frame on screen at ``t_s`` seconds (BGR, or grey if ``colour`` is False).

        Seeks to the keyframe before ``t_s`` and decodes forward; the frame returned is the
        last one whose PTS is not after ``t_s`` (the first frame for t_s <= 0).
        """
        st = self._stream("DEFAULT")
        target = t_s + self.info.start_time_s
        tb = st.time_base or Fraction(1, 90000)
        self._container.seek(max(0, int(math.floor(target / float(tb)))), stream=st, backward=True)
        chosen = None
        for frame in self._container.decode(st):
            if frame.time is None:
                continue
            if chosen is not None and frame.time > target + 1e-6:
                break
            chosen = frame
            if frame.time > target + 1e-6:
                break
        if chosen is None:
            raise VideoOpenError(
                f"No frame at {t_s:.3f} s in '{self.path}' (duration {self.info.duration_s:.3f} s)."
            )
        img = chosen.to_ndarray(format="bgr24") if colour else _luma(chosen)
        return _upright(img, width, self.info.rotation_deg)

    def frame_times(self) -> np.ndarray:
        """Every frame's presentation time in seconds, sorted, from packets alone (no decoding)."""
        self._container.seek(0)
        st = self._container.streams.video[0]
        tb = float(st.time_base)
        pts = [p.pts for p in self._container.demux(st) if p.pts is not None]
        t = np.sort(np.asarray(pts, np.float64) * tb)
        return t - self.info.start_time_s


def open_video(path: str | os.PathLike[str], threads: bool = True) -> VideoStream:
    """Open ``path`` for sampling and random access (raises :class:`VideoOpenError`).

    A folder holding one GoPro chapter set opens as one continuous video (a
    :class:`~mtbsync_core.video.chapter_stream.ChapterStream`, same methods).
    """
    if Path(path).is_dir():
        from .chapter_stream import ChapterStream

        return ChapterStream(path, threads=threads)  # type: ignore[return-value]
    return VideoStream(path, threads=threads)
