"""What the detectors read from one run, all on the video's PTS clock.

GoPro telemetry (GPMF) is already timed on the video clock by the engine's readers; a GPX or FIT
track is on UTC and is shifted by the video's start time (GPS time in the telemetry, else the
container's creation time) or by an explicit offset. Audio is decoded to mono at 8 kHz with its
first sample placed against the first video frame. :func:`frame_timeline` resamples everything
onto the frame times for display and export.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AudioMissingError, GpsParseError, HighlightError, MtbSyncError

log = logging.getLogger(__name__)

G_M_S2 = 9.80665
AUDIO_RATE_HZ = 8000


@dataclass(frozen=True)
class RunSignals:
    """Every signal of one run that a detector may use; absent ones are ``None``.

    ``frame_t_s`` are the video frames' times (seconds from the first frame, from PTS).
    """

    path: str
    frame_t_s: np.ndarray
    t_accl_s: np.ndarray | None = None
    accl_m_s2: np.ndarray | None = None  # (n, 3)
    t_gyro_s: np.ndarray | None = None
    gyro_rad_s: np.ndarray | None = None  # (n, 3)
    t_gps_s: np.ndarray | None = None
    speed_m_s: np.ndarray | None = None
    ele_m: np.ndarray | None = None
    audio: np.ndarray | None = None  # mono float32
    audio_rate_hz: int = AUDIO_RATE_HZ
    audio_t0_s: float = 0.0  # video time of audio sample 0

    @property
    def duration_s(self) -> float:
        """Time of the last frame plus one frame period."""
        t = self.frame_t_s
        if len(t) < 2:
            return float(t[-1]) if len(t) else 0.0
        return float(t[-1] + np.median(np.diff(t)))

    @property
    def sources(self) -> tuple[str, ...]:
        """Which of ``imu``, ``gyro``, ``gps``, ``audio`` are present."""
        out = []
        if self.accl_m_s2 is not None and len(self.accl_m_s2) > 1:
            out.append("imu")
        if self.gyro_rad_s is not None and len(self.gyro_rad_s) > 1:
            out.append("gyro")
        if self.speed_m_s is not None and np.isfinite(self.speed_m_s).sum() > 1:
            out.append("gps")
        if self.audio is not None and len(self.audio) > self.audio_rate_hz // 4:
            out.append("audio")
        return tuple(out)


def _gps_on_video_clock(video: str, track_path: str | None, offset_s: float | None):
    """(t_s, speed, ele) on the video clock, or None when there is no usable GPS."""
    from ..gps.read import read_track, video_start_utc

    src = track_path or video
    try:
        track = read_track(src).only_valid()
    except GpsParseError as err:
        if track_path is not None:
            raise
        log.info("no GPS in %s: %s", video, err)
        return None
    if len(track) < 2:
        return None
    t = track.t_s
    if track.clock == "utc":
        start = offset_s if offset_s is not None else video_start_utc(video)
        if start is None:
            raise HighlightError(
                f"Cannot place track '{track_path}' on the video '{video}': the video says "
                "nothing about its start time. Pass --track-offset (UTC seconds of frame 0)."
            )
        t = t - start
    speed = track.speed_m_s
    if not np.isfinite(speed).any():
        speed = _speed_from_positions(track)
    return t, speed, track.ele_m


def _speed_from_positions(track) -> np.ndarray:
    from ..gps.track import to_local_m

    x, y = to_local_m(track.lat_deg, track.lon_deg, track.lat_deg[0], track.lon_deg[0])
    dt = np.gradient(track.t_s)
    return np.hypot(np.gradient(x), np.gradient(y)) / np.maximum(dt, 1e-3)


def load_signals(
    path: str | os.PathLike[str],
    *,
    track_path: str | os.PathLike[str] | None = None,
    track_offset_s: float | None = None,
    use_audio: bool = True,
) -> RunSignals:
    """Read a run's frame times, telemetry (GPMF), GPS (GPMF or ``track_path``) and audio."""
    from ..gps.read import read_imu
    from ..multicam import decode_audio, read_pts_table

    p = str(path)
    if not Path(p).is_file():
        raise HighlightError(f"Run '{p}' does not exist. Check the path.")
    try:
        tab = read_pts_table(p)
    except MtbSyncError as err:
        raise HighlightError(f"Cannot read frames of '{p}': {err}") from err
    kw: dict = {}
    try:
        imu = read_imu(p)
        kw.update(t_accl_s=imu.t_accl_s, accl_m_s2=imu.accl_m_s2)
        kw.update(t_gyro_s=imu.t_gyro_s, gyro_rad_s=imu.gyro_rad_s)
    except GpsParseError as err:
        log.info("no IMU telemetry in %s: %s", p, err)
    gps = _gps_on_video_clock(p, None if track_path is None else str(track_path), track_offset_s)
    if gps is not None:
        kw.update(t_gps_s=gps[0], speed_m_s=gps[1], ele_m=gps[2])
    if use_audio and tab.has_audio:
        try:
            au = decode_audio(p, AUDIO_RATE_HZ)
            kw.update(audio=au.samples, audio_rate_hz=au.rate_hz, audio_t0_s=au.t0_s)
        except AudioMissingError as err:
            log.info("no audio in %s: %s", p, err)
    return RunSignals(path=p, frame_t_s=tab.t_s, **kw)


