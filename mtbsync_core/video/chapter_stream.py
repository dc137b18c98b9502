"""A GoPro chapter set opened as one continuous video, without joining the files.

:class:`ChapterStream` offers what :class:`~mtbsync_core.video.stream.VideoStream` offers
(``info``, ``iter_gray``, ``frame_at``, ``frame_times``, ``keyframe_interval_s``) over the
chapters in order: chapter ``k`` starts where chapter ``k-1``'s last frame ends (its last PTS
plus one frame), so times run on across each seam as they do in the camera's recording.
``open_video`` and ``probe_video`` return one for a folder holding one chapter set.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from ..errors import VideoOpenError
from ..model import VideoInfo
from .chapters import ChapterSet, find_chapter_sets


def chapter_set_in(folder: str | os.PathLike[str]) -> ChapterSet:
    """The one chapter set (two or more files) in ``folder``; :class:`VideoOpenError` otherwise."""
    sets = [s for s in find_chapter_sets(folder) if len(s) >= 2]
    if len(sets) != 1:
        found = ", ".join(f"{s.key} ({len(s)} files)" for s in sets) or "none"
        raise VideoOpenError(
            f"'{folder}' is a folder, not a video file; to open as one video it must hold one "
            f"GoPro chapter set (found: {found}). Pass a video file, or a folder with one set."
        )
    return sets[0]


class ChapterStream:
    """The chapters of one recording as one video (use as a context manager, or :meth:`close`)."""

    def __init__(self, folder: str | os.PathLike[str], threads: bool = True) -> None:
        from .stream import VideoStream

        self.chapters = chapter_set_in(folder)
        self.path = str(folder)
        self._streams = [VideoStream(p, threads=threads) for p in self.chapters.files]
        self._times = [s.frame_times() for s in self._streams]
        first = self._streams[0].info
        step = 1.0 / float(first.fps)
        ends = [float(t[-1]) + step if t.size else 0.0 for t in self._times]
        self.offsets_s = np.concatenate([[0.0], np.cumsum(ends)[:-1]])
        self.info = replace(
            first,
            path=self.path,
            duration_s=float(sum(ends)),
            frame_count=int(sum(t.size for t in self._times)),
        )

    def __enter__(self) -> ChapterStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release every chapter's decoder."""
        for s in self._streams:
            s.close()

    def keyframe_interval_s(self) -> float | None:
        """Seconds between keyframes (the first chapter's)."""
        return self._streams[0].keyframe_interval_s()

    def iter_gray(
        self,
        mode: str = "all",
        width: int | None = 320,
        start_s: float = 0.0,
        end_s: float = math.inf,
        min_gap_s: float = 0.0,
    ) -> Iterator[tuple[float, np.ndarray]]:
        """As :meth:`VideoStream.iter_gray`, across the chapters; times on the joined clock."""
        last = -math.inf
        for stream, off, times in zip(self._streams, self.offsets_s, self._times, strict=True):
            dur = float(times[-1]) if times.size else 0.0
            if off + dur < start_s - 1e-6 or off > end_s + 1e-6:
                continue
            for t_s, img in stream.iter_gray(mode, width, max(0.0, start_s - off), end_s - off):
                t = t_s + float(off)
                if t - last < min_gap_s:
                    continue
                last = t
                yield t, img

    def frame_at(self, t_s: float, width: int | None = None, colour: bool = True) -> np.ndarray:
        """The frame on screen at ``t_s`` seconds of the joined recording."""
        k = int(np.searchsorted(self.offsets_s, t_s, side="right")) - 1
        k = min(max(k, 0), len(self._streams) - 1)
        return self._streams[k].frame_at(t_s - float(self.offsets_s[k]), width=width, colour=colour)

    def frame_times(self) -> np.ndarray:
        """Every frame's time on the joined clock, sorted (from packets, no decoding)."""
        return np.concatenate([t + off for t, off in zip(self._times, self.offsets_s, strict=True)])


def probe_chapter_set(folder: str | os.PathLike[str]) -> VideoInfo:
    """What :func:`probe_video` says about a chapter set: the first chapter's, with the whole length."""
    with ChapterStream(folder) as cs:
        return cs.info
