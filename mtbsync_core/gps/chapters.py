"""Telemetry of a GoPro chapter set read as one recording, without joining the files.

Each chapter's GPS fixes and IMU samples are moved to where that chapter's telemetry track
starts in the joined recording: after the earlier chapters' telemetry tracks, end to end, which
is where ``mtbsync chapters join`` puts them. A folder holding one chapter set therefore gives
the same track as its joined file, and the same as the camera's unsplit recording.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import av
import numpy as np

from ..errors import GpsParseError, VideoOpenError
from .track import Imu, Track


def chapter_files(folder: str | os.PathLike[str]) -> tuple[Path, ...]:
    """The chapter files of the one chapter set in ``folder`` (:class:`GpsParseError` otherwise)."""
    from ..video.chapter_stream import chapter_set_in

    try:
        return chapter_set_in(folder).files
    except VideoOpenError as err:
        raise GpsParseError(str(err)) from err


def telemetry_shifts_s(files: tuple[Path, ...] | list[Path]) -> list[float]:
    """Per chapter, the seconds to add to its telemetry times to put them on the joined clock.

    Chapter ``k``'s telemetry track starts where chapter ``k-1``'s ended (its last packet's end),
    as :func:`~mtbsync_core.video.chapters.join_chapters` lays them out.
    """
    shifts, start = [], 0.0
    for path in files:
        first_s, end_s = _telemetry_span_s(Path(path))
        shifts.append(start - first_s)
        start += end_s - first_s
    return shifts


def _telemetry_span_s(path: Path) -> tuple[float, float]:
    """First timestamp and end (last packet's timestamp plus its duration) of the telemetry
    track, seconds; the video track's when the file has no telemetry track."""
    with av.open(str(path)) as c:
        data = [
            s for s in c.streams if s.type == "data" and "MET" in s.metadata.get("handler_name", "")
        ]
        st = data[0] if data else c.streams.video[0]
        first = end = None
        for pkt in c.demux(st):
            ts = pkt.dts if pkt.dts is not None else pkt.pts
            if ts is None:
                continue
            first = ts if first is None else min(first, ts)
            end = max(end or ts, ts + (pkt.duration or 0))
        if first is None:
            return 0.0, 0.0
        return float(first * st.time_base), float(end * st.time_base)


def read_chapter_track(folder: str | os.PathLike[str], read_one: Callable[[Path], Track]) -> Track:
    """One :class:`Track` from every chapter's fixes (``read_one`` reads a file), on the
    joined clock. A chapter without a fix is left out; none with a fix raises its error."""
    files = chapter_files(folder)
    tracks = _read_each(files, read_one)
    first = tracks[0][0]
    utc0 = [t.utc_at_video_zero_s - s for t, s in tracks if t.utc_at_video_zero_s is not None]
    imus = [(t.imu, s) for t, s in tracks if t.imu is not None]
    return replace(
        first,
        t_s=np.concatenate([t.t_s + s for t, s in tracks]),
        lat_deg=np.concatenate([t.lat_deg for t, _ in tracks]),
        lon_deg=np.concatenate([t.lon_deg for t, _ in tracks]),
        ele_m=np.concatenate([t.ele_m for t, _ in tracks]),
        speed_m_s=np.concatenate([t.speed_m_s for t, _ in tracks]),
        fix=np.concatenate([t.fix for t, _ in tracks]),
        utc_at_video_zero_s=float(np.median(utc0)) if utc0 else None,
        imu=_join_imus(imus) if len(imus) == len(tracks) else None,
        details={
            **first.details,
            "path": str(folder),
            "chapters": [p.name for p in files],
        },
    )


def read_chapter_imu(folder: str | os.PathLike[str], read_one: Callable[[Path], Imu]) -> Imu:
    """One :class:`Imu` from every chapter's samples (``read_one`` reads a file), on the joined
    clock. A chapter without IMU samples is left out; none with any raises its error."""
    return _join_imus(_read_each(chapter_files(folder), read_one))


def _read_each(files: tuple[Path, ...], read_one: Callable[[Path], Any]) -> list[tuple[Any, float]]:
    """``(read_one(chapter), its shift on the joined clock)`` for every chapter that reads; the
    first chapter's error when none does."""
    done, errors = [], []
    for path, shift in zip(files, telemetry_shifts_s(files), strict=True):
        try:
            done.append((read_one(path), shift))
        except GpsParseError as err:
            errors.append(err)
    if not done:
        raise errors[0]
    return done


def _join_imus(imus: list[tuple[Imu, float]]) -> Imu:
    return Imu(
        t_accl_s=np.concatenate([m.t_accl_s + s for m, s in imus]),
        accl_m_s2=np.concatenate([m.accl_m_s2 for m, _ in imus]),
        t_gyro_s=np.concatenate([m.t_gyro_s + s for m, s in imus]),
        gyro_rad_s=np.concatenate([m.gyro_rad_s for m, _ in imus]),
        camera=imus[0][0].camera,
    )
