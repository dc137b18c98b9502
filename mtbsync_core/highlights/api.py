"""One call for one run: :func:`find_highlights` (signals -> events -> merged highlights)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict

from .detect import detect_events, parse_kinds
from .io import HighlightResult
from .merge import merge_events
from .model import HighlightParams
from .signals import RunSignals, load_signals


def highlights_from_signals(
    sig: RunSignals,
    params: HighlightParams | None = None,
    kinds: Sequence[str] | str | None = None,
    picture: bool | None = None,
) -> HighlightResult:
    """Detect, merge and rank the highlights of signals already loaded."""
    p = params or HighlightParams()
    want = parse_kinds(kinds)
    t0 = time.perf_counter()
    events = detect_events(sig, p, want, picture=picture)
    his = merge_events(events, merge_gap_s=p.merge_gap_s, pad_s=p.pad_s, duration_s=sig.duration_s)
    return HighlightResult(
        video=sig.path,
        duration_s=sig.duration_s,
        sources=sig.sources,
        events=tuple(events),
        highlights=tuple(his),
        params={**asdict(p), "kinds": list(want)},
        timings_s={"detect": round(time.perf_counter() - t0, 3)},
    )


def find_highlights(
    path: str | os.PathLike[str],
    params: HighlightParams | None = None,
    kinds: Sequence[str] | str | None = None,
    *,
    track_path: str | os.PathLike[str] | None = None,
    track_offset_s: float | None = None,
    picture: bool | None = None,
) -> HighlightResult:
    """Highlights of one run: a GoPro file (GPMF), a video with a GPX/FIT track, or a video alone.

    ``picture`` None uses the decoded picture only when the run has no telemetry.
    """
    t0 = time.perf_counter()
    want = parse_kinds(kinds)
    sig = load_signals(
        path, track_path=track_path, track_offset_s=track_offset_s, use_audio="loud" in want
    )
    t_load = time.perf_counter() - t0
    r = highlights_from_signals(sig, params, want, picture=picture)
    return HighlightResult(
        r.video,
        r.duration_s,
        r.sources,
        r.events,
        r.highlights,
        r.params,
        {"load": round(t_load, 3), **r.timings_s},
    )
