"""What every editor format shares: supported rates, frame snapping, colour policy, marker notes.

A transferred marker lands on the frame nearest ``t_new_s`` (seconds from the video's first
frame); the exported time is that frame plus the record start timecode. Markers outside the
overlap (``t_new_s`` NaN) are left out with one warning that counts them.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ..errors import ExportError, ImportMarkersError
from ..model import TransferredMarker
from ..timebase import STANDARD_RATES, is_drop_frame_rate, seconds_to_frame, timecode_to_frames

#: Frame rates whose timecode has two-digit frames: EDL and xmeml accept these.
TIMECODE_RATES: tuple[Fraction, ...] = tuple(r for r in STANDARD_RATES.values() if r <= 60)
#: FCPXML times are rationals, so every standard rate works there.
RATIONAL_RATES: tuple[Fraction, ...] = tuple(STANDARD_RATES.values())

#: A marker at or above this confidence (and not flagged) is "ok"; below it "borderline".
OK_CONFIDENCE = 0.8

_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOTE_TAG_RE = re.compile(r"\s*\[confidence (?P<conf>[0-9.]+)(?P<review>; needs review)?\]$")


@dataclass(frozen=True)
class ExportMarker:
    """One marker placed on a frame of the new video, ready for a writer."""

    name: str
    comment: str
    frame_idx: int  # 0-based frame of the new video
    confidence: float
    needs_review: bool
    duration_frames: int = 1  # a point marker spans one frame
    colour: str = ""  # the reference marker's own colour, lower case ("" when none)

    @property
    def status(self) -> str:
        """``"ok"``, ``"borderline"`` or ``"review"``: decides the marker's colour."""
        if self.needs_review:
            return "review"
        return "ok" if self.confidence >= OK_CONFIDENCE else "borderline"


def rate_label(fps: Fraction) -> str:
    """``29.97`` / ``25`` / ``30000/1001``: a rate as people name it."""
    for label, rate in STANDARD_RATES.items():
        if rate == fps:
            return label
    return f"{fps.numerator}/{fps.denominator}"


def check_rate(fps: Fraction, fmt: str, allowed: Sequence[Fraction] = TIMECODE_RATES) -> Fraction:
    """Return ``fps`` if ``fmt`` can carry it, else raise :class:`ExportError`."""
    fps = Fraction(fps)
    if fps not in allowed:
        names = ", ".join(rate_label(r) for r in allowed)
        raise ExportError(
            f"Frame rate {float(fps):.3f} fps ({rate_label(fps)}) is not supported by {fmt} "
            f"export. Supported: {names}. Conform the video to one of these rates."
        )
    return fps


def drop_mode(fps: Fraction, drop_frame: bool | None = None) -> bool:
    """Whether timecode at ``fps`` is drop-frame: the rate's default unless told (NTSC only)."""
    return is_drop_frame_rate(fps) and (drop_frame is None or drop_frame)


def start_frames(start_tc: str, fps: Fraction, drop_frame: bool | None = None) -> int:
    """Frame count of a record start timecode, read in the output's timecode mode.

    At 29.97 and 59.94 the digits are read as drop-frame (unless ``drop_frame`` is False)
    whatever the separator, so ``01:00:00:00`` means Resolve's ``01:00:00;00`` timeline start.
    """
    try:
        return timecode_to_frames(start_tc, fps, drop_frame=drop_mode(fps, drop_frame))
    except ValueError as err:
        raise ExportError(f"Start timecode {start_tc!r}: {err}") from err


def clean_text(text: str) -> str:
    """One line without ``|`` (the EDL field separator) or control characters."""
    text = " ".join(str(text).split())
    return text.replace("|", "/")


def safe_text(text: str) -> str:
    """``text`` without the control characters XML 1.0 cannot carry (editors reject them)."""
    return _NOT_XML_RE.sub("", str(text))


