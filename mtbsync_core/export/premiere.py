"""Premiere Pro markers as FCP7 XML (xmeml version 4): sequence markers with ``pproColor``.

Premiere imports no marker CSV; File > Import of this XML makes a sequence holding the new
video with one sequence marker per transferred marker. Marker ``in`` is a frame count from the
sequence start; ``out`` -1 makes a point marker, as Premiere writes them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path, PureWindowsPath
from urllib.parse import quote

from ..errors import ImportMarkersError
from ..model import Marker, TransferredMarker
from ..timebase import frames_to_timecode, timecode_base
from .common import (
    TIMECODE_RATES,
    check_rate,
    drop_mode,
    end_frame,
    format_note,
    parse_note,
    prepare_markers,
    start_frames,
)
from .xmlutil import child_text, line_of, parse_xml, xml_declaration

#: Premiere's own marker colour integers (as its XML exports write them).
PPRO_COLOURS: dict[str, int] = {
    "red": 4281740498,
    "orange": 4280578025,
    "yellow": 4281049552,
    "green": 4281828977,
    "cyan": 4292277273,
    "blue": 4294741314,
    "magenta": 4289825711,
}
_STATUS_COLOUR = {"ok": "green", "borderline": "yellow", "review": "red"}


def _sub(parent: ET.Element, tag: str, text: object | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = str(text)
    return el


def _rate(parent: ET.Element, fps: Fraction) -> None:
    rate = _sub(parent, "rate")
    _sub(rate, "timebase", timecode_base(fps))
    _sub(rate, "ntsc", "TRUE" if fps.denominator == 1001 else "FALSE")


def _timecode(parent: ET.Element, fps: Fraction, frame: int, drop: bool) -> None:
    tc = _sub(parent, "timecode")
    _rate(tc, fps)
    _sub(tc, "string", frames_to_timecode(frame, fps, drop))
    _sub(tc, "frame", frame)
    _sub(tc, "displayformat", "DF" if drop else "NDF")


def path_url(video_path: str) -> str:
    """``file://localhost/...`` as Premiere writes it, for POSIX and Windows (``C:\\...``) paths."""
    if re.match(r"^[A-Za-z]:[\\/]", video_path) or video_path.startswith("\\\\"):
        posix = PureWindowsPath(video_path).as_posix().lstrip("/")
        return "file://localhost/" + quote(posix)
    return "file://localhost" + quote(Path(video_path).resolve().as_posix())


def _clipitem(
    track: ET.Element,
    fps: Fraction,
    n_frames: int,
    start: int,
    drop: bool,
    video_name: str,
    video_path: str | None,
    size: tuple[int, int],
) -> None:
    clip = _sub(track, "clipitem", id="clipitem-1")
    _sub(clip, "name", video_name)
    _sub(clip, "enabled", "TRUE")
    _sub(clip, "duration", n_frames)
    _rate(clip, fps)
    for tag, value in (("start", 0), ("end", n_frames), ("in", 0), ("out", n_frames)):
        _sub(clip, tag, value)
    file_el = _sub(clip, "file", id="file-1")
    _sub(file_el, "name", video_name)
    _sub(file_el, "pathurl", path_url(video_path) if video_path else quote(video_name))
    _rate(file_el, fps)
    _sub(file_el, "duration", n_frames)
    _timecode(file_el, fps, start, drop)
    chars = _sub(_sub(_sub(file_el, "media"), "video"), "samplecharacteristics")
    _rate(chars, fps)
    _sub(chars, "width", size[0])
    _sub(chars, "height", size[1])


