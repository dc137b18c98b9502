"""FCPXML 1.10 for Final Cut Pro: one project with the new video as an asset-clip, markers inside.

Times are exact rationals on frame boundaries (``1001/30000s``), never floats. Final Cut markers
have no free colour, so markers that need review become to-do markers (``completed="0"``).
The clip's source start, the sequence's ``tcStart`` and the clip's ``offset`` are all the record
start timecode, so the timeline shows the camera's own timecode.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from ..errors import ImportMarkersError
from ..model import Marker, TransferredMarker
from ..timebase import format_fraction_s, parse_fraction_s
from .common import (
    RATIONAL_RATES,
    check_rate,
    drop_mode,
    end_frame,
    format_note,
    parse_note,
    prepare_markers,
    start_frames,
)
from .xmlutil import line_of, parse_xml, xml_declaration

FCPXML_VERSION = "1.10"
_MAX_TIME_S = 10**7  # no real timeline time is longer (about 115 days)
_CLIP_TAGS = {
    "asset-clip",
    "clip",
    "ref-clip",
    "sync-clip",
    "mc-clip",
    "video",
    "audio",
    "title",
    "gap",
    "spine",
}


def fcpxml_to_string(
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
    """FCPXML text: ``markers`` inside an asset-clip of the new video at ``fps``.

    ``start_tc`` (default ``00:00:00:00``) is the video's own start timecode; ``video_path``
    (absolute file URL in the media-rep) lets Final Cut link the media; ``width``/``height``
    default to 1920x1080 when unknown. ``drop_frame=False`` keeps a 29.97 camera's non-drop
    timecode display (``tcFormat="NDF"``). With ``audio_channels`` and ``audio_rate_hz`` (the
    camera's sound) the asset says it has audio, so Final Cut brings the sound in too.
    """
    fps = check_rate(fps, "FCPXML", RATIONAL_RATES)
    items = prepare_markers(markers, fps, duration_s)
    frame_s = Fraction(1) / fps
    start = Fraction(start_frames(start_tc or "00:00:00:00", fps, drop_frame)) * frame_s
    dur = end_frame(items, fps, duration_s) * frame_s
    tc_format = "DF" if drop_mode(fps, drop_frame) else "NDF"
    src = Path(video_path).resolve().as_uri() if video_path else video_name
    clip_name = Path(video_name).stem or video_name

    root = ET.Element("fcpxml", version=FCPXML_VERSION)
    res = ET.SubElement(root, "resources")
    ET.SubElement(
        res,
        "format",
        id="r1",
        frameDuration=format_fraction_s(frame_s),
        width=str(width or 1920),
        height=str(height or 1080),
    )
    asset = ET.SubElement(
        res,
        "asset",
        id="r2",
        name=clip_name,
        start=format_fraction_s(start),
        duration=format_fraction_s(dur),
        hasVideo="1",
        format="r1",
        videoSources="1",
        **_audio_attrs(audio_channels, audio_rate_hz),
    )
    ET.SubElement(asset, "media-rep", kind="original-media", src=src)
    event = ET.SubElement(ET.SubElement(root, "library"), "event", name="mtbsync")
    project = ET.SubElement(event, "project", name=title)
    seq = ET.SubElement(
        project,
        "sequence",
        format="r1",
        duration=format_fraction_s(dur),
        tcStart=format_fraction_s(start),
        tcFormat=tc_format,
    )
    spine = ET.SubElement(seq, "spine")
    clip = ET.SubElement(
        spine,
        "asset-clip",
        ref="r2",
        offset=format_fraction_s(start),
        name=clip_name,
        start=format_fraction_s(start),
        duration=format_fraction_s(dur),
        format="r1",
        tcFormat=tc_format,
    )
    for item in items:
        attrs = {
            "start": format_fraction_s(start + item.frame_idx * frame_s),
            "duration": format_fraction_s(item.duration_frames * frame_s),
            "value": item.name,
            "note": format_note(item.name, item.comment, item.confidence, item.needs_review),
        }
        if item.status == "review":
            attrs["completed"] = "0"
        ET.SubElement(clip, "marker", attrs)
    ET.indent(root, space="    ")
    return xml_declaration() + "<!DOCTYPE fcpxml>\n\n" + ET.tostring(root, "unicode") + "\n"


def _audio_attrs(channels: int, rate_hz: int) -> dict[str, str]:
    """The asset's audio attributes, as Final Cut writes them for a camera file with sound."""
    if channels <= 0 or rate_hz <= 0:
        return {}
    return {
        "hasAudio": "1",
        "audioSources": "1",
        "audioChannels": str(channels),
        "audioRate": str(rate_hz),
    }


def _time(el: ET.Element, attr: str, path: Path) -> Fraction:
    value = el.get(attr)
    if value is None:
        return Fraction(0)
    try:
        t = parse_fraction_s(value)
        if abs(t) > _MAX_TIME_S:
            raise ValueError(value)
        return t
    except (ValueError, ZeroDivisionError) as err:
        raise ImportMarkersError(
            f"'{path}'{line_of(el)}: <{el.tag} {attr}={value!r}> is not a "
            "rational time like 1001/30000s."
        ) from err


def _check_conform(clip: ET.Element, seq_fps: float | None, path: Path) -> None:
    """Refuse a clip whose ``<conform-rate>`` plays it at another speed (markers would move)."""
    conform = clip.find("conform-rate")
    if conform is None or conform.get("scaleEnabled", "1") == "0" or not seq_fps:
        return
    try:
        src = float(conform.get("srcFrameRate", ""))
    except ValueError:
        return
    if abs(src - seq_fps) > 0.01 * seq_fps:
        raise ImportMarkersError(
            f"'{path}'{line_of(clip)}: clip {clip.get('name', '')!r} is conformed from {src:g} fps "
            f"to the project's {seq_fps:.3f} fps, which changes its speed; its markers cannot be "
            "placed exactly. Turn off Rate Conform for it in Final Cut, or export from a project at "
            "the clip's rate."
        )


def _sequence_fps(root: ET.Element, seq: ET.Element, path: Path) -> float | None:
    """The sequence's frame rate from its format's ``frameDuration`` (None when unknown)."""
    for fmt in root.iter("format"):
        if fmt.get("id") == seq.get("format") and fmt.get("frameDuration"):
            dur = _time(fmt, "frameDuration", path)
            return float(1 / dur) if dur > 0 else None
    return None


def _walk(
    spine: ET.Element, path: Path, seq_fps: float | None = None
) -> list[tuple[Fraction, ET.Element]]:
    """(sequence time, marker element) of every marker Final Cut shows below ``spine``.

    Iterative (a deeply nested file cannot exhaust the stack). Only an ``<audition>``'s first
    child (its active pick) counts, and a marker outside its clip's ``start``/``duration``
    (trimmed away) is not on the timeline.
    """
    out: list[tuple[Fraction, ET.Element]] = []
    # (element, its time -> sequence time as (offset, start) pairs from the inside out, range)
    stack: list[tuple[ET.Element, tuple, tuple[Fraction, Fraction] | None]] = [(spine, (), None)]
    while stack:
        el, chain, visible = stack.pop()
        children = list(el)
        if el.tag == "audition":
            children = [c for c in children if c.tag in _CLIP_TAGS][:1]
        for child in children:
            if child.tag in ("marker", "chapter-marker"):
                t = _time(child, "start", path)
                if visible is not None and not visible[0] <= t < visible[1]:
                    continue
                for offset, start in chain:
                    t = offset + t - start
                out.append((t, child))
            elif child.tag in _CLIP_TAGS or child.tag == "audition":
                offset = _time(child, "offset", path)
                cstart = _time(child, "start", path)
                dur = child.get("duration")
                rng = (cstart, cstart + _time(child, "duration", path)) if dur else None
                _check_conform(child, seq_fps, path)
                if child.tag == "audition":  # no time of its own: its pick sits where it says
                    stack.append((child, chain, visible))
                else:
                    # a child's local time t sits at offset + (t - start) in its parent's time
                    stack.append((child, ((offset, cstart), *chain), rng))
    return out


def _marker_colour(el: ET.Element) -> str:
    completed = el.get("completed")
    if completed is None:
        return ""
    return "green" if completed == "1" else "red"


def read_fcpxml(path: str | Path) -> list[Marker]:
    """Markers of the first project's sequence, in seconds from the sequence's ``tcStart``.

    Reads markers and chapter markers on clips in the spine, nested clips included; to-do
    markers come back red (green when completed). A ``.fcpxmld`` bundle is read too.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "Info.fcpxml"
    root = parse_xml(p, "FCPXML")
    if root.tag != "fcpxml":
        raise ImportMarkersError(f"'{p}' is XML but not FCPXML (root <{root.tag}>).")
    seq = root.find(".//project/sequence")
    if seq is None:
        raise ImportMarkersError(
            f"'{p}' has no <project><sequence>. Export a project "
            "(not just an event or clip) from Final Cut."
        )
    tc_start = _time(seq, "tcStart", p)
    spine = seq.find("spine")
    found = _walk(spine, p, _sequence_fps(root, seq, p)) if spine is not None else []
    out = []
    for t, el in sorted(found, key=lambda x: x[0]):
        name = el.get("value", "")
        out.append(
            Marker(
                name=name,
                t_ref_s=float(t - tc_start),
                colour=_marker_colour(el),
                comment=parse_note(el.get("note", ""), name),
            )
        )
    return out
