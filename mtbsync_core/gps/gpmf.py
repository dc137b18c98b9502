"""GoPro GPMF telemetry (the ``gpmd`` "GoPro MET" stream of an MP4, or a raw payload file).

Two backends behind one small interface, :class:`TelemetryBackend`:

- ``"gpmf-parser"`` (py-gpmf-parser: GoPro's own C parser): GPS5 / GPS9 with fix (GPSF),
  precision (GPSP) and GPS time (GPSU), ACCL, GYRO; also reads raw payload files.
- ``"telemetry-parser"`` (gyroflow's Rust parser): names the camera model and reads other
  brands; GPS from its ``GPS`` groups, IMU from ``normalized_imu``.

All times are seconds of video time (payload times from the MP4's ``gpmd`` track). Nothing is
imported from either parser until a reader runs.
"""

from __future__ import annotations

import calendar
import logging
import math
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import GpsParseError
from .track import Imu, Track, make_track

log = logging.getLogger(__name__)

RAW_PAYLOAD_S = 1.0  # nominal span of one GPMF payload, for raw payload files without timing


class TelemetryBackend(Protocol):
    """What a telemetry parser must offer; see :func:`get_backend`."""

    name: str

    def read_gps(self, path: str | os.PathLike[str]) -> Track: ...

    def read_imu(self, path: str | os.PathLike[str]) -> Imu: ...


def get_backend(name: str = "gpmf-parser") -> TelemetryBackend:
    """A telemetry backend by name: ``"gpmf-parser"`` or ``"telemetry-parser"``."""
    if name == "gpmf-parser":
        return GpmfParserBackend()
    if name == "telemetry-parser":
        return TelemetryParserBackend()
    raise ValueError(
        f"Unknown telemetry backend {name!r}; use 'gpmf-parser' or 'telemetry-parser'."
    )


def _gpsu_to_unix(raw: bytes) -> float | None:
    """GPSU 'yymmddhhmmss.sss' (UTC) -> UNIX seconds, None when unreadable."""
    s = raw.split(b"\0")[0].decode("ascii", "replace").strip()
    try:
        y, mo, d, h, mi = (int(s[i : i + 2]) for i in range(0, 10, 2))
        sec = float(s[10:])
        return calendar.timegm((2000 + y, mo, d, h, mi, 0)) + sec
    except (ValueError, IndexError):
        return None


class _Payload:
    """One GPMF payload: the words and the video-time span it covers."""

    def __init__(self, words: np.ndarray, t_in_s: float, t_out_s: float) -> None:
        self.words, self.t_in_s, self.t_out_s = words, t_in_s, t_out_s

    def find_all(self, key: str, raw: bool = False) -> list:
        """Every occurrence of ``key``: scaled (n, elements) float arrays, or raw bytes."""
        import py_gpmf_parser as pg

        ok = pg.GPMF_ERROR.GPMF_OK
        ret, stream = pg.GPMF_Init(self.words, self.words.nbytes)
        if ret != ok:
            return []
        out: list = []
        fourcc = pg.Str2FourCC(key)
        while pg.GPMF_FindNext(stream, fourcc, pg.GPMF_RECURSE_LEVELS_AND_TOLERANT) == ok:
            if raw:
                out.append(bytes(pg.GPMF_RawData(stream)))
                continue
            elements, samples = pg.GPMF_ElementsInStruct(stream), pg.GPMF_Repeat(stream)
            if samples <= 0 or elements <= 0:
                continue
            ret, data = pg.GPMF_ScaledData(
                stream, samples * elements * 8, 0, samples, pg.GPMF_SampleType.DOUBLE
            )
            if ret == ok:
                out.append(
                    np.asarray(data[: samples * elements], np.float64).reshape(samples, elements)
                )
        return out

    def times(self, n: int) -> np.ndarray:
        """Video time of each of ``n`` samples spread evenly over the payload."""
        return self.t_in_s + np.arange(n) * (self.t_out_s - self.t_in_s) / max(n, 1)


