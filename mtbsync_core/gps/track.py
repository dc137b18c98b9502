"""The data model of a GPS / telemetry track, and small geometry helpers over it.

A :class:`Track` is what every reader returns (GPX, FIT, GoPro GPMF). Times are float seconds:
absolute UNIX epoch seconds for a ``"utc"`` clock (GPX, FIT), seconds of video time for a
``"video"`` clock (telemetry embedded in the video). Positions are WGS84 degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), metres


@dataclass(frozen=True)
class Imu:
    """Inertial samples from a camera (GoPro ACCL / GYRO), on the video clock.

    ``accl_m_s2`` and ``gyro_rad_s`` are (n, 3) arrays in the camera's own axis order; their
    times ``t_accl_s`` / ``t_gyro_s`` are seconds of video time. Either may be empty.
    """

    t_accl_s: np.ndarray
    accl_m_s2: np.ndarray
    t_gyro_s: np.ndarray
    gyro_rad_s: np.ndarray
    camera: str = ""

    @property
    def accl_rate_hz(self) -> float:
        """Mean accelerometer sample rate (0 when there are fewer than two samples)."""
        return _rate(self.t_accl_s)

    @property
    def gyro_rate_hz(self) -> float:
        """Mean gyroscope sample rate (0 when there are fewer than two samples)."""
        return _rate(self.t_gyro_s)


def _rate(t_s: np.ndarray) -> float:
    if len(t_s) < 2 or t_s[-1] <= t_s[0]:
        return 0.0
    return float((len(t_s) - 1) / (t_s[-1] - t_s[0]))


@dataclass(frozen=True)
class Track:
    """A sequence of GPS fixes, sorted by time.

    ``fix`` is 0 (no fix), 2 (2D) or 3 (3D); ``ele_m`` and ``speed_m_s`` are NaN where unknown.
    ``utc_at_video_zero_s`` is, for a ``"video"`` clock track that carries GPS time (GoPro
    GPSU / GPS9), the UTC epoch second of video time 0, else None.
    """

    t_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    ele_m: np.ndarray
    speed_m_s: np.ndarray
    fix: np.ndarray
    source: str  # "gpx" | "fit" | "gpmf"
    clock: str  # "utc" | "video"
    camera: str = ""
    imu: Imu | None = None
    utc_at_video_zero_s: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.t_s)

    @property
    def duration_s(self) -> float:
        """Time from the first to the last fix (0 for fewer than two fixes)."""
        return float(self.t_s[-1] - self.t_s[0]) if len(self.t_s) > 1 else 0.0

    @property
    def rate_hz(self) -> float:
        """Mean fix rate."""
        return _rate(self.t_s)

    def valid(self) -> np.ndarray:
        """Boolean mask of usable fixes: 2D/3D fix and finite coordinates and time."""
        return (
            (self.fix >= 2)
            & np.isfinite(self.lat_deg)
            & np.isfinite(self.lon_deg)
            & np.isfinite(self.t_s)
        )

    def only_valid(self) -> Track:
        """The same track keeping only usable fixes (see :meth:`valid`)."""
        return self.select(self.valid())

    def select(self, mask: np.ndarray) -> Track:
        """A track with the fixes where ``mask`` is true."""
        return replace(
            self,
            t_s=self.t_s[mask],
            lat_deg=self.lat_deg[mask],
            lon_deg=self.lon_deg[mask],
            ele_m=self.ele_m[mask],
            speed_m_s=self.speed_m_s[mask],
            fix=self.fix[mask],
        )

    def shifted(self, offset_s: float) -> Track:
        """The track with ``offset_s`` subtracted from every time (e.g. UTC -> video time)."""
        return replace(self, t_s=self.t_s - offset_s)

    def length_m(self) -> float:
        """Path length over the usable fixes, metres (noisy fixes make it longer than the trail)."""
        v = self.only_valid()
        if len(v) < 2:
            return 0.0
        x, y = to_local_m(v.lat_deg, v.lon_deg, float(v.lat_deg[0]), float(v.lon_deg[0]))
        return float(np.hypot(np.diff(x), np.diff(y)).sum())

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary for reports and ``mtbsync gps info``."""
        v = self.valid()
        out: dict[str, Any] = {
            "source": self.source,
            "clock": self.clock,
            "camera": self.camera,
            "fixes": int(len(self)),
            "fixes_valid": int(v.sum()),
            "t_first_s": float(self.t_s[0]) if len(self) else None,
            "t_last_s": float(self.t_s[-1]) if len(self) else None,
            "duration_s": round(self.duration_s, 3),
            "rate_hz": round(self.rate_hz, 3),
            "length_m": round(self.length_m(), 1),
            "utc_at_video_zero_s": self.utc_at_video_zero_s,
        }
        if v.any():
            out["lat_deg_range"] = [float(self.lat_deg[v].min()), float(self.lat_deg[v].max())]
            out["lon_deg_range"] = [float(self.lon_deg[v].min()), float(self.lon_deg[v].max())]
        if self.imu is not None:
            out["accl_samples"] = int(len(self.imu.t_accl_s))
            out["gyro_samples"] = int(len(self.imu.t_gyro_s))
        return out


