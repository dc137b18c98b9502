"""Markers: the CSV schema in and out, and carrying reference markers to the new run.

In:  ``name,t_ref[,colour][,comment]`` (seconds on the reference run).
Out: ``name,t_ref,t_new,confidence,needs_review,comment,colour`` (``t_new`` empty outside the overlap).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import MarkerFileError
from .fileio import write_text_atomic
from .model import Marker, TransferredMarker
from .warp import TimeWarp

OUT_COLUMNS = ("name", "t_ref", "t_new", "confidence", "needs_review", "comment", "colour")
#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Longest CSV field read (a marker name or note): far beyond any real one, bounded all the same.
MAX_FIELD_CHARS = 16 * 1024 * 1024


def escape_cell(text: str) -> str:
    """``text`` made inert for spreadsheets: a leading ``= + - @`` (or tab) gets a ``'`` before it.

    A text that already starts with quotes before such a character gets one more, so
    :func:`unescape_cell` gives back exactly the original.
    """
    return "'" + text if text.lstrip("'").startswith(_FORMULA_START) else text


def unescape_cell(text: str) -> str:
    """Inverse of :func:`escape_cell`."""
    return (
        text[1:] if text.startswith("'") and text.lstrip("'").startswith(_FORMULA_START) else text
    )


def _csv_rows(text: str, path: Path) -> list[list[str]]:
    """Rows of CSV ``text``; a malformed file is a :class:`MarkerFileError` naming the line."""
    old = csv.field_size_limit()
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(text))
    try:
        return list(reader)
    except csv.Error as err:
        raise MarkerFileError(
            f"Markers file '{path}' line {reader.line_num}: not valid CSV ({err}). "
            "Save it as CSV from your spreadsheet."
        ) from err
    finally:
        csv.field_size_limit(old)


def _read_text(path: Path) -> str:
    if not path.exists():
        raise MarkerFileError(f"Markers file '{path}' does not exist. Check the path.")
    if path.is_dir():
        raise MarkerFileError(f"'{path}' is a folder, not a markers file. Pass the CSV file.")
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise MarkerFileError(
            f"Markers file '{path}' line {line}: not UTF-8 text. Save it as UTF-8 (CSV UTF-8 in a spreadsheet)."
        ) from err


def _float(value: str, path: Path, line: int, column: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise MarkerFileError(
            f"Markers file '{path}' line {line}: {column} {value!r} is not a number of seconds."
        ) from None
    if not math.isfinite(x) or x < 0:
        raise MarkerFileError(
            f"Markers file '{path}' line {line}: {column} {value!r} must be a time >= 0 in seconds."
        )
    return x


def read_markers_csv(path: str | os.PathLike[str]) -> list[Marker]:
    """Read reference markers ``name,t_ref[,colour][,comment]`` (raises :class:`MarkerFileError`)."""
    p = Path(path)
    rows = _csv_rows(_read_text(p), p)
    if not rows or not any(c.strip() for c in rows[0]):
        raise MarkerFileError(
            f"Markers file '{p}' is empty. It needs a header line 'name,t_ref' and one marker a line."
        )
    header = [c.strip().lower() for c in rows[0]]
    missing = [c for c in ("name", "t_ref") if c not in header]
    if missing:
        raise MarkerFileError(
            f"Markers file '{p}' line 1: missing column(s) {', '.join(missing)}; found {rows[0]}. "
            "The header must be name,t_ref[,colour][,comment]."
        )
    col = {c: header.index(c) for c in header}
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < len(header):
            row = row + [""] * (len(header) - len(row))
        name = unescape_cell(row[col["name"]].strip())
        if not name:
            raise MarkerFileError(f"Markers file '{p}' line {n}: the marker has no name.")
        t = _float(row[col["t_ref"]].strip(), p, n, "t_ref")
        colour = (
            row[col["colour"]].strip()
            if "colour" in col
            else (row[col["color"]].strip() if "color" in col else "")
        )
        comment = unescape_cell(row[col["comment"]].strip()) if "comment" in col else ""
        out.append(Marker(name, t, colour, comment))
    return out


def markers_to_csv(markers: Sequence[Marker]) -> str:
    """Reference markers as CSV text."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["name", "t_ref", "colour", "comment"])
    for m in markers:
        t = f"{m.t_ref_s:.6f}".rstrip("0").rstrip(".")
        w.writerow([escape_cell(m.name), t, escape_cell(m.colour), escape_cell(m.comment)])
    return buf.getvalue()


