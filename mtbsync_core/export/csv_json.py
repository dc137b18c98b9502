"""Plain data exports: the transferred-marker CSV and the ``mtbsync.markers`` JSON.

Unlike the editor formats these keep markers outside the overlap (empty ``t_new`` / ``null``),
because they are records of the transfer, not timelines. The CSV schemas themselves live in
:mod:`mtbsync_core.markers`; this module only routes to them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from fractions import Fraction

from ..model import Marker, TransferredMarker
from ..timebase import frames_to_timecode, seconds_to_frame
from .common import drop_mode, start_frames


def csv_to_string(markers: Sequence[TransferredMarker]) -> str:
    """``name,t_ref,t_new,confidence,needs_review,comment,colour``: the CSV ``mtbsync transfer`` writes."""
    from ..markers import transferred_to_csv  # one writer for the schema, in markers.py

    return transferred_to_csv(markers)


def json_to_string(
    markers: Sequence[TransferredMarker],
    *,
    fps: Fraction | None,
    start_tc: str | None = None,
    video_name: str = "new.mp4",
    title: str = "mtbsync markers",
    drop_frame: bool | None = None,
) -> str:
    """``{"format": "mtbsync.markers", "version": 1, "fps": "30000/1001", "markers": [...]}``.

    Each marker carries its seconds, and with a frame rate its frame and record timecode.
    """
    drop = drop_mode(fps, drop_frame) if fps else False
    start = start_frames(start_tc or "00:00:00:00", fps, drop) if fps else 0
    rows = []
    for m in markers:
        row = {
            "name": m.name,
            "t_ref_s": None if math.isnan(m.t_ref_s) else m.t_ref_s,
            "t_new_s": None if math.isnan(m.t_new_s) else m.t_new_s,
            "confidence": m.confidence,
            "needs_review": bool(m.needs_review),
            "in_overlap": bool(m.in_overlap),
            "comment": m.comment,
            "colour": m.colour,
        }
        if fps and row["t_new_s"] is not None and m.t_new_s >= 0:
            frame = seconds_to_frame(Fraction(m.t_new_s), fps)
            row["frame"] = frame
            row["timecode"] = frames_to_timecode(start + frame, fps, drop)
        rows.append(row)
    doc = {
        "format": "mtbsync.markers",
        "version": 1,
        "title": title,
        "video": video_name,
        "fps": f"{fps.numerator}/{fps.denominator}" if fps else None,
        "start_tc": start_tc or "00:00:00:00",
        "markers": rows,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def reference_csv_to_string(markers: Sequence[Marker]) -> str:
    """The reference marker CSV ``name,t_ref,colour,comment`` (seconds)."""
    from ..markers import markers_to_csv

    return markers_to_csv(markers)
