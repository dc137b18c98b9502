"""Highlights: jumps, drops, crashes, fast stretches and loud moments of a run, from telemetry,
audio and (without telemetry) the picture; merged, ranked, cut as clips and exported as markers.

Names are imported from their modules on first use (PEP 562), like :mod:`mtbsync_core.multicam`.
"""

from __future__ import annotations

from ..lazy import lazy_exports

_LAZY: dict[str, str] = {
    "DEFAULT_KINDS": "model",
    "KINDS": "model",
    "Event": "model",
    "Highlight": "model",
    "HighlightParams": "model",
    "HighlightResult": "io",
    "RunSignals": "signals",
    "detect_events": "detect",
    "find_highlights": "api",
    "frame_timeline": "signals",
    "highlights_from_signals": "api",
    "load_signals": "signals",
    "merge_events": "merge",
    "parse_kinds": "detect",
    "read_highlights": "io",
    "write_highlights": "io",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
