"""The warp editor: plotly.js plot of t_new -> t_ref with draggable manual anchors.

A v2 component (plain JS in warp_editor.js, plotly.js from app/static/vendor/). It reports each
edit as a trigger ``edit`` = {"action": add|move|delete, "anchors": [[t_new_s, t_ref_s], ...]}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

MAX_PAIRS = 4000
_JS = (Path(__file__).with_name("warp_editor.js")).read_text(encoding="utf-8")
_component = st.components.v2.component("mtbsync_warp_editor", js=_JS, isolate_styles=False)


def low_confidence_spans(
    t_s: np.ndarray, conf: np.ndarray, threshold: float = 0.6, min_len_s: float = 0.5
) -> list[tuple[float, float]]:
    """Stretches where ``conf`` < ``threshold`` for at least ``min_len_s``: [(start_s, end_s)]."""
    low = np.asarray(conf) < threshold
    spans, start = [], None
    for i, flag in enumerate(low):
        if flag and start is None:
            start = i
        if (not flag or i == len(low) - 1) and start is not None:
            end = i if flag else i - 1
            if t_s[end] - t_s[start] >= min_len_s:
                spans.append((float(t_s[start]), float(t_s[end])))
            start = None
    return spans


def _decimate(x: np.ndarray, y: np.ndarray, max_points: int = 3000) -> tuple[list, list]:
    step = max(1, len(x) // max_points)
    keep = np.isfinite(x) & np.isfinite(y)
    return np.round(x[keep][::step], 3).tolist(), np.round(y[keep][::step], 3).tolist()


def warp_editor(
    warp: Any,
    pairs: dict[str, list[float]] | None,
    anchors: list[tuple[float, float]],
    *,
    key: str,
    rev: str = "",
    markers: list[dict[str, Any]] | None = None,
    new_url: str | None = None,
    ref_url: str | None = None,
) -> dict | None:
    """Mount the editor; returns the edit dict of this rerun or None.

    ``markers``: [{"name", "t_new", "t_ref", "confidence"}] drawn on the curve for orientation.
    ``new_url`` / ``ref_url``: the browser proxies; hovering a point shows the two frames it pairs.
    """
    t_new = np.asarray(warp.t_new_s, float)
    t_ref = np.asarray(warp.t_ref_s, float)
    wx, wy = _decimate(t_new, t_ref)
    pairs = pairs or {"t_new_s": [], "t_ref_s": [], "confidence": []}
    step = max(1, len(pairs["t_new_s"]) // MAX_PAIRS)  # keep the browser light on long runs
    data = {
        "warp": {"x": wx, "y": wy},
        "pairs": {
            "x": pairs["t_new_s"][::step],
            "y": pairs["t_ref_s"][::step],
            "c": pairs["confidence"][::step],
        },
        "anchors": [list(a) for a in anchors],
        "overlap": list(warp.overlap_new_s),
        "low": low_confidence_spans(t_new, np.asarray(warp.confidence, float)),
        "rev": rev,
        "markers": markers or [],
        "new_url": new_url,
        "ref_url": ref_url,
    }
    result = _component(key=key, data=data, on_edit_change=lambda: None)
    return getattr(result, "edit", None)
