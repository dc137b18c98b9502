"""Side-by-side scrubbing: one control drives two <video> elements playing browser proxies.

The new run leads; the reference follows through the warp (seek on scrub, playbackRate steered
while playing). State ``t`` is the playhead (new-run seconds) after a scrub or a pause.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

_HERE = Path(__file__).parent
_component = st.components.v2.component(
    "mtbsync_dual_player",
    js=(_HERE / "dual_player.js").read_text(encoding="utf-8"),
    css=(_HERE / "dual_player.css").read_text(encoding="utf-8"),
    isolate_styles=False,
)


def dual_player(
    *,
    new_url: str,
    ref_url: str,
    warp: Any,
    duration_new_s: float,
    fps: float,
    markers: list[dict[str, Any]],
    seek: dict[str, float] | None,
    key: str,
) -> float | None:
    """Mount the player; returns the last playhead the browser reported (seconds) or None."""
    t_new = np.asarray(warp.t_new_s, float)
    t_ref = np.asarray(warp.t_ref_s, float)
    keep = np.isfinite(t_ref)
    step = max(1, int(keep.sum()) // 20000)
    data = {
        "new_url": new_url,
        "ref_url": ref_url,
        "duration_new": float(duration_new_s),
        "fps": float(fps),
        "warp_new": np.round(t_new[keep][::step], 4).tolist(),
        "warp_ref": np.round(t_ref[keep][::step], 4).tolist(),
        "markers": markers,
        "seek": seek,
    }
    result = _component(key=key, data=data, default={"t": None}, on_t_change=lambda: None)
    return getattr(result, "t", None)
