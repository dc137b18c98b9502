"""Side-by-side scrubbing: one control drives two <video> elements playing browser proxies.

The new run leads; the reference follows through the warp (seek on scrub, playbackRate steered
while playing). State ``t`` is the playhead (new-run seconds) after a scrub or a pause.
"""

from __future__ import annotations

from collections.abc import Callable
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
    duration_ref_s: float,
    fps: float,
    fps_ref: float,
    markers: list[dict[str, Any]],
    low_bands: list[tuple[float, float]],
    anchor_rev: str,
    seek: dict[str, float] | None,
    key: str,
    on_pin: Callable[[dict], None] | None = None,
) -> tuple[float | None, dict | None]:
    """Mount the player; returns (last playhead the browser reported, a pin request or None).

    A pin request is ``{"t_new": s, "t_ref": s, "seq": n}``: the editor unlinked the reference,
    scrubbed it to the frame that matches the new run's and pressed "Pin as anchor".
    ``anchor_rev`` changes with every anchor set, so the player knows the warp was refitted.
    ``on_pin(request)`` runs before the next script run (a widget callback), so the page that
    follows already draws the refitted warp: one run from the click to the new warp.
    """
    t_new = np.asarray(warp.t_new_s, float)
    t_ref = np.asarray(warp.t_ref_s, float)
    keep = np.isfinite(t_ref)
    step = max(1, int(keep.sum()) // 20000)
    data = {
        "new_url": new_url,
        "ref_url": ref_url,
        "duration_new": float(duration_new_s),
        "duration_ref": float(duration_ref_s),
        "fps": float(fps),
        "fps_ref": float(fps_ref),
        "warp_new": np.round(t_new[keep][::step], 4).tolist(),
        "warp_ref": np.round(t_ref[keep][::step], 4).tolist(),
        "markers": markers,
        "low_bands": [[round(a, 3), round(b, 3)] for a, b in low_bands],
        "anchor_rev": anchor_rev,
        "seek": seek,
    }
    result = _component(
        key=key,
        data=data,
        default={"t": None},
        on_t_change=lambda: None,
        on_pin_change=(lambda: _call_with_pin(key, on_pin)) if on_pin else (lambda: None),
    )
    return getattr(result, "t", None), getattr(result, "pin", None)


def _call_with_pin(key: str, on_pin: Callable[[dict], None]) -> None:
    state = st.session_state.get(key)
    pin = getattr(state, "pin", None) if state is not None else None
    if pin is None and isinstance(state, dict):
        pin = state.get("pin")
    if isinstance(pin, dict):
        on_pin(pin)
