"""The master timeline: for a time or a range, each camera's nearest frame by PTS.

Frame lookups use each camera's PTS table (demuxed once, nothing decoded), never index / fps, so
variable frame rates and dropped frames are exact. Decoding seeks only when a request jumps more
than a GOP ahead or backwards; :meth:`Timeline.frames_between` decodes each camera sequentially.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass

import av
import cv2
import numpy as np

from ..errors import MulticamError
from .io import CameraSync, MulticamResult, read_multicam
from .media import PtsTable, open_media, read_pts_table

log = logging.getLogger(__name__)

POLICIES = ("skip", "partial")


@dataclass(frozen=True)
class Frame:
    """One camera's frame for a master time; ``image`` is RGB uint8, None when not decoded/valid."""

    image: np.ndarray | None
    pts_s: float  # camera time of the frame (from its first frame)
    frame_idx: int  # 0-based, display order
    residual_s: float  # master time of the frame minus the requested master time
    valid: bool  # within tolerance and inside the recording
    t_master_s: float = float("nan")


class _Reader:
    """Sequential decoder of one camera that seeks only when it must."""

    def __init__(self, table: PtsTable, width: int | None) -> None:
        self.table, self.width = table, width
        self._c: av.container.InputContainer | None = None
        self._it: Iterator[av.VideoFrame] | None = None
        self._pos = -1  # raw pts of the last decoded frame
        self._last: tuple[int, np.ndarray] | None = None
        self.seeks = 0
        key = np.flatnonzero(table.keyframe)
        self._gop = int(np.max(np.diff(key))) if len(key) > 1 else len(table.pts)

    def close(self) -> None:
        if self._c is not None:
            self._c.close()
            self._c = self._it = None

    def _seek(self, pts: int) -> None:
        if self._c is None:
            self._c = open_media(self.table.path)
            self._c.streams.video[0].thread_type = "AUTO"
        vs = self._c.streams.video[0]
        self._c.seek(int(pts), stream=vs, backward=True, any_frame=False)
        self._it = iter(self._c.decode(vs))
        self._pos = -(2**62)
        self.seeks += 1

    def image(self, idx: int) -> np.ndarray:
        """RGB image of frame ``idx``."""
        if self._last is not None and self._last[0] == idx:
            return self._last[1]
        target = int(self.table.pts[idx])
        behind = self._pos >= target or self._it is None
        far = (
            np.searchsorted(self.table.pts, target) - np.searchsorted(self.table.pts, self._pos)
            > self._gop
        )
        if behind or far:
            self._seek(target)
        for fr in self._it:
            if fr.pts is None:
                continue
            self._pos = fr.pts
            if fr.pts >= target:
                if fr.pts != target:
                    log.warning(
                        "%s: wanted pts %d, decoder gave %d", self.table.path, target, fr.pts
                    )
                img = fr.to_ndarray(format="rgb24")
                if self.width and img.shape[1] != self.width:
                    h = max(2, round(img.shape[0] * self.width / img.shape[1]))
                    img = cv2.resize(img, (self.width, h), interpolation=cv2.INTER_AREA)
                self._last = (idx, img)
                return img
        raise IndexError(f"frame {idx} (pts {target}) not decodable in {self.table.path}")


