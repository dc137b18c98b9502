"""Plain data exports: the transferred-marker CSV and the ``mtbsync.markers`` JSON.

Unlike the editor formats these keep markers outside the overlap (empty ``t_new`` / ``null``),
because they are records of the transfer, not timelines. Also here: reading the transferred CSV
that ``mtbsync export`` takes, and writing the reference marker CSV ``import-markers`` makes.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from ..errors import MarkerFileError
from ..model import Marker, TransferredMarker
from ..timebase import frames_to_timecode, seconds_to_frame
from .common import drop_mode, start_frames

TRANSFERRED_COLUMNS = ("name", "t_ref", "t_new", "confidence", "needs_review", "comment")
REFERENCE_COLUMNS = ("name", "t_ref", "colour", "comment")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}


def _num(x: float) -> str:
    return "" if math.isnan(x) else f"{x:.3f}"


def csv_to_string(markers: Sequence[TransferredMarker]) -> str:
    """``name,t_ref,t_new,confidence,needs_review,comment`` (seconds, 3 decimals)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(TRANSFERRED_COLUMNS)
    for m in markers:
        w.writerow([m.name, _num(m.t_ref_s), _num(m.t_new_s), f"{m.confidence:.3f}",
                    "true" if m.needs_review else "false", m.comment])
    return buf.getvalue()


def json_to_string(markers: Sequence[TransferredMarker], *, fps: Fraction | None,
                   start_tc: str | None = None, video_name: str = "new.mp4",
                   title: str = "mtbsync markers", drop_frame: bool | None = None) -> str:
    """``{"format": "mtbsync.markers", "version": 1, "fps": "30000/1001", "markers": [...]}``.

    Each marker carries its seconds, and with a frame rate its frame and record timecode.
    """
    drop = drop_mode(fps, drop_frame) if fps else False
    start = start_frames(start_tc or "00:00:00:00", fps, drop) if fps else 0
    rows = []
    for m in markers:
        row = {"name": m.name, "t_ref_s": None if math.isnan(m.t_ref_s) else m.t_ref_s,
               "t_new_s": None if math.isnan(m.t_new_s) else m.t_new_s,
               "confidence": m.confidence, "needs_review": bool(m.needs_review),
               "in_overlap": bool(m.in_overlap), "comment": m.comment, "colour": m.colour}
        if fps and row["t_new_s"] is not None and m.t_new_s >= 0:
            frame = seconds_to_frame(Fraction(m.t_new_s), fps)
            row["frame"] = frame
            row["timecode"] = frames_to_timecode(start + frame, fps, drop)
        rows.append(row)
    doc = {"format": "mtbsync.markers", "version": 1, "title": title, "video": video_name,
           "fps": f"{fps.numerator}/{fps.denominator}" if fps else None,
           "start_tc": start_tc or "00:00:00:00", "markers": rows}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def reference_csv_to_string(markers: Sequence[Marker]) -> str:
    """The reference marker CSV ``name,t_ref,colour,comment`` (seconds, 3 decimals)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REFERENCE_COLUMNS)
    for m in markers:
        w.writerow([m.name, f"{m.t_ref_s:.3f}", m.colour, m.comment])
    return buf.getvalue()


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise MarkerFileError(f"Cannot read markers file '{path}': {err.strerror or err}.") from err
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise MarkerFileError(f"'{path}' line {line}: not UTF-8 text (byte "
                              f"0x{data[err.start]:02x}). Save the file as UTF-8.") from err


def _float(row: dict[str, str], col: str, path: Path, line: int, blank_nan: bool) -> float:
    text = (row.get(col) or "").strip()
    if not text and blank_nan:
        return math.nan
    try:
        return float(text)
    except ValueError as err:
        raise MarkerFileError(f"'{path}' line {line}: {col} is {text!r}, not a number of "
                              "seconds.") from err


def read_transferred_csv(path: str | Path) -> list[TransferredMarker]:
    """Read ``name,t_ref,t_new,confidence,needs_review,comment`` (empty t_new: outside overlap)."""
    p = Path(path)
    reader = csv.DictReader(io.StringIO(_decode(p)))
    missing = [c for c in ("name", "t_new") if c not in (reader.fieldnames or [])]
    if missing:
        raise MarkerFileError(f"'{p}' line 1: missing column(s) {', '.join(missing)}; expected "
                              f"{','.join(TRANSFERRED_COLUMNS)} (the output of mtbsync transfer).")
    out = []
    for row in reader:
        line = reader.line_num
        review = (row.get("needs_review") or "").strip().lower()
        if review not in _TRUE | _FALSE:
            raise MarkerFileError(f"'{p}' line {line}: needs_review is {review!r}; use "
                                  "true or false.")
        t_new = _float(row, "t_new", p, line, blank_nan=True)
        conf = _float(row, "confidence", p, line, blank_nan=True) if "confidence" in row else 1.0
        out.append(TransferredMarker(
            name=(row.get("name") or "").strip(), t_ref_s=_float(row, "t_ref", p, line, True),
            t_new_s=t_new, confidence=1.0 if math.isnan(conf) else conf,
            needs_review=review in _TRUE or math.isnan(t_new), comment=row.get("comment") or "",
            colour=row.get("colour") or "", in_overlap=not math.isnan(t_new)))
    return out
