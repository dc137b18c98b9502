"""Highlights: a run's speed, |a| and sound on one timeline with its events; play, accept, export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from mtbsync_core import MtbSyncError
from mtbsync_core.highlights import (
    DEFAULT_KINDS,
    KINDS,
    HighlightParams,
    frame_timeline,
    highlights_from_signals,
    load_signals,
)
from mtbsync_core.highlights.clips import cut_highlight_clips
from mtbsync_core.highlights.io import HighlightResult, select_highlights, write_highlights
from mtbsync_core.highlights.markers import write_highlight_markers

K_RESULT, K_TIMELINE, K_PLAY = "hl_result", "hl_timeline", "hl_play"
COLOURS = {
    "jump": "#1f77b4",
    "drop": "#17becf",
    "crash": "#d62728",
    "fast": "#ff7f0e",
    "loud": "#9467bd",
    "shake": "#8c564b",
}
MAX_POINTS = 4000

st.title("Highlights")
st.caption(
    "Jumps and drops (free fall, then a landing), crashes (impact, then still or turned over), "
    "fast stretches (GPS) and loud moments (sound over the run's own noise floor)."
)

with st.form("hl_inputs"):
    path = st.text_input("Run: a GoPro file (telemetry inside) or any video", key="hl_path")
    track = st.text_input("GPX / FIT track (optional, for a video without GPS)", key="hl_track")
    c1, c2 = st.columns([3, 1])
    kinds = c1.multiselect("Kinds", KINDS, default=list(DEFAULT_KINDS), key="hl_kinds")
    pad = c2.number_input("Pad (s)", 0.0, 30.0, 2.0, step=0.5, key="hl_pad")
    find = st.form_submit_button("Find highlights", type="primary")

if find:
    try:
        with st.spinner("Reading telemetry and sound ..."):
            sig = load_signals(path.strip(), track_path=track.strip() or None)
            result = highlights_from_signals(sig, HighlightParams(pad_s=pad), kinds or None)
        st.session_state[K_RESULT] = result
        st.session_state[K_TIMELINE] = frame_timeline(sig)
        st.session_state.pop(K_PLAY, None)
        st.session_state.pop("hl_play_select", None)
    except (MtbSyncError, ValueError) as err:
        st.session_state.pop(K_RESULT, None)
        st.error(str(err))

result: HighlightResult | None = st.session_state.get(K_RESULT)
if result is None:
    st.info("Give a run and press **Find highlights**.")
    st.stop()

st.write(
    f"**{len(result.highlights)}** highlight(s) from **{len(result.events)}** event(s) in "
    f"{result.duration_s:.1f} s; signals: {', '.join(result.sources) or 'picture only'}."
)


def timeline_figure(tl: dict, res: HighlightResult) -> go.Figure:
    """Speed, |a| and audio level against video time; events shaded; one clickable dot each."""
    step = max(1, len(tl["t_s"]) // MAX_POINTS)
    t = tl["t_s"][::step]
    rows = [
        ("speed (km/h)", tl["speed_m_s"][::step] * 3.6),
        ("|a| (g, RMS per frame)", tl["accel_g"][::step]),
        ("sound (dBFS)", tl["audio_db"][::step]),
    ]
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.04)
    for n, (name, y) in enumerate(rows, start=1):
        fig.add_trace(
            go.Scattergl(x=t, y=y, name=name, mode="lines", line={"width": 1}), row=n, col=1
        )
        fig.update_yaxes(title_text=name, row=n, col=1)
    for e in res.events:
        fig.add_vrect(
            x0=e.start_s,
            x1=max(e.end_s, e.start_s + 0.05),
            fillcolor=COLOURS.get(e.kind, "grey"),
            opacity=0.25,
            line_width=0,
        )
    his = sorted(res.highlights, key=lambda h: h.start_s)
    fig.add_trace(
        go.Scatter(
            x=[h.start_s for h in his],
            y=[np.nanmax(rows[0][1]) if np.isfinite(rows[0][1]).any() else 0.0] * len(his),
            mode="markers+text",
            text=[h.name for h in his],
            textposition="top center",
            name="highlights",
            customdata=[h.rank for h in his],
            marker={"size": 12, "symbol": "triangle-down"},
        ),
        row=1,
        col=1,
    )
    fig.update_layout(height=520, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False)
    fig.update_xaxes(title_text="video time (s)", row=3, col=1)
    return fig


chart = st.plotly_chart(
    timeline_figure(st.session_state[K_TIMELINE], result),
    key="hl_chart",
    on_select="rerun",
    selection_mode="points",
)
by_time = sorted(result.highlights, key=lambda h: h.start_s)
selection = getattr(chart, "selection", None) or {}
points = selection.get("points", []) if isinstance(selection, dict) else []
clicked = [
    by_time[p["point_index"]].rank
    for p in points
    if p.get("curve_number") == 3 and 0 <= p.get("point_index", -1) < len(by_time)
]
if clicked and clicked != st.session_state.get(K_PLAY):  # a new click on a highlight's triangle
    st.session_state[K_PLAY] = clicked
    st.session_state["hl_play_select"] = clicked[0]

if not result.highlights:
    st.success("Nothing stood out in this run.")
    st.stop()

table = pd.DataFrame(
    [
        {
            "accept": True,
            "rank": h.rank,
            "start_s": round(h.start_s, 3),
            "end_s": round(h.end_s, 3),
            "kinds": "+".join(h.kinds),
            "score": h.score,
            "reason": h.reason,
        }
        for h in result.highlights
    ]
)
edited = st.data_editor(
    table,
    hide_index=True,
    key="hl_table",
    disabled=[c for c in table if c != "accept"],
    column_config={"accept": st.column_config.CheckboxColumn("accept")},
)
accepted = [int(r) for r, a in zip(edited["rank"], edited["accept"], strict=True) if a]

ranks = [h.rank for h in result.highlights]
play = st.selectbox(
    "Play highlight (or click its triangle on the timeline)",
    ranks,
    key="hl_play_select",
    format_func=lambda r: next(h.name for h in result.highlights if h.rank == r),
)
h = next(h for h in result.highlights if h.rank == play)
st.caption(f"{h.name}: {h.clip_start_s:.2f}-{h.clip_end_s:.2f} s. {h.reason}")
if Path(result.video).is_file():
    st.video(result.video, start_time=float(h.clip_start_s), end_time=float(h.clip_end_s))

st.subheader("Export the accepted highlights")
out_dir = st.text_input("Output folder", key="hl_out")
force = st.checkbox("Overwrite existing files", key="hl_force")
if st.button(
    "Export clips and markers", key="hl_export", disabled=not accepted or not out_dir.strip()
):
    chosen = select_highlights(result, accepted)
    try:
        with st.spinner(f"Cutting {len(chosen.highlights)} clip(s) ..."):
            j, c = write_highlights(chosen, out_dir.strip(), force=force)
            clips = cut_highlight_clips(chosen, out_dir.strip(), force=force)
            marks = write_highlight_markers(chosen, out_dir.strip(), force=force)
    except MtbSyncError as err:
        st.error(str(err))
    else:
        st.success(
            f"Wrote {len(clips)} clip(s), {j.name}, {c.name} and {', '.join(p.name for p in marks)} "
            f"in {out_dir.strip()}"
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "clip": Path(k.path).name,
                        "frames": f"{k.first_frame_idx}-{k.last_frame_idx}",
                        "mode": k.mode,
                        "re-encoded": k.frames_reencoded,
                    }
                    for k in clips
                ]
            ),
            hide_index=True,
            key="hl_written",
        )