def make_track(
    t_s,
    lat_deg,
    lon_deg,
    ele_m=None,
    speed_m_s=None,
    fix=None,
    *,
    source: str,
    clock: str,
    camera: str = "",
    **kw: Any,
) -> Track:
    """Build a :class:`Track` from sequences, sorting by time; missing columns become NaN / 3D fix."""
    t = np.asarray(t_s, np.float64)
    n = len(t)
    cols = [
        np.asarray(c, np.float64) if c is not None else np.full(n, np.nan)
        for c in (lat_deg, lon_deg, ele_m, speed_m_s)
    ]
    fx = np.asarray(fix, np.int64) if fix is not None else np.full(n, 3, np.int64)
    order = np.argsort(t, kind="stable")
    return Track(
        t[order],
        *(c[order] for c in cols),
        fx[order],
        source=source,
        clock=clock,
        camera=camera,
        **kw,
    )


def to_local_m(
    lat_deg: np.ndarray, lon_deg: np.ndarray, lat0_deg: float, lon0_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """East / north metres from (lat0, lon0): an equirectangular plane, exact enough over a few km."""
    k = math.pi / 180.0 * EARTH_RADIUS_M
    x_m = (np.asarray(lon_deg) - lon0_deg) * k * math.cos(math.radians(lat0_deg))
    y_m = (np.asarray(lat_deg) - lat0_deg) * k
    return x_m, y_m


def from_local_m(
    x_m: np.ndarray, y_m: np.ndarray, lat0_deg: float, lon0_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`to_local_m`: (lat_deg, lon_deg)."""
    k = math.pi / 180.0 * EARTH_RADIUS_M
    lat = lat0_deg + np.asarray(y_m) / k
    lon = lon0_deg + np.asarray(x_m) / (k * math.cos(math.radians(lat0_deg)))
    return lat, lon


def decimate(track: Track, max_hz: float) -> Track:
    """Average fixes into bins of ``1 / max_hz`` seconds when the track is faster than that.

    Fast GPS (GoPro GPS5 at 18 Hz) is strongly correlated from fix to fix; averaging loses
    little and keeps the smoothers' cost proportional to the ride's duration.
    """
    if track.rate_hz <= max_hz * 1.05 or len(track) < 2:
        return track
    b = np.floor((track.t_s - track.t_s[0]) * max_hz).astype(np.int64)
    edges = np.flatnonzero(np.diff(b)) + 1
    counts = np.diff(np.concatenate([[0], edges, [len(b)]]))

    def mean(x: np.ndarray) -> np.ndarray:
        sums = np.add.reduceat(np.nan_to_num(x), np.concatenate([[0], edges]))
        finite = np.add.reduceat(np.isfinite(x).astype(float), np.concatenate([[0], edges]))
        return np.where(finite > 0, sums / np.maximum(finite, 1), np.nan) if counts.size else sums

    fix = np.minimum.reduceat(track.fix, np.concatenate([[0], edges]))
    return replace(
        track,
        t_s=mean(track.t_s),
        lat_deg=mean(track.lat_deg),
        lon_deg=mean(track.lon_deg),
        ele_m=mean(track.ele_m),
        speed_m_s=mean(track.speed_m_s),
        fix=fix,
    )
