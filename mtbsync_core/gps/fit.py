"""FIT activity files: read ``record`` messages with fitdecode; write a minimal FIT by hand.

fitdecode only reads. :func:`write_fit` encodes the small subset a GPS track needs (a
``file_id`` and one ``record`` per fix), following the FIT protocol: a 14-byte header, one
definition message, data messages, and the CRC-16 over everything. FIT record timestamps are
whole seconds (FIT epoch 1989-12-31T00:00:00Z); sub-second times are rounded on writing.
"""

from __future__ import annotations

import math
import os
import struct
import warnings
from pathlib import Path

import numpy as np

from ..errors import GpsParseError
from ..fileio import write_bytes_atomic
from .track import Track, make_track

FIT_EPOCH_UNIX_S = 631_065_600  # 1989-12-31T00:00:00Z as a UNIX time
_SEMICIRCLE_DEG = 180.0 / 2**31
_CRC_TABLE = (
    0x0000,
    0xCC01,
    0xD801,
    0x1400,
    0xF001,
    0x3C00,
    0x2800,
    0xE401,
    0xA001,
    0x6C00,
    0x7800,
    0xB401,
    0x5000,
    0x9C01,
    0x8801,
    0x4400,
)


def fit_crc(data: bytes, crc: int = 0) -> int:
    """The FIT CRC-16 of ``data`` (Garmin's nibble-table algorithm)."""
    for byte in data:
        for nib in (byte & 0xF, byte >> 4):
            tmp = _CRC_TABLE[crc & 0xF]
            crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ _CRC_TABLE[nib]
    return crc


def read_fit(path: str | os.PathLike[str]) -> Track:
    """Read the ``record`` messages of a FIT file as a ``"utc"`` Track.

    Raises :class:`GpsParseError` naming the record (message) number for a corrupt file
    (bad header, bad CRC, truncated), and for a file without any positioned record.
    """
    import fitdecode

    p = Path(path)
    rows: list[tuple[float, float, float, float, float]] = []
    product = ""
    n_msg = 0
    try:
        with fitdecode.FitReader(
            str(p),
            check_crc=fitdecode.CrcCheck.ENABLED,
            error_handling=fitdecode.ErrorHandling.RAISE,
        ) as fit:
            for frame in fit:
                if not isinstance(frame, fitdecode.FitDataMessage):
                    continue
                n_msg += 1
                if frame.name == "file_id":
                    product = _product(frame)
                elif frame.name == "record":
                    row = _record_row(frame)
                    if row is not None:
                        rows.append(row)
    except fitdecode.FitError as err:
        raise GpsParseError(
            f"Could not read FIT '{p}' at record {n_msg + 1} "
            f"(after {n_msg} good messages): {err}. The file is corrupt or "
            "truncated; copy it from the device again."
        ) from err
    if not rows:
        raise GpsParseError(
            f"FIT '{p}' has no record with a position and a timestamp "
            f"({n_msg} messages read). Record the activity with GPS on."
        )
    a = np.array(rows, np.float64)
    return make_track(
        a[:, 0],
        a[:, 1],
        a[:, 2],
        a[:, 3],
        a[:, 4],
        None,
        source="fit",
        clock="utc",
        camera=product,
        details={"path": str(p), "messages": n_msg},
    )


def _value(frame, *names: str):
    for name in names:
        if frame.has_field(name):
            v = frame.get_value(name)
            if v is not None:
                return v
    return None


def _product(frame) -> str:
    parts = [_value(frame, "manufacturer"), _value(frame, "garmin_product", "product")]
    return " ".join(str(x) for x in parts if x is not None)


def _record_row(frame) -> tuple[float, float, float, float, float] | None:
    ts, lat, lon = (_value(frame, k) for k in ("timestamp", "position_lat", "position_long"))
    if ts is None or lat is None or lon is None:
        return None
    t_s = ts.timestamp() if hasattr(ts, "timestamp") else float(ts) + FIT_EPOCH_UNIX_S
    ele = _value(frame, "enhanced_altitude", "altitude")
    spd = _value(frame, "enhanced_speed", "speed")
    return (
        t_s,
        lat * _SEMICIRCLE_DEG,
        lon * _SEMICIRCLE_DEG,
        float(ele) if ele is not None else math.nan,
        float(spd) if spd is not None else math.nan,
    )


# --- writing ------------------------------------------------------------------------------

_RECORD_FIELDS = (  # (field number, size, base type): timestamp, lat, lon, enh. altitude, enh. speed
    (253, 4, 0x86),
    (0, 4, 0x85),
    (1, 4, 0x85),
    (78, 4, 0x86),
    (73, 4, 0x86),
)


def _definition(local: int, global_num: int, fields: tuple[tuple[int, int, int], ...]) -> bytes:
    head = struct.pack("<BBBHB", 0x40 | local, 0, 0, global_num, len(fields))
    return head + b"".join(struct.pack("<BBB", *f) for f in fields)


def _record(t_s: float, lat: float, lon: float, ele: float, spd: float) -> bytes:
    ts = int(round(t_s)) - FIT_EPOCH_UNIX_S
    ele_raw = 0xFFFFFFFF if not math.isfinite(ele) else int(round((ele + 500.0) * 5))
    spd_raw = 0xFFFFFFFF if not math.isfinite(spd) else int(round(spd * 1000))
    return struct.pack(
        "<BIiiII",
        1,
        ts,
        round(lat / _SEMICIRCLE_DEG),
        round(lon / _SEMICIRCLE_DEG),
        ele_raw,
        spd_raw,
    )


def fit_to_bytes(track: Track) -> bytes:
    """A FIT activity file holding ``track`` as ``record`` messages (``"utc"`` clock only)."""
    if track.clock != "utc":
        raise ValueError(f"FIT needs absolute times; this track's clock is {track.clock!r}.")
    v = track.only_valid()
    if len(v) and np.any(np.abs(v.t_s - np.round(v.t_s)) > 1e-3):
        warnings.warn("FIT records hold whole seconds; track times were rounded.", stacklevel=2)
    t0 = int(round(v.t_s[0])) if len(v) else FIT_EPOCH_UNIX_S
    body = _definition(0, 0, ((0, 1, 0x00), (1, 2, 0x84), (4, 4, 0x86)))
    body += struct.pack("<BBHI", 0, 4, 255, t0 - FIT_EPOCH_UNIX_S)  # activity, "development"
    body += _definition(1, 20, _RECORD_FIELDS)
    for i in range(len(v)):
        body += _record(v.t_s[i], v.lat_deg[i], v.lon_deg[i], v.ele_m[i], v.speed_m_s[i])
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", fit_crc(header))
    return header + body + struct.pack("<H", fit_crc(header + body))


def write_fit(track: Track, path: str | os.PathLike[str], force: bool = False) -> Path:
    """Write ``track`` as a FIT activity file (atomic; refuses an existing file unless ``force``)."""
    return write_bytes_atomic(path, fit_to_bytes(track), force=force)