def _mp4_payloads(path: Path) -> list[_Payload]:
    import py_gpmf_parser as pg

    handle = pg.OpenMP4Source(str(path), pg.MOV_GPMF_TRAK_TYPE, pg.MOV_GPMF_TRAK_SUBTYPE, 0)
    if not handle:
        raise GpsParseError(
            f"'{path}' has no GoPro telemetry track (gpmd). Pass the camera's "
            "original MP4 (not a re-encoded copy), or a GPX / FIT file."
        )
    try:
        out = []
        for i in range(pg.GetNumberPayloads(handle)):
            size = pg.GetPayloadSize(handle, i)
            res = pg.GetPayloadResource(handle, 0, size)
            words = np.asarray(pg.GetPayload(handle, res, i, size), np.uint32)
            _ret, t_in, t_out = pg.GetPayloadTime(handle, i)
            out.append(_Payload(words, float(t_in), float(t_out)))
        return out
    finally:
        pg.CloseSource(handle)


def _payloads(path: Path) -> list[_Payload]:
    """Payloads of an MP4 / MOV, or the single payload of a raw GPMF file."""
    if not path.exists():
        raise GpsParseError(f"Telemetry file '{path}' does not exist.")
    if path.suffix.lower() in {".mp4", ".mov", ".360", ".lrv"}:
        return _mp4_payloads(path)
    data = path.read_bytes()
    data += b"\0" * (-len(data) % 4)
    return [_Payload(np.frombuffer(data, np.uint32).copy(), 0.0, RAW_PAYLOAD_S)]


class GpmfParserBackend:
    """Telemetry via py-gpmf-parser (GoPro's C parser)."""

    name = "gpmf-parser"

    def read_gps(self, path: str | os.PathLike[str]) -> Track:
        """GPS5 / GPS9 fixes on the video clock. Raises GpsParseError when there is no fix."""
        p = Path(path)
        rows, utc_offsets = [], []
        camera = ""
        for pl in _payloads(p):
            camera = camera or _first_string(pl, "DVNM")
            block = _gps_block(pl)
            if block is None:
                continue
            rows.append(block[0])
            if block[1] is not None:
                utc_offsets.append(block[1])
        if not rows:
            raise GpsParseError(
                f"'{p}' has no GPS samples in its telemetry (no GPS5/GPS9): the "
                "camera's GPS was off. Use a GPX / FIT from another device."
            )
        a = np.concatenate(rows)
        if not (a[:, 5] >= 2).any():
            raise GpsParseError(
                f"'{p}' has {len(a)} GPS samples but none with a 2D/3D fix "
                "(the camera never locked on satellites). Use a GPX / FIT instead."
            )
        utc0 = float(np.median(utc_offsets)) if utc_offsets else None
        return make_track(
            a[:, 0],
            a[:, 1],
            a[:, 2],
            a[:, 3],
            a[:, 4],
            a[:, 5].astype(np.int64),
            source="gpmf",
            clock="video",
            camera=camera,
            utc_at_video_zero_s=utc0,
            details={"path": str(p), "backend": self.name},
        )

    def read_imu(self, path: str | os.PathLike[str]) -> Imu:
        """ACCL and GYRO samples (camera axis order) on the video clock."""
        p = Path(path)
        parts: dict[str, tuple[list, list]] = {"ACCL": ([], []), "GYRO": ([], [])}
        camera = ""
        for pl in _payloads(p):
            camera = camera or _first_string(pl, "DVNM")
            for key, (ts, vals) in parts.items():
                for arr in pl.find_all(key):
                    ts.append(pl.times(len(arr)))
                    vals.append(arr[:, :3])
        if not parts["ACCL"][0] and not parts["GYRO"][0]:
            raise GpsParseError(f"'{p}' has no ACCL or GYRO telemetry.")
        (ta, va), (tg, vg) = (
            (np.concatenate(t) if t else np.zeros(0), np.concatenate(v) if v else np.zeros((0, 3)))
            for t, v in parts.values()
        )
        return Imu(ta, va, tg, vg, camera=camera)


def _first_string(pl: _Payload, key: str) -> str:
    found = pl.find_all(key, raw=True)
    return found[0].split(b"\0")[0].decode("utf-8", "replace").strip() if found else ""