def write_markers_csv(
    markers: Sequence[Marker], path: str | os.PathLike[str], force: bool = False
) -> Path:
    """Write reference markers (atomically; no overwrite without ``force``)."""
    return write_text_atomic(path, markers_to_csv(markers), force=force)


def transfer_markers(
    markers: Sequence[Marker], warp: TimeWarp, review_threshold: float = 0.6
) -> list[TransferredMarker]:
    """Carry reference markers to the new run through ``warp``.

    A marker whose reference time the warp does not reach is kept with ``t_new_s`` NaN,
    ``in_overlap`` False and ``needs_review`` True: flagged, never clamped.
    """
    if not 0.0 <= review_threshold <= 1.0:  # also refuses NaN
        raise ValueError(f"review_threshold must be in [0, 1], not {review_threshold!r}")
    t_ref = np.array([m.t_ref_s for m in markers], np.float64)
    t_new = warp.to_new(t_ref)  # one call for all markers
    inside = ~np.isnan(t_new)
    conf = np.where(inside, warp.confidence_at(np.where(inside, t_new, 0.0)), 0.0)
    note = "outside the overlap of the two runs"
    out = []
    for m, tn, c, ok in zip(markers, t_new.tolist(), conf.tolist(), inside.tolist(), strict=True):
        if not ok:
            comment = f"{m.comment}; {note}" if m.comment else note
            out.append(
                TransferredMarker(m.name, m.t_ref_s, math.nan, 0.0, True, comment, m.colour, False)
            )
        else:
            out.append(
                TransferredMarker(
                    m.name,
                    m.t_ref_s,
                    tn,
                    round(c, 4),
                    c < review_threshold,
                    m.comment,
                    m.colour,
                    True,
                )
            )
    return out


def transferred_to_csv(markers: Sequence[TransferredMarker]) -> str:
    """Transferred markers as CSV text (``OUT_COLUMNS``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(OUT_COLUMNS)
    for m in markers:
        t_new = "" if math.isnan(m.t_new_s) else f"{m.t_new_s:.6f}"
        w.writerow(
            [
                escape_cell(m.name),
                f"{m.t_ref_s:.6f}",
                t_new,
                f"{m.confidence:.4f}",
                "true" if m.needs_review else "false",
                escape_cell(m.comment),
                escape_cell(m.colour),
            ]
        )
    return buf.getvalue()


def write_transferred_csv(
    markers: Sequence[TransferredMarker], path: str | os.PathLike[str], force: bool = False
) -> Path:
    """Write transferred markers (atomically; no overwrite without ``force``)."""
    return write_text_atomic(path, transferred_to_csv(markers), force=force)


def read_transferred_csv(path: str | os.PathLike[str]) -> list[TransferredMarker]:
    """Read a CSV written by :func:`write_transferred_csv` (raises :class:`MarkerFileError`)."""
    p = Path(path)
    rows = _csv_rows(_read_text(p), p)
    if not rows:
        raise MarkerFileError(
            f"Markers file '{p}' is empty. Pass the CSV written by `mtbsync transfer`."
        )
    header = [c.strip().lower() for c in rows[0]]
    missing = [c for c in OUT_COLUMNS[:5] if c not in header]
    if missing:
        raise MarkerFileError(
            f"Markers file '{p}' line 1: missing column(s) {', '.join(missing)}. "
            f"Pass the CSV written by `mtbsync transfer` ({','.join(OUT_COLUMNS)})."
        )
    col = {c: header.index(c) for c in header}
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        row = row + [""] * (len(header) - len(row))
        t_new_txt = row[col["t_new"]].strip()
        t_new = math.nan if t_new_txt == "" else _float(t_new_txt, p, n, "t_new")
        conf = _float(row[col["confidence"]].strip(), p, n, "confidence")
        review = row[col["needs_review"]].strip().lower() in ("true", "1", "yes")
        out.append(
            TransferredMarker(
                unescape_cell(row[col["name"]].strip()),
                _float(row[col["t_ref"]].strip(), p, n, "t_ref"),
                t_new,
                min(conf, 1.0),
                review,
                unescape_cell(row[col["comment"]].strip()) if "comment" in col else "",
                unescape_cell(row[col["colour"]].strip()) if "colour" in col else "",
                not math.isnan(t_new),
            )
        )
    return out
