"""Boxes drawn with streamlit-drawable-canvas, in the drawn image's own pixels (no Streamlit)."""

from __future__ import annotations


def box_from_canvas(json_data: dict | None, scale: float) -> tuple[int, int, int, int] | None:
    """The last rectangle drawn on a canvas, in the frame's own pixels."""
    rects = [
        o for o in (json_data or {}).get("objects", []) if str(o.get("type", "")).lower() == "rect"
    ]
    if not rects:
        return None
    r = rects[-1]
    w = r.get("width", 0) * r.get("scaleX", 1) / scale
    h = r.get("height", 0) * r.get("scaleY", 1) / scale
    if w < 1 or h < 1:
        return None
    return (round(r.get("left", 0) / scale), round(r.get("top", 0) / scale), round(w), round(h))
