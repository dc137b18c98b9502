"""Highlights as editor markers: one marker per highlight, spanning its events, in every format."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..fileio import check_writable
from ..model import TransferredMarker
from .io import HighlightResult

EDITOR_FORMATS = ("edl", "fcpxml", "premiere")


def highlights_to_markers(result: HighlightResult) -> list[TransferredMarker]:
    """One marker per highlight at its first event's start, lasting to its last event's end.

    The highlight's score is the marker's confidence (so colour follows it); the note holds the
    events' reasons.
    """
    return [
        TransferredMarker(
            name=h.name,
            t_ref_s=h.start_s,
            t_new_s=h.start_s,
            confidence=h.score,
            needs_review=False,
            comment=h.reason,
            duration_s=h.end_s - h.start_s,
        )
        for h in sorted(result.highlights, key=lambda h: h.start_s)
    ]


def write_highlight_markers(
    result: HighlightResult,
    out_dir: str | os.PathLike[str],
    formats: Sequence[str] = EDITOR_FORMATS,
    *,
    force: bool = False,
) -> list[Path]:
    """Write ``highlights.edl`` / ``.fcpxml`` / ``.xml`` (Premiere) for the run's video."""
    from ..export import api

    markers = highlights_to_markers(result)
    paths = [Path(out_dir) / f"highlights{api.SUFFIXES[f]}" for f in formats]
    for p in paths:
        check_writable(p, force)
    for fmt, p in zip(formats, paths, strict=True):
        api.write_export(fmt, markers, p, video_path=result.video, force=force)
    return paths