class Timeline:
    """Cameras of a :class:`MulticamResult` on its master clock.

    ``tolerance_s``: how far (master seconds) a frame may be from the requested time and still
    be valid; default half of each camera's frame period. ``policy``: ``partial`` yields times
    where at least ``min_cameras`` cameras have a valid frame, ``skip`` only times where all do.
    Cameras with status ``failed`` are left out unless ``include_failed``.
    """

    def __init__(
        self,
        result: MulticamResult,
        tolerance_s: float | None = None,
        policy: str = "partial",
        min_cameras: int = 1,
        width: int | None = None,
        include_failed: bool = False,
    ) -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, not {policy!r}")
        self.result, self.policy, self.min_cameras = result, policy, min_cameras
        cams = [c for c in result.cameras if include_failed or c.status != "failed"]
        tables = {c.camera_id: read_pts_table(c.path, allow_audio_only=True) for c in cams}
        # sound-only recordings have no frames to show
        self.cams: dict[str, CameraSync] = {
            c.camera_id: c for c in cams if tables[c.camera_id].has_video
        }
        self.tables = {cid: tables[cid] for cid in self.cams}
        if not self.cams:
            raise MulticamError(
                "No placed camera with pictures in this result; a timeline needs at least one video."
            )
        self.tol = {
            cid: tolerance_s
            if tolerance_s is not None
            else 0.5 * t.frame_period_s * self.cams[cid].rate
            for cid, t in self.tables.items()
        }
        self._readers = {cid: _Reader(t, width) for cid, t in self.tables.items()}

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **kw) -> Timeline:
        """A timeline from a ``multicam.json`` (or its folder)."""
        return cls(read_multicam(path), **kw)

    @property
    def camera_ids(self) -> list[str]:
        """Camera ids on this timeline, in result order."""
        return list(self.cams)

    def span_s(self) -> tuple[float, float]:
        """(first, last) master time any camera covers."""
        ends = [
            (c.to_master(0.0), c.to_master(self.tables[k].duration_s)) for k, c in self.cams.items()
        ]
        return min(a for a, _ in ends), max(b for _, b in ends)

    def common_span_s(self) -> tuple[float, float]:
        """(start, end) master times every camera covers (end < start when they do not overlap)."""
        ends = [
            (c.to_master(0.0), c.to_master(self.tables[k].duration_s)) for k, c in self.cams.items()
        ]
        return max(a for a, _ in ends), min(b for _, b in ends)

    def nearest(self, camera_id: str, t_s: float) -> Frame:
        """The frame of ``camera_id`` nearest master time ``t_s`` (no image decoded)."""
        cam, tab = self.cams[camera_id], self.tables[camera_id]
        t_cam = cam.to_camera(t_s)
        k = int(np.searchsorted(tab.t_s, t_cam))
        cands = [c for c in (k - 1, k) if 0 <= c < len(tab.t_s)]
        idx = min(cands, key=lambda c: abs(tab.t_s[c] - t_cam))
        t_m = cam.to_master(float(tab.t_s[idx]))
        res = t_m - t_s
        return Frame(
            None, float(tab.t_s[idx]), idx, res, abs(res) <= self.tol[camera_id] + 1e-9, t_m
        )

    def frame_at(self, t_s: float, decode: bool = True) -> dict[str, Frame]:
        """Every camera's nearest frame to master time ``t_s`` (``valid`` False when none is close)."""
        out = {}
        for cid in self.cams:
            f = self.nearest(cid, t_s)
            if decode and f.valid:
                f = Frame(
                    self._readers[cid].image(f.frame_idx),
                    f.pts_s,
                    f.frame_idx,
                    f.residual_s,
                    True,
                    f.t_master_s,
                )
            out[cid] = f
        return out

    def _keep(self, frames: dict[str, Frame]) -> bool:
        n = sum(f.valid for f in frames.values())
        return n == len(frames) if self.policy == "skip" else n >= self.min_cameras

    def frames_between(
        self, t0_s: float, t1_s: float, fps: float | None = None, decode: bool = True
    ) -> Iterator[tuple[float, dict[str, Frame]]]:
        """(master time, frames) for a grid over [t0_s, t1_s], decoding each camera sequentially.

        The grid is the master camera's own frames, or ``fps`` evenly spaced times when given.
        """
        for t in self.grid(t0_s, t1_s, fps):
            frames = self.frame_at(float(t), decode=False)
            if not self._keep(frames):
                continue
            if decode:
                frames = {
                    cid: Frame(
                        self._readers[cid].image(f.frame_idx),
                        f.pts_s,
                        f.frame_idx,
                        f.residual_s,
                        True,
                        f.t_master_s,
                    )
                    if f.valid
                    else f
                    for cid, f in frames.items()
                }
            yield float(t), frames

    def grid(self, t0_s: float, t1_s: float, fps: float | None = None) -> np.ndarray:
        """Master times of :meth:`frames_between`."""
        if fps:
            return t0_s + np.arange(int(np.floor((t1_s - t0_s) * fps + 1e-9)) + 1) / fps
        mid = self.result.master_id if self.result.master_id in self.cams else next(iter(self.cams))
        cam = self.cams[mid]
        t = cam.offset_s + cam.rate * self.tables[mid].t_s
        return t[(t >= t0_s - 1e-9) & (t <= t1_s + 1e-9)]

    def close(self) -> None:
        """Close every open decoder."""
        for r in self._readers.values():
            r.close()

    def __enter__(self) -> Timeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
