"""CMX3600 EDL in the marker form DaVinci Resolve imports as timeline markers.

One 1-frame event per marker; the line after it carries Resolve's marker convention::

    001  001      V     C        01:00:05;00 01:00:05;01 01:00:05;00 01:00:05;01
    drop: clean line [confidence 0.91] |C:ResolveColorGreen |M:drop |D:1

(note, colour, name, duration in frames; the colour is the reference marker's own when Resolve
has it, else green / yellow / red by confidence). In Resolve: right-click the timeline in the media
pool > Timelines > Import > Timeline Markers from EDL. At 29.97 and 59.94 the timecode is
drop-frame (``;``, ``FCM: DROP FRAME``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from ..errors import ExportError, ImportMarkersError
from ..model import Marker, TransferredMarker
from ..timebase import frames_to_timecode, timecode_to_frames
from .common import (
    TIMECODE_RATES,
    check_rate,
    clean_text,
    drop_mode,
    format_note,
    parse_note,
    prepare_markers,
    read_text_lines,
    start_frames,
)

#: Resolve's marker colours, by marker status.
RESOLVE_COLOURS = {
    "ok": "ResolveColorGreen",
    "borderline": "ResolveColorYellow",
    "review": "ResolveColorRed",
}
#: Resolve's marker colour names; a reference marker's own colour is kept when it is one.
RESOLVE_NAMED = {
    c.lower(): f"ResolveColor{c}"
    for c in [
        "Blue",
        "Cyan",
        "Green",
        "Yellow",
        "Red",
        "Pink",
        "Purple",
        "Fuchsia",
        "Rose",
        "Lavender",
        "Sky",
        "Mint",
        "Lemon",
        "Sand",
        "Cocoa",
        "Cream",
    ]
}
DEFAULT_START_TC = "01:00:00:00"
_MAX_EVENTS = 999
_INERT = "\u200b"  # zero-width space before a note that would start with `*`

_TC = r"\d{2}:\d{2}:\d{2}[:;.,]\d{2}"
_EVENT_RE = re.compile(
    rf"^(\d{{3,6}})\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+\d+)?\s+({_TC})\s+({_TC})"
    rf"\s+({_TC})\s+({_TC})\s*$"
)
_FIELD_RE = re.compile(r"\|([CMD]):([^|]*)")
_RESOLVE_RE = re.compile(
    r"^(?P<note>.*?)\s*\|C:(?P<colour>[^|]*?)\s*\|M:(?P<name>.*?)\s*\|D:\s*\d+\s*$"
)
_LOC_RE = re.compile(rf"^\*\s*LOC:\s*({_TC})\s+(\S+)\s*(.*)$")


def edl_to_string(
    markers: Sequence[TransferredMarker],
    *,
    fps: Fraction,
    start_tc: str | None = None,
    title: str = "mtbsync markers",
    duration_s: float | None = None,
    drop_frame: bool | None = None,
) -> str:
    """Resolve marker EDL text for ``markers`` on a timeline at ``fps`` starting at ``start_tc``.

    ``start_tc`` defaults to ``01:00:00:00`` (Resolve's timeline start). At 29.97 and 59.94 the
    timecode is drop-frame unless ``drop_frame`` is False (a camera that writes non-drop
    timecode, such as a GoPro): the EDL follows the camera.
    """
    fps = check_rate(fps, "EDL", TIMECODE_RATES)
    drop = drop_mode(fps, drop_frame)
    start = start_frames(start_tc or DEFAULT_START_TC, fps, drop)
    items = prepare_markers(markers, fps, duration_s)
    if len(items) > _MAX_EVENTS:
        raise ExportError(
            f"{len(items)} markers do not fit a CMX3600 EDL (at most {_MAX_EVENTS} "
            "events). Export FCPXML or Premiere XML instead."
        )
    lines = [
        f"TITLE: {clean_text(title)[:70]}",
        f"FCM: {'DROP FRAME' if drop else 'NON-DROP FRAME'}",
        "",
    ]
    for n, item in enumerate(items, start=1):
        rec_in = frames_to_timecode(start + item.frame_idx, fps, drop)
        rec_out = frames_to_timecode(start + item.frame_idx + item.duration_frames, fps, drop)
        lines.append(f"{n:03d}  001      V     C        {rec_in} {rec_out} {rec_in} {rec_out}")
        note = clean_text(format_note(item.name, item.comment, item.confidence, item.needs_review))
        if note.startswith("*"):  # else the note line reads as a CMX comment (`* LOC: ...`)
            note = _INERT + note
        colour = RESOLVE_NAMED.get(item.colour, RESOLVE_COLOURS[item.status])
        lines.append(f"{note} |C:{colour} |M:{clean_text(item.name)} |D:{item.duration_frames}")
        lines.append("")
    return "\n".join(lines)


def _colour_name(resolve_colour: str) -> str:
    """``ResolveColorRed`` -> ``red``."""
    c = resolve_colour.strip()
    return c[len("ResolveColor") :].lower() if c.startswith("ResolveColor") else c.lower()


def _guess_fps(drop: bool, max_ff: int, path: Path) -> Fraction:
    """The rate when the EDL itself proves it, else ask for ``--fps`` (never a silent guess)."""
    if drop and max_ff >= 30:  # frame digits 30-59 exist only at 59.94
        return Fraction(60000, 1001)
    kind = "drop-frame EDL could be 29.97 or 59.94" if drop else "non-drop-frame EDL"
    raise ImportMarkersError(
        f"'{path}': an EDL does not say its frame rate, and this {kind}. Pass the timeline's "
        "rate (e.g. --fps 29.97)."
    )


def _parse_comment(line: str) -> tuple[str, str, str] | None:
    """(name, colour, note) from a Resolve marker line, or None when it is not one.

    The fields are the trailing ``|C:... |M:... |D:n``; the note before them may hold ``|``.
    """
    m = _RESOLVE_RE.match(line)
    if m:
        return m["name"].strip(), _colour_name(m["colour"]), m["note"].strip().lstrip(_INERT)
    fields = dict((k, v.strip()) for k, v in _FIELD_RE.findall(line))
    if "M" not in fields and "C" not in fields:
        return None
    first = _FIELD_RE.search(line)
    note = line[: first.start()].strip() if first else ""
    return fields.get("M", ""), _colour_name(fields.get("C", "")), note.lstrip(_INERT)


def _scan(lines: list[str], path: Path) -> tuple[bool | None, list[tuple[int, str, str, str, str]]]:
    """(drop flag from FCM, [(line_no, record tc, name, colour, note)]).

    Lines between an event and its ``|C:`` marker line are the first lines of a multi-line
    note (Resolve writes them so), whatever they start with.
    """
    drop: bool | None = None
    found: list[tuple[int, str, str, str, str]] = []
    event: tuple[int, str] | None = None
    pending: list[str] = []
    for no, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.upper().startswith("TITLE:"):
            continue
        if line.upper().startswith("FCM:"):
            drop = "NON" not in line.upper() and "DROP" in line.upper()
            continue
        m = _EVENT_RE.match(line)
        if m:
            event, pending = (no, m[7]), []
            continue
        marker = _parse_comment(line) if "|" in line else None
        if marker is not None:
            if event is None:
                raise ImportMarkersError(
                    f"'{path}' line {no}: a marker comment before any event. Is this a marker EDL?"
                )
            name, colour, note = marker
            note = " ".join([*pending, note]).strip() if pending else note
            found.append((event[0], event[1], name, colour, note))
            event, pending = None, []
            continue
        loc = _LOC_RE.match(line)
        if loc:
            found.append((no, loc[1], loc[3].strip(), loc[2].lower(), ""))
        elif event is not None:
            pending.append(line)
        elif line[0].isdigit():
            raise ImportMarkersError(f"'{path}' line {no}: not a CMX3600 event line: {line[:60]!r}")
    return drop, found


def read_edl(
    path: str | Path, *, fps: Fraction | None = None, start_tc: str | None = None
) -> list[Marker]:
    """Markers from a Resolve marker EDL (or Avid ``* LOC:`` lines), in seconds from ``start_tc``.

    An EDL names neither its frame rate nor its timeline start: pass ``fps`` (only a drop-frame
    EDL whose frame digits reach 30, hence 59.94, is read without it; nothing is guessed). ``start_tc`` defaults to
    ``01:00:00:00`` when every marker lies at or after it, else ``00:00:00:00``.
    """
    p = Path(path)
    drop, found = _scan(read_text_lines(p, "EDL"), p)
    if drop is None and not found:
        raise ImportMarkersError(
            f"'{p}' holds no EDL events or markers. Export markers from "
            "your editor as an EDL (Resolve: Timelines > Export > Timeline "
            "Markers to EDL)."
        )
    drop = bool(drop) or any(";" in tc for _, tc, *_ in found)
    if fps is None:
        fps = _guess_fps(drop, max((int(tc[-2:]) for _, tc, *_ in found), default=0), p)
    frames: list[int] = []
    for no, tc, *_ in found:
        try:
            frames.append(timecode_to_frames(tc, fps, drop_frame=drop))
        except ValueError as err:
            raise ImportMarkersError(f"'{p}' line {no}: {err}") from err
    start = _timeline_start(start_tc, fps, drop, frames)
    out: list[Marker] = []
    for frame, (no, _, name, colour, note) in zip(frames, found, strict=True):
        if frame < start:
            raise ImportMarkersError(
                f"'{p}' line {no}: marker {name!r} lies before the "
                f"timeline start {frames_to_timecode(start, fps, drop)}. "
                "Pass the timeline's start timecode (--start-tc)."
            )
        out.append(
            Marker(
                name=name,
                t_ref_s=float(Fraction(frame - start) / fps),
                colour=colour,
                comment=parse_note(note, name),
            )
        )
    return out


def _timeline_start(start_tc: str | None, fps: Fraction, drop: bool, frames: list[int]) -> int:
    """Frame count of the timeline start (read in the EDL's own mode): given, else
    01:00:00:00 if no marker is before it, else 0."""
    try:
        if start_tc is not None:
            return start_frames(start_tc, fps, drop)
        hour = start_frames(DEFAULT_START_TC, fps, drop)
    except ExportError as err:
        raise ImportMarkersError(str(err)) from err
    return hour if all(f >= hour for f in frames) else 0
