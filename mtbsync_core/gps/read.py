"""One entry point for every track format: :func:`read_track` sniffs the content, then the name."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from ..errors import GpsParseError
from .track import Imu, Track

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".mov", ".360", ".lrv"}


def track_kind(path: str | os.PathLike[str]) -> str:
    """``"gpx"``, ``"fit"``, ``"video"`` or ``"gpmf-raw"`` from the first bytes, else the suffix
    (``"video"`` for a folder: a GoPro chapter set read as one recording)."""
    p = Path(path)
    if p.is_dir():
        return "video"
    try:
        with p.open("rb") as fh:
            head = fh.read(512)
    except OSError as err:
        raise GpsParseError(f"Could not open track '{p}': {err.strerror or err}.") from err
    if len(head) >= 12 and head[8:12] == b".FIT":
        return "fit"
    if len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return "video"
    if head[:4] == b"DEVC":
        return "gpmf-raw"
    if b"<gpx" in head or head.lstrip().startswith(b"<?xml"):
        return "gpx"
    suffix = p.suffix.lower()
    kinds = {".gpx": "gpx", ".fit": "fit", ".raw": "gpmf-raw", ".bin": "gpmf-raw"}
    if suffix in kinds:
        return kinds[suffix]
    if suffix in VIDEO_SUFFIXES:
        return "video"
    raise GpsParseError(
        f"'{p}' is not a GPX, FIT or GoPro telemetry file (suffix {suffix!r}, "
        "unrecognised content). Pass a .gpx, a .fit or the camera's MP4."
    )


def read_track(path: str | os.PathLike[str], backend: str = "gpmf-parser") -> Track:
    """Read a GPS track from a GPX, a FIT, a GoPro MP4/MOV (GPMF) or a raw GPMF payload.

    GPX and FIT tracks have a ``"utc"`` clock; telemetry from a video has the ``"video"`` clock.
    ``backend`` picks the telemetry parser for videos (see :mod:`mtbsync_core.gps.gpmf`).
    A folder holding one GoPro chapter set gives every chapter's fixes on the joined clock
    (see :mod:`mtbsync_core.gps.chapters`).
    Raises :class:`GpsParseError` for corrupt files and files without any GPS fix.
    """
    p = Path(path)
    if p.is_dir():
        from .chapters import read_chapter_track

        return read_chapter_track(p, lambda f: read_track(f, backend))
    kind = track_kind(p)
    if kind == "gpx":
        from .gpx import read_gpx

        return read_gpx(p)
    if kind == "fit":
        from .fit import read_fit

        return read_fit(p)
    from .gpmf import get_backend

    track = get_backend(backend).read_gps(p)
    if kind == "video" and backend == "gpmf-parser":
        name = camera_model(p)
        if name:
            from dataclasses import replace

            track = replace(track, camera=name)
    return track


def read_imu(path: str | os.PathLike[str], backend: str = "gpmf-parser") -> Imu:
    """ACCL / GYRO telemetry from a camera file (works without a GPS fix), or from a folder
    holding one GoPro chapter set (every chapter's samples, on the joined clock)."""
    from .gpmf import get_backend

    if Path(path).is_dir():
        from .chapters import read_chapter_imu

        return read_chapter_imu(path, get_backend(backend).read_imu)
    return get_backend(backend).read_imu(Path(path))


def camera_model(path: str | os.PathLike[str]) -> str:
    """The camera model telemetry-parser finds in a video (``""`` when it cannot tell)."""
    from .gpmf import TelemetryParserBackend

    try:
        return TelemetryParserBackend().camera(path)
    except GpsParseError as err:
        log.info("no camera model for %s: %s", path, err)
        return ""


def _parse_iso_utc(text: str) -> float | None:
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def creation_time_utc(path: str | os.PathLike[str]) -> float | None:
    """The MP4/MOV ``creation_time`` tag as UNIX seconds (None when absent or unreadable).

    Beware: GoPro and many cameras write their *local* clock here, labelled UTC, to the second.
    """
    import av

    try:
        with av.open(str(path)) as container:
            tags = [container.metadata] + [s.metadata for s in container.streams.video]
    except (av.error.FFmpegError, OSError) as err:
        log.info("no creation_time for %s: %s", path, err)
        return None
    for tags_ in tags:
        if "creation_time" in tags_:
            return _parse_iso_utc(tags_["creation_time"])
    return None


def video_start_utc(path: str | os.PathLike[str], source: str = "auto") -> float | None:
    """UTC (UNIX seconds) of a video's first frame, or None when the file does not tell.

    ``source="creation_time"`` reads the container's ``creation_time`` tag (camera clock, whole
    seconds, often local time mislabelled as UTC); ``"gps"`` the GoPro telemetry's GPS time
    (GPSU / GPS9, good to a fraction of a second); ``"auto"`` (default) prefers GPS time.
    """
    if source not in {"auto", "gps", "creation_time"}:
        raise ValueError(f"source must be 'auto', 'gps' or 'creation_time', not {source!r}")
    if source in {"auto", "gps"}:
        try:
            from .gpmf import get_backend

            utc0 = get_backend().read_gps(Path(path)).utc_at_video_zero_s
        except GpsParseError:
            utc0 = None
        if utc0 is not None or source == "gps":
            return utc0
    return creation_time_utc(path)