def _gps_block(pl: _Payload) -> tuple[np.ndarray, float | None] | None:
    """Rows (t, lat, lon, ele, speed2d, fix) of a payload's GPS, and UTC - video time."""
    gps9 = pl.find_all("GPS9")
    if gps9:
        g = gps9[0]
        t = pl.times(len(g))
        rows = np.column_stack([t, g[:, 0], g[:, 1], g[:, 2], g[:, 3], g[:, 8]])
        utc = 946_684_800.0 + g[:, 5] * 86400.0 + g[:, 6]
        return rows, float(np.median(utc - t))
    gps5 = pl.find_all("GPS5")
    if not gps5:
        return None
    g = gps5[0]
    fixes = pl.find_all("GPSF")
    fix = float(fixes[0][0, 0]) if fixes else 3.0
    t = pl.times(len(g))
    rows = np.column_stack([t, g[:, 0], g[:, 1], g[:, 2], g[:, 3], np.full(len(g), fix)])
    gpsu = pl.find_all("GPSU", raw=True)
    utc = _gpsu_to_unix(gpsu[0]) if gpsu and fix >= 2 else None
    return rows, (utc - pl.t_in_s if utc is not None else None)


class TelemetryParserBackend:
    """Telemetry via telemetry-parser (gyroflow): GoPro and other brands, names the camera."""

    name = "telemetry-parser"

    def _parser(self, p: Path):
        import telemetry_parser

        if not p.exists():
            raise GpsParseError(f"Telemetry file '{p}' does not exist.")
        try:
            return telemetry_parser.Parser(str(p))
        except OSError as err:
            raise GpsParseError(
                f"telemetry-parser could not read '{p}': {err}. Pass a camera's "
                "original video file."
            ) from err

    def camera(self, path: str | os.PathLike[str]) -> str:
        """The camera's make and model, e.g. ``"GoPro HERO5 Black"``."""
        tp = self._parser(Path(path))
        make, model = tp.camera or "", tp.model or ""
        return model if model.lower().startswith(make.lower()) else f"{make} {model}".strip()

    def read_gps(self, path: str | os.PathLike[str]) -> Track:
        """GPS fixes on the video clock, from the parser's ``GPS`` groups."""
        p = Path(path)
        groups = [
            g["GPS"] for g in self._parser(p).telemetry() if "GPS" in g and g["GPS"].get("Data")
        ]
        if not groups:
            raise GpsParseError(f"'{p}' has no GPS samples in its telemetry.")
        starts = [g["TimestampUs"] / 1e6 for g in groups]
        rows = []
        for k, g in enumerate(groups):
            data = np.asarray(g["Data"], np.float64) / np.asarray(g["Scale"], np.float64)
            span = (
                (starts[k + 1] - starts[k])
                if k + 1 < len(starts)
                else (starts[k] - starts[k - 1] if k else 1.0)
            )
            t = starts[k] + np.arange(len(data)) * span / len(data)
            fix = float(g.get("0x47505346", 3))  # GPSF
            rows.append(np.column_stack([t, data[:, :4], np.full(len(data), fix)]))
        a = np.concatenate(rows)
        if not (a[:, 5] >= 2).any():
            raise GpsParseError(f"'{p}' has GPS samples but none with a 2D/3D fix.")
        gpsu = [
            (g["0x47505355"] / 1000.0 - s)
            for g, s in zip(groups, starts, strict=True)
            if "0x47505355" in g
        ]
        return make_track(
            a[:, 0],
            a[:, 1],
            a[:, 2],
            a[:, 3],
            a[:, 4],
            a[:, 5].astype(np.int64),
            source="gpmf",
            clock="video",
            camera=self.camera(p),
            utc_at_video_zero_s=float(np.median(gpsu)) if gpsu else None,
            details={"path": str(p), "backend": self.name},
        )

    def read_imu(self, path: str | os.PathLike[str]) -> Imu:
        """Accelerometer (m/s^2) and gyroscope (rad/s) from ``normalized_imu``."""
        p = Path(path)
        tp = self._parser(p)
        imu = tp.normalized_imu() or []
        ta, acc = _imu_column(imu, "accl", 1.0)
        tg, gyr = _imu_column(imu, "gyro", math.pi / 180.0)  # degrees/s -> rad/s
        return Imu(ta, acc, tg, gyr, camera=self.camera(p))


def _imu_column(samples: list[dict], key: str, factor: float) -> tuple[np.ndarray, np.ndarray]:
    rows = [s for s in samples if s.get(key) is not None]
    t = np.array([s["timestamp_ms"] / 1000.0 for s in rows], np.float64)
    return t, np.array([s[key] for s in rows], np.float64).reshape(-1, 3) * factor
