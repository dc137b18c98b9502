"""One entry for every format: :func:`export_to_string`, :func:`write_export`,
:func:`read_markers_file`."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from ..errors import ExportError, ImportMarkersError
from ..fileio import check_writable, write_text_atomic
from ..model import Marker, TransferredMarker
from ..timebase import parse_fps
from .common import check_time
from .csv_json import csv_to_string, json_to_string
from .edl import edl_to_string, read_edl
from .fcpxml import fcpxml_to_string, read_fcpxml
from .premiere import premiere_xml_to_string, read_premiere_xml

log = logging.getLogger(__name__)

FORMATS = ("edl", "fcpxml", "premiere", "csv", "json")
#: The record start when neither the caller nor the video gives one (every format alike).
NO_TIMECODE_START_TC = "00:00:00:00"
SUFFIXES = {"edl": ".edl", "fcpxml": ".fcpxml", "premiere": ".xml", "csv": ".csv", "json": ".json"}


def export_to_string(
    fmt: str,
    markers: Sequence[TransferredMarker],
    *,
    fps: Fraction,
    start_tc: str | None = None,
    video_name: str = "new.mp4",
    duration_s: float | None = None,
    title: str = "mtbsync markers",
    video_path: str | None = None,
    width: int | None = None,
    height: int | None = None,
    drop_frame: bool | None = None,
    audio_channels: int = 0,
    audio_rate_hz: int = 0,
) -> str:
    """The text of ``markers`` in ``fmt`` (one of :data:`FORMATS`) at ``fps``.

    ``start_tc`` is the record start, the same rule for every format: pass the video's own
    start timecode (:func:`video_export_options` reads it); without one, ``00:00:00:00``.
    ``drop_frame`` overrides the rate's timecode mode, for a 29.97 camera that writes non-drop
    timecode (every format follows it, the EDL included).
    """
    if fmt == "edl":
        return edl_to_string(
            markers,
            fps=fps,
            start_tc=start_tc or NO_TIMECODE_START_TC,
            title=title,
            duration_s=duration_s,
            drop_frame=drop_frame,
        )
    xml_args = {
        "fps": fps,
        "start_tc": start_tc or NO_TIMECODE_START_TC,
        "video_name": video_name,
        "duration_s": duration_s,
        "title": title,
        "video_path": video_path,
        "width": width,
        "height": height,
        "drop_frame": drop_frame,
    }
    if fmt == "fcpxml":
        return fcpxml_to_string(
            markers, audio_channels=audio_channels, audio_rate_hz=audio_rate_hz, **xml_args
        )
    if fmt == "premiere":
        return premiere_xml_to_string(markers, **xml_args)
    if fmt in ("csv", "json"):
        for m in markers:  # the data formats keep NaN (outside overlap) rows, but check the rest
            if not math.isnan(m.t_new_s):
                check_time(m.name, m.t_new_s, fps, duration_s)
    if fmt == "csv":
        return csv_to_string(markers)
    if fmt == "json":
        return json_to_string(
            markers,
            fps=fps,
            start_tc=start_tc or NO_TIMECODE_START_TC,
            video_name=video_name,
            title=title,
            drop_frame=drop_frame,
        )
    raise ValueError(f"Unknown export format {fmt!r}; use one of {', '.join(FORMATS)}.")


def video_export_options(video_path: str | os.PathLike[str]) -> dict:
    """What an export takes from the new run's video: rate, duration, probed size, name, start.

    ``start_tc`` is the camera's own start timecode when the file has one (shown in its own
    mode: a GoPro writes non-drop at 29.97), else ``00:00:00:00``; ``start_tc_source`` says
    which (``"camera"`` or ``"default"``). Pass the rest to :func:`export_to_string`.
    """
    from ..video.timecode import read_video_timing  # PyAV only when a video is read

    timing = read_video_timing(video_path)
    opts: dict = {
        "fps": timing.fps,
        "duration_s": timing.duration_s,
        "video_name": Path(video_path).name,
        "video_path": str(video_path),
        "width": timing.width,
        "height": timing.height,
        "audio_channels": timing.audio_channels,
        "audio_rate_hz": timing.audio_rate_hz,
        "start_tc": timing.start_tc or NO_TIMECODE_START_TC,
        "start_tc_source": "camera" if timing.start_tc else "default",
    }
    if timing.start_tc:
        opts["drop_frame"] = any(sep in timing.start_tc for sep in ";,.")
    return opts


def write_export(
    fmt: str,
    markers: Sequence[TransferredMarker],
    path: str | os.PathLike[str],
    *,
    video_path: str | None = None,
    fps: Fraction | None = None,
    start_tc: str | None = None,
    force: bool = False,
) -> Path:
    """Write ``markers`` as ``fmt`` to ``path`` atomically; refuse an existing file unless ``force``.

    With ``video_path`` the frame rate, duration, size and start timecode come from the video
    (``fps`` must then be None; see :func:`video_export_options`); markers beyond its end raise
    :class:`ExportError`. Without a video, ``fps`` is required (except for csv). ``start_tc``
    overrides the record start for every format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}; use one of {', '.join(FORMATS)}.")
    check_writable(path, force)
    opts: dict = {}
    if video_path is not None:
        if fps is not None:
            raise ValueError("Pass either video_path or fps, not both: the video's rate is used.")
        opts = video_export_options(video_path)
        fps = opts.pop("fps")
        opts.pop("start_tc_source")
        camera_tc = opts.pop("start_tc")
        if start_tc is None:
            start_tc = camera_tc
        # drop_frame stays the camera's even under another start (issue 13 item 17)
        log.info("%s: %s fps, start timecode %s", video_path, fps, start_tc)
    elif fps is None and fmt != "csv":
        raise ExportError(
            f"A {fmt} export needs the frame rate: pass the video (--video) or its rate (--fps)."
        )
    if fps is not None:
        fps = parse_fps(fps)
    text = export_to_string(fmt, markers, fps=fps, start_tc=start_tc, **opts)  # type: ignore[arg-type]
    return write_text_atomic(path, text, force=force)


