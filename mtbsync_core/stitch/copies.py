"""The copies of one recording: opening them, checking they fit together, numbering their frames.

Every decoded frame gets a *frame number* on a timeline shared by all copies: the device's frame
number from metadata, else its presentation time times the frame rate, else its index plus an
offset found from the pictures (for copies that started at different moments). Frames are then
read in lockstep by frame number, a k-way merge of sorted streams: linear in the frames read.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from ..errors import StitchError, VideoOpenError
from ..timebase import snap_fps
from ..video.stream import probe_video
from .metadata import FrameMetadata, trim_to_frames

log = logging.getLogger(__name__)

ALIGN_MODES = ("auto", "metadata", "pts", "content")


@dataclass(frozen=True)
class CopyInfo:
    """One copy as opened: size, rate, frame count, and how its frames are numbered."""

    path: str
    width: int
    height: int
    fps: Fraction
    n_frames: int
    first_pts_s: float
    last_pts_s: float


def probe_copies(paths: list[str], metas: list[FrameMetadata | None]) -> list[CopyInfo]:
    """Open every copy, count its frames (packets, no decoding) and check they fit together."""
    infos = []
    for path in paths:
        info = probe_video(path)
        with av.open(path) as c:
            st = c.streams.video[0]
            pts = [p.pts for p in c.demux(st) if p.pts is not None and p.size]
            tb = st.time_base
            rates = [float(r) for r in (st.base_rate, st.guessed_rate, st.average_rate) if r]
        t = np.sort(np.asarray(pts, np.float64)) * float(tb)
        first = float(t[0]) if t.size else 0.0
        last = float(t[-1]) if t.size else 0.0
        # the container's rate nearest the median frame interval: a copy with dropped frames
        # has a lower average rate but the same frame interval
        step = float(np.median(np.diff(t))) if t.size > 2 else 0.0
        fps = (
            snap_fps(min(rates, key=lambda r: abs(r - 1.0 / step)))
            if step > 0 and rates
            else info.fps
        )
        infos.append(CopyInfo(path, info.width, info.height, fps, len(pts), first, last))
    ref = infos[0]
    for ci in infos[1:]:
        if (ci.width, ci.height) != (ref.width, ref.height):
            raise StitchError(
                f"Copy '{ci.path}' is {ci.width}x{ci.height} but '{ref.path}' is "
                f"{ref.width}x{ref.height}. Stitch only copies of the same stream."
            )
        if abs(float(ci.fps) - float(ref.fps)) > 0.01 * float(ref.fps):
            raise StitchError(
                f"Copy '{ci.path}' runs at {float(ci.fps):.3f} fps but '{ref.path}' at "
                f"{float(ref.fps):.3f} fps. Stitch only copies of the same stream."
            )
    for ci, meta in zip(infos, metas, strict=False):
        if meta is not None:
            trim_to_frames(meta, ci.n_frames, ci.path)
    return infos


@dataclass(frozen=True)
class Numbering:
    """How a copy's decoded frames map to shared frame numbers."""

    mode: str  # "metadata" | "pts" | "content"
    fps: float
    t0_s: float  # pts seconds of frame number 0 (pts mode)
    offset: int = 0  # content mode: frame number = index + offset
    frame_num: np.ndarray | None = None  # metadata mode

    def number(self, idx: int, t_s: float | None) -> int:
        """The frame number of decoded frame ``idx`` shown at ``t_s`` seconds."""
        if self.mode == "metadata" and self.frame_num is not None:
            return int(self.frame_num[idx])
        if self.mode == "pts" and t_s is not None:
            return int(round((t_s - self.t0_s) * self.fps))
        return idx + self.offset


def content_offsets(
    paths: list[str], max_frames: int = 450, size: tuple[int, int] = (32, 18)
) -> list[int]:
    """Frame offset of each copy against the first, from tiny thumbnails of their first frames.

    Copies of one stream show identical pictures at the same moment, so the offset with the
    least thumbnail difference (over at least 10 common frames) is where they line up.
    """
    thumbs = [_thumbs(p, max_frames, size) for p in paths]
    base = thumbs[0]
    out = [0]
    for path, t in zip(paths[1:], thumbs[1:], strict=False):
        best, best_err = None, np.inf
        for off in range(-len(t) + 10, len(base) - 9):
            a0, b0 = max(0, off), max(0, -off)
            n = min(len(base) - a0, len(t) - b0)
            if n < 10:
                continue
            err = float(np.median(np.abs(base[a0 : a0 + n] - t[b0 : b0 + n]).mean(axis=(1, 2))))
            if err < best_err:
                best, best_err = off, err
        if best is None or best_err > 8.0:
            raise StitchError(
                f"Copy '{path}' shows nothing in common with '{paths[0]}' in its first "
                f"{max_frames} frames. Pass copies of the same recording, or --align pts."
            )
        out.append(best)
    return out


def _thumbs(path: str, max_frames: int, size: tuple[int, int]) -> np.ndarray:
    rows = []
    with av.open(path) as c:
        st = c.streams.video[0]
        st.thread_type = "AUTO"
        for frame in c.decode(st):
            g = frame.to_ndarray(format="gray")
            rows.append(cv2.resize(g, size, interpolation=cv2.INTER_AREA).astype(np.float32))
            if len(rows) >= max_frames:
                break
    return np.stack(rows) if rows else np.zeros((0, size[1], size[0]), np.float32)


def iter_copy(path: str, numbering: Numbering) -> Iterator[tuple[int, int, av.VideoFrame]]:
    """Yield ``(frame number, decoded index, frame)`` of one copy, in decoding order.

    A frame whose number does not exceed the last one yielded (a copy that repeats a
    timestamp) is skipped with a log line: each frame number appears once per copy.
    """
    last = None
    try:
        with av.open(path) as c:
            st = c.streams.video[0]
            st.thread_type = "AUTO"
            for idx, frame in enumerate(c.decode(st)):
                n = numbering.number(idx, None if frame.time is None else float(frame.time))
                if last is not None and n <= last:
                    log.info("%s: frame %d repeats number %d; skipped", path, idx, n)
                    continue
                last = n
                yield n, idx, frame
    except av.error.FFmpegError as err:
        raise VideoOpenError(
            f"Decoding '{path}' failed ({err}). The copy may be truncated; stitch the others."
        ) from err


def prefetch(items: Iterator, depth: int = 4) -> Iterator:
    """Run ``items`` on its own thread, ``depth`` ahead (PyAV decodes without holding the GIL,
    so copies decode in parallel while frames are scored); errors are raised here. Closing the
    returned generator stops the thread and closes ``items``."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(done)
        except BaseException as err:  # noqa: BLE001 - handed to the consuming thread
            put(err)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    threading.Thread(target=work, name="stitch-decoder", daemon=True).start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def check_overlap(paths: list[str], ranges: list[tuple[int, int]]) -> None:
    """Every copy must share frames with at least one other copy."""
    for i, (a, b) in enumerate(ranges):
        if not any(j != i and a <= d and c <= b for j, (c, d) in enumerate(ranges)):
            raise StitchError(
                f"Copy '{Path(paths[i]).name}' (frames {a}..{b}) has no frame in common with the "
                "other copies. Check it is a copy of the same recording, or try --align content."
            )
