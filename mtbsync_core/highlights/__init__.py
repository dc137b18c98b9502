"""Highlights: jumps, drops, crashes, fast stretches and loud moments of a run, from telemetry,
audio and (without telemetry) the picture; merged, ranked, cut as clips and exported as markers.

Names are imported from their modules on first use (PEP 562), like :mod:`mtbsync_core.multicam`.
"""

from __future__ import annotations

import importlib

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


def __getattr__(name: str):
    """Import a public name from its module on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