def format_note(name: str, comment: str, confidence: float, needs_review: bool) -> str:
    """The marker note: ``name: comment [confidence 0.82; needs review]``."""
    body = name.strip() + (f": {comment.strip()}" if comment.strip() else "")
    review = "; needs review" if needs_review else ""
    return f"{body} [confidence {confidence:.2f}{review}]"


def parse_note(note: str, name: str) -> str:
    """The comment inside a note written by :func:`format_note`; any other note whole."""
    note = note.strip()
    m = _NOTE_TAG_RE.search(note)
    if not m:
        return note
    body = note[: m.start()]
    name = name.strip()
    if body == name:
        return ""
    if body.startswith(name + ": "):
        return body[len(name) + 2 :]
    return body


def check_time(name: str, t_new_s: float, fps: Fraction | None, duration_s: float | None) -> None:
    """Raise :class:`ExportError` for a time before the first frame or past the video's end.

    Half a frame of slack either side: such a marker still lands on the first / last frame.
    """
    slack_s = 0.5 / float(fps) if fps else 0.0
    if t_new_s < -slack_s or math.isinf(t_new_s):
        raise ExportError(
            f"Marker {name!r} is at {t_new_s:.3f} s on the new run, before its "
            "first frame. Check the warp or the markers file."
        )
    if duration_s is not None and t_new_s > duration_s + slack_s:
        raise ExportError(
            f"Marker {name!r} is at {t_new_s:.3f} s, beyond the end of the video "
            f"({duration_s:.3f} s). Check that the markers belong to this video."
        )


def prepare_markers(
    markers: Sequence[TransferredMarker], fps: Fraction, duration_s: float | None = None
) -> list[ExportMarker]:
    """Snap markers to frames, drop those outside the overlap (one warning), check the range.

    Raises :class:`ExportError` for a marker before the first frame or after the video's end
    (more than half a frame past ``duration_s``), naming the marker and its time. A marker
    within that half frame lands on the last frame, never one past it (editors hide those).
    """
    out: list[ExportMarker] = []
    skipped = 0
    # within half a frame of the end a marker rounds to the frame after the last: keep it on it
    last = end_frame([], fps, duration_s) - 1 if duration_s is not None else math.inf
    for m in markers:
        t = float(m.t_new_s)
        if math.isnan(t):
            skipped += 1
            continue
        check_time(m.name, t, fps, duration_s)
        frame = min(max(0, seconds_to_frame(Fraction(t), fps)), last)
        conf = float(m.confidence) if not math.isnan(float(m.confidence)) else 0.0
        span = max(1, round(Fraction(float(getattr(m, "duration_s", 0.0) or 0.0)) * fps))
        out.append(
            ExportMarker(
                safe_text(m.name),
                safe_text(m.comment),
                frame,
                conf,
                bool(m.needs_review),
                duration_frames=span,
                colour=(m.colour or "").strip().lower(),
            )
        )
    if skipped:
        warnings.warn(
            f"{skipped} marker(s) outside the overlap of the two runs (no time on the "
            "new run) were left out of the export.",
            stacklevel=3,
        )
    out.sort(key=lambda e: e.frame_idx)
    return out


def end_frame(items: Sequence[ExportMarker], fps: Fraction, duration_s: float | None) -> int:
    """Length in frames of the exported clip: the video's, else one second past the last marker."""
    if duration_s is not None:
        return max(1, int(round(Fraction(duration_s) * fps)))
    last = max((e.frame_idx for e in items), default=0)
    return last + int(math.ceil(fps)) + 1


def read_text_lines(path: str | Path, what: str) -> list[str]:
    """UTF-8 lines of a file (BOM allowed); raise ImportMarkersError naming a bad line."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as err:
        raise ImportMarkersError(f"Cannot read {what} '{p}': {err.strerror or err}.") from err
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ImportMarkersError(
            f"'{p}' line {line}: not UTF-8 text (byte 0x{data[err.start]:02x}). "
            "Save the file as UTF-8 and try again."
        ) from err
    return text.splitlines()