def accel_g(sig: RunSignals) -> tuple[np.ndarray, np.ndarray]:
    """(times, |a| in g) of the accelerometer, sorted by time."""
    if sig.accl_m_s2 is None or sig.t_accl_s is None:
        return np.zeros(0), np.zeros(0)
    return sig.t_accl_s, np.linalg.norm(sig.accl_m_s2, axis=1) / G_M_S2


def audio_level_db(sig: RunSignals, hop_s: float = 0.01, win_s: float = 0.02):
    """(times, RMS level in dB full scale) of the audio in ``win_s`` windows every ``hop_s``."""
    if sig.audio is None:
        return np.zeros(0), np.zeros(0)
    hop = max(1, round(hop_s * sig.audio_rate_hz))
    win = max(hop, round(win_s * sig.audio_rate_hz))
    x = sig.audio.astype(np.float64) ** 2
    c = np.concatenate([[0.0], np.cumsum(x)])
    starts = np.arange(0, max(len(x) - win, 0) + 1, hop)
    power = (c[starts + win] - c[starts]) / win
    t = sig.audio_t0_s + (starts + win / 2) / sig.audio_rate_hz
    return t, 10 * np.log10(power + 1e-12)


def frame_timeline(sig: RunSignals) -> dict[str, np.ndarray]:
    """Per video frame: ``t_s``, ``speed_m_s``, ``accel_g`` (RMS over the frame), ``audio_db``.

    Each signal is resampled onto the frame times (NaN where it is absent or does not reach).
    """
    t = sig.frame_t_s
    out = {"t_s": t}
    nan = np.full(len(t), np.nan)
    if "gps" in sig.sources:
        ok = np.isfinite(sig.speed_m_s)
        out["speed_m_s"] = np.interp(t, sig.t_gps_s[ok], sig.speed_m_s[ok], np.nan, np.nan)
    else:
        out["speed_m_s"] = nan
    out["accel_g"] = _binned(t, *accel_g(sig), rms=True)
    ta, lev = audio_level_db(sig)
    out["audio_db"] = _binned(t, ta, lev) if len(ta) else nan
    return out


def _binned(frame_t: np.ndarray, t: np.ndarray, v: np.ndarray, rms: bool = False) -> np.ndarray:
    """Mean (or RMS) of ``v`` over each frame's span; NaN for frames the samples do not cover."""
    if len(t) == 0 or len(frame_t) == 0:
        return np.full(len(frame_t), np.nan)
    period = float(np.median(np.diff(frame_t))) if len(frame_t) > 1 else 1 / 30
    edges = np.concatenate([frame_t, [frame_t[-1] + period]])
    idx = np.searchsorted(edges, t, side="right") - 1
    ok = (idx >= 0) & (idx < len(frame_t))
    vals = v[ok] ** 2 if rms else v[ok]
    s = np.bincount(idx[ok], vals, minlength=len(frame_t))
    n = np.bincount(idx[ok], minlength=len(frame_t))
    mean = np.where(n > 0, s / np.maximum(n, 1), np.nan)
    return np.sqrt(mean) if rms else mean
