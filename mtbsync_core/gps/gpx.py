"""GPX tracks: read with gpxpy (errors name the line), write GPX 1.1 atomically.

Speed, which GPX 1.1 lacks, is read from GPX 1.0 ``<speed>`` or any ``<speed>`` extension and
written as Garmin's ``gpxtpx:TrackPointExtension/gpxtpx:speed``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from pathlib import Path

import numpy as np

from ..errors import GpsParseError
from ..fileio import write_text_atomic
from .track import Track, make_track

_POINT_TAG = re.compile(rb"<(?:\w+:)?(trkpt|rtept)\b")
_LINE_COL = re.compile(r"line (\d+)")
_FIX = {"none": 0, "2d": 2, "3d": 3, "dgps": 3, "pps": 3}
TPX_NS = "http://www.garmin.com/xmlschemas/TrackPointExtension/v2"  # Garmin's speed extension


def _speed(pt) -> float:
    """A point's speed (m/s): GPX 1.0 <speed>, or a <speed> inside its extensions; else NaN."""
    if pt.speed is not None:
        return float(pt.speed)
    for ext in pt.extensions:
        for el in ext.iter():
            if el.tag.rsplit("}", 1)[-1] == "speed" and el.text:
                try:
                    return float(el.text)
                except ValueError:
                    return math.nan
    return math.nan


def _point_lines(data: bytes) -> list[int]:
    """1-based line number of each <trkpt>/<rtept> opening tag, in document order."""
    starts = [m.start() for m in _POINT_TAG.finditer(data)]
    return [data.count(b"\n", 0, s) + 1 for s in starts]


def _points(gpx) -> list:
    """All track points (or, when there are none, route points) in document order."""
    pts = [p for trk in gpx.tracks for seg in trk.segments for p in seg.points]
    return pts or [p for rte in gpx.routes for p in rte.points]


def read_gpx(path: str | os.PathLike[str]) -> Track:
    """Read a GPX file's track points (route points if it has no track) as a ``"utc"`` Track.

    Raises :class:`GpsParseError` naming the line for malformed XML, a point without a time or
    with an impossible coordinate, and a file with no points at all.
    """
    import gpxpy
    import gpxpy.gpx

    p = Path(path)
    data = p.read_bytes()
    try:
        gpx = gpxpy.parse(data.decode("utf-8", errors="replace"))
    except gpxpy.gpx.GPXException as err:
        m = _LINE_COL.search(str(err))
        where = f" at line {m.group(1)}" if m else ""
        raise GpsParseError(
            f"Could not read GPX '{p}'{where}: {err}. Check the file is a complete "
            "GPX export (re-export it from the device or app)."
        ) from err
    pts = _points(gpx)
    if not pts:
        raise GpsParseError(f"GPX '{p}' has no track or route points. Export the ride as a track.")
    lines = _point_lines(data)
    n = len(pts)
    cols = {k: np.full(n, np.nan) for k in ("t", "lat", "lon", "ele", "speed")}
    fix = np.full(n, 3, np.int64)
    for i, pt in enumerate(pts):
        line = lines[i] if i < len(lines) and len(lines) == n else None
        _check_point(p, pt, i, line)
        cols["t"][i] = pt.time.timestamp()
        cols["lat"][i], cols["lon"][i] = pt.latitude, pt.longitude
        cols["ele"][i] = pt.elevation if pt.elevation is not None else math.nan
        cols["speed"][i] = _speed(pt)
        fix[i] = _FIX.get(str(pt.type_of_gpx_fix or "3d").lower(), 3)
    creator = getattr(gpx, "creator", None) or ""
    return make_track(
        cols["t"],
        cols["lat"],
        cols["lon"],
        cols["ele"],
        cols["speed"],
        fix,
        source="gpx",
        clock="utc",
        camera="",
        details={"creator": creator, "path": str(p)},
    )


def _check_point(p: Path, pt, i: int, line: int | None) -> None:
    where = f"point {i + 1}" + (f" (line {line})" if line else "")
    if pt.time is None:
        raise GpsParseError(
            f"GPX '{p}' {where} has no readable <time>. mtbsync needs timed track "
            "points; export the ride with timestamps."
        )
    if pt.time.tzinfo is None:
        pt.time = pt.time.replace(tzinfo=dt.UTC)
    if not (-90.0 <= pt.latitude <= 90.0 and -180.0 <= pt.longitude <= 180.0):
        raise GpsParseError(
            f"GPX '{p}' {where} has an impossible position "
            f"lat={pt.latitude}, lon={pt.longitude}. Fix or remove that point."
        )


def gpx_to_string(track: Track, name: str = "mtbsync track") -> str:
    """A GPX 1.1 document of the track's fixes. Needs a ``"utc"`` clock (GPX times are absolute)."""
    import gpxpy.gpx

    if track.clock != "utc":
        raise ValueError(
            f"GPX needs absolute times; this track's clock is {track.clock!r}. "
            "Shift it by the video's start UTC first (Track.shifted(-start_utc_s))."
        )
    from xml.etree import ElementTree as ET

    gpx = gpxpy.gpx.GPX()
    gpx.creator = "mtbsync"
    gpx.nsmap["gpxtpx"] = TPX_NS
    trk = gpxpy.gpx.GPXTrack(name=name)
    seg = gpxpy.gpx.GPXTrackSegment()
    gpx.tracks.append(trk)
    trk.segments.append(seg)
    for i in range(len(track)):
        ele = float(track.ele_m[i]) if np.isfinite(track.ele_m[i]) else None
        when = dt.datetime.fromtimestamp(float(track.t_s[i]), tz=dt.UTC)
        pt = gpxpy.gpx.GPXTrackPoint(
            float(track.lat_deg[i]), float(track.lon_deg[i]), elevation=ele, time=when
        )
        pt.type_of_gpx_fix = {0: "none", 2: "2d"}.get(int(track.fix[i]))
        if np.isfinite(track.speed_m_s[i]):
            ext = ET.Element(f"{{{TPX_NS}}}TrackPointExtension")
            ET.SubElement(ext, f"{{{TPX_NS}}}speed").text = f"{float(track.speed_m_s[i]):.3f}"
            pt.extensions.append(ext)
        seg.points.append(pt)
    return gpx.to_xml(version="1.1")


def write_gpx(track: Track, path: str | os.PathLike[str], force: bool = False) -> Path:
    """Write ``track`` as GPX 1.1 (atomic; refuses an existing file unless ``force``)."""
    return write_text_atomic(path, gpx_to_string(track), force=force)