def premiere_xml_to_string(
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
) -> str:
    """xmeml text: a sequence at ``fps`` starting at ``start_tc`` with the markers on it.

    ``drop_frame=False`` keeps a 29.97 camera's non-drop timecode display.
    """
    fps = check_rate(fps, "Premiere XML", TIMECODE_RATES)
    items = prepare_markers(markers, fps, duration_s)
    drop = drop_mode(fps, drop_frame)
    start = start_frames(start_tc or "00:00:00:00", fps, drop)
    n_frames = end_frame(items, fps, duration_s)
    size = (width or 1920, height or 1080)
    root = ET.Element("xmeml", version="4")
    seq = _sub(root, "sequence", id="sequence-1")
    _sub(seq, "name", title)
    _sub(seq, "duration", n_frames)
    _rate(seq, fps)
    video = _sub(_sub(seq, "media"), "video")
    chars = _sub(_sub(video, "format"), "samplecharacteristics")
    _rate(chars, fps)
    _sub(chars, "width", size[0])
    _sub(chars, "height", size[1])
    _sub(chars, "pixelaspectratio", "square")
    _clipitem(_sub(video, "track"), fps, n_frames, start, drop, video_name, video_path, size)
    _timecode(seq, fps, start, drop)
    for item in items:
        marker = _sub(seq, "marker")
        _sub(
            marker,
            "comment",
            format_note(item.name, item.comment, item.confidence, item.needs_review),
        )
        _sub(marker, "name", item.name)
        _sub(marker, "in", item.frame_idx)
        _sub(
            marker, "out", item.frame_idx + item.duration_frames if item.duration_frames > 1 else -1
        )
        colour = item.colour if item.colour in PPRO_COLOURS else _STATUS_COLOUR[item.status]
        _sub(marker, "pproColor", PPRO_COLOURS[colour])
    ET.indent(root, space="    ")
    return xml_declaration() + "<!DOCTYPE xmeml>\n" + ET.tostring(root, "unicode") + "\n"


def _read_rate(el: ET.Element, path: Path) -> Fraction:
    rate = el.find("rate")
    try:
        base = int(child_text(rate, "timebase")) if rate is not None else 0
    except ValueError:
        base = 0
    if base <= 0:
        raise ImportMarkersError(f"'{path}'{line_of(el)}: <{el.tag}> has no <rate><timebase>.")
    ntsc = rate is not None and child_text(rate, "ntsc").upper() == "TRUE"
    return Fraction(base * 1000, 1001) if ntsc else Fraction(base)


def _int(el: ET.Element, tag: str, path: Path, default: int | None = None) -> int:
    text = child_text(el, tag)
    if not text and default is not None:
        return default
    try:
        value = int(text)
        if abs(value) > 10**10:  # frames: far beyond any real timeline
            raise ValueError(text)
        return value
    except ValueError as err:
        raise ImportMarkersError(
            f"'{path}'{line_of(el)}: <{tag}> of a <{el.tag}> is {text!r}, not a frame number."
        ) from err


def _colour(el: ET.Element) -> str:
    text = child_text(el, "pproColor")
    by_value = {v: k for k, v in PPRO_COLOURS.items()}
    return by_value.get(int(text), "") if text.isdigit() else ""


def read_premiere_xml(path: str | Path) -> list[Marker]:
    """Markers of the first sequence of an xmeml file, in seconds from the sequence start.

    Sequence markers are read as they are; markers on clip items are moved to sequence time
    (``start + in - clip in``), and those outside the clip's in/out (not on the timeline) are
    left out. An unnamed marker (Premiere's default) is named after its timecode.
    """
    p = Path(path)
    root = parse_xml(p, "Premiere XML")
    if root.tag != "xmeml":
        raise ImportMarkersError(f"'{p}' is XML but not FCP7/Premiere XML (root <{root.tag}>).")
    seq = root.find("sequence")
    if seq is None:
        seq = root.find(".//sequence")
    if seq is None:
        raise ImportMarkersError(f"'{p}' has no <sequence>. Export a sequence from Premiere.")
    fps = _read_rate(seq, p)
    found: list[tuple[int, ET.Element]] = [(0, m) for m in seq.findall("marker")]
    for clip in seq.findall("./media/video/track/clipitem"):
        c_in, c_out = _int(clip, "in", p, 0), _int(clip, "out", p, -1)
        shift = _int(clip, "start", p, 0) - c_in
        for m in clip.findall("marker"):
            at = _int(m, "in", p)
            if at >= c_in and (c_out < 0 or at < c_out):  # else trimmed off the timeline
                found.append((shift, m))
    out = []
    for shift, el in found:
        frame = _int(el, "in", p) + shift
        if frame < 0:  # a clip marker before the clip's place on the timeline
            continue
        name = child_text(el, "name") or f"Marker {frames_to_timecode(frame, fps)}"
        out.append(
            Marker(
                name=name,
                t_ref_s=float(Fraction(frame) / fps),
                colour=_colour(el),
                comment=parse_note(child_text(el, "comment"), name),
            )
        )
    return sorted(out, key=lambda m: m.t_ref_s)
