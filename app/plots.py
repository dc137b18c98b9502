"""Figures the pages share (plotly, no Streamlit): the delta curve of time gained and lost."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go


def delta_series(warp: Any, markers: list[dict[str, Any]]) -> dict[str, Any]:
    """Time lost (+) or gained (-) on the new run against the reference, along the trail.

    ``x`` is reference time (where on the trail), ``y`` is ``(t_new - t_ref)`` minus its value
    at the first marker inside the overlap (or at the overlap's start when there is none), in
    seconds. ``markers`` are dicts with ``name``, ``t_ref_s`` and ``t_new_s``; those outside the
    overlap are left out. Returns ``{"x", "y", "base_name", "markers": [(name, x, y), ...]}``.
    """
    t_new = np.asarray(warp.t_new_s, float)
    t_ref = np.asarray(warp.t_ref_s, float)
    placed = sorted((m for m in markers if math.isfinite(m["t_new_s"])), key=lambda m: m["t_ref_s"])
    if placed:
        base = placed[0]["t_new_s"] - placed[0]["t_ref_s"]
        base_name = placed[0]["name"]
    else:
        base, base_name = float(t_new[0] - t_ref[0]), "the overlap's start"
    return {
        "x": t_ref,
        "y": t_new - t_ref - base,
        "base_name": base_name,
        "markers": [(m["name"], m["t_ref_s"], m["t_new_s"] - m["t_ref_s"] - base) for m in placed],
    }


def delta_figure(warp: Any, markers: list[dict[str, Any]], height: int = 300) -> go.Figure:
    """The delta curve with the markers on it: above zero the new run is behind the reference."""
    d = delta_series(warp, markers)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=d["x"],
            y=d["y"],
            mode="lines",
            name="time lost (+) / gained (−)",
            line={"color": "#f28c28"},
            hovertemplate="reference %{x:.2f} s<br>%{y:+.2f} s<extra></extra>",
        )
    )
    if d["markers"]:
        names, xs, ys = zip(*d["markers"], strict=True)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="markers+text",
                text=names,
                textposition="top center",
                name="markers",
                marker={"size": 9, "color": "#4c8bf5"},
                hovertemplate="%{text}<br>%{y:+.2f} s<extra></extra>",
            )
        )
    fig.add_hline(y=0, line_dash="dot", line_color="grey")
    fig.update_layout(
        height=height,
        margin={"l": 50, "r": 10, "t": 30, "b": 40},
        xaxis_title="reference time (s): where on the trail",
        yaxis_title=f"seconds behind, from {d['base_name']}",
        showlegend=False,
    )
    return fig