def sniff_format(path: str | os.PathLike[str]) -> str:
    """``"edl"``, ``"fcpxml"`` or ``"premiere"`` from a file's content."""
    p = Path(path)
    if p.is_dir():
        if (p / "Info.fcpxml").is_file():
            return "fcpxml"
        raise ImportMarkersError(f"'{p}' is a folder, not a markers file.")
    if not p.is_file():
        raise ImportMarkersError(f"Markers file '{p}' does not exist. Check the path.")
    with p.open("rb") as fh:
        head = fh.read(4096)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<"):
        root = _xml_root_tag(p)
        if root == "fcpxml":
            return "fcpxml"
        if root == "xmeml":
            return "premiere"
        raise ImportMarkersError(
            f"'{p}' is XML (root <{root}>) but neither FCPXML nor Premiere (xmeml) XML."
        )
    if text.upper().startswith(("TITLE:", "FCM:")) or "|M:" in text or "* LOC:" in text.upper():
        return "edl"
    raise ImportMarkersError(
        f"'{p}' is not an EDL, FCPXML or Premiere XML file. Export "
        "markers from your editor in one of those forms."
    )


class _Root(Exception):
    """Stops the sniffing parser at the first element."""


def _xml_root_tag(p: Path, chunk: int = 1 << 16) -> str:
    """Name of the root element, however long the comments or DOCTYPE before it."""
    from xml.parsers import expat

    parser = expat.ParserCreate()

    def start(tag: str, attrs: dict) -> None:
        raise _Root(tag)

    parser.StartElementHandler = start
    try:
        with p.open("rb") as fh:
            while data := fh.read(chunk):
                parser.Parse(data, False)
            parser.Parse(b"", True)
    except _Root as found:
        return str(found.args[0])
    except expat.ExpatError as err:
        raise ImportMarkersError(
            f"'{p}' line {err.lineno}: malformed XML ({expat.ErrorString(err.code)})."
        ) from err
    except (LookupError, ValueError) as err:  # an unknown encoding in the declaration
        raise ImportMarkersError(f"'{p}': cannot read this XML ({str(err)[:80]}).") from err
    raise ImportMarkersError(f"'{p}' is XML without any element. Export markers again.")


def read_markers_file(
    path: str | os.PathLike[str], *, fps: Fraction | None = None, start_tc: str | None = None
) -> list[Marker]:
    """Markers from an EDL, FCPXML or Premiere XML file (detected from its content).

    ``fps`` and ``start_tc`` matter only for EDLs, which do not carry them (see :func:`read_edl`).
    """
    fmt = sniff_format(path)
    if fmt == "fcpxml":
        return read_fcpxml(path)
    if fmt == "premiere":
        return read_premiere_xml(path)
    return read_edl(path, fps=parse_fps(fps) if fps is not None else None, start_tc=start_tc)
