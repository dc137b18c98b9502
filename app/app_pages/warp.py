"""Warp: t_new -> t_ref with verified pairs, overlap, low-confidence shading and manual anchors."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from app import jobs, ui
from app.components.warp_editor import warp_editor
from app.plots import delta_figure
from mtbsync_core import MtbSyncError

st.title("Warp")
store = ui.require_store()
key, res = ui.require_synced(store)
ui.require_static_serving()


def apply_edit(edit: dict) -> None:
    seq = edit.get("seq")
    if st.session_state.get("_warp_edit_seq") == (key, seq):
        return  # already applied (a rerun replays the trigger)
    st.session_state["_warp_edit_seq"] = (key, seq)
    anchors = [(float(a), float(b)) for a, b in edit.get("anchors", [])]
    store.set_anchors(key, anchors)
    try:
        ui.current_warp(store, key, res)
    except MtbSyncError as err:
        store.undo_anchors(key)  # keep the project as it was
        st.session_state["_warp_error"] = str(err)


try:
    warp, refit_s = ui.current_warp(store, key, res)
except MtbSyncError as err:
    st.error(str(err))
    if st.button("Undo the last anchor edit", key="undo_bad"):
        store.undo_anchors(key)
        st.rerun()
    st.stop()

if msg := st.session_state.pop("_warp_error", None):
    st.error(msg)
anchors = store.anchors(key)
marks = [
    {"name": r["name"], "t_new": r["t_new_s"], "t_ref": r["t_ref_s"], "confidence": r["confidence"]}
    for r in ui.reviewed_markers(store, key, warp)
    if math.isfinite(r["t_new_s"]) and r["status"] != "reject"
]
edit = warp_editor(
    warp,
    res.get("pairs"),
    anchors,
    key="warp_editor",
    rev=f"{len(anchors)}:{hash(tuple(anchors))}",
    markers=marks,
    new_url=jobs.proxy_url(store.video("new").proxy_path),
    ref_url=jobs.proxy_url(store.video("ref").proxy_path),
)
if edit:
    apply_edit(edit)
    st.rerun()

st.subheader("Time gained and lost")
st.caption(
    "The new run's time minus the reference's along the trail, from the first marker: rising, "
    "the new run is slower there; falling, faster."
)
st.plotly_chart(
    delta_figure(
        warp,
        [{"name": m["name"], "t_new_s": m["t_new"], "t_ref_s": m["t_ref"]} for m in marks],
    ),
    key="delta_curve",
)

c1, c2, c3, c4 = st.columns(4)
conf = np.asarray(warp.confidence, float)
c1.metric("Anchors", len(anchors))
c2.metric("Refit time", f"{1000 * refit_s:.0f} ms" if anchors else "—")
c3.metric("Overlap (new run)", f"{warp.overlap_new_s[0]:.1f} – {warp.overlap_new_s[1]:.1f} s")
c4.metric("Mean confidence", f"{np.nanmean(conf):.2f}" if conf.size else "—")

b1, b2, _ = st.columns([1.4, 1, 3])
if b1.button("Undo anchor edit", key="undo_anchor", icon=":material/undo:"):
    if store.undo_anchors(key):
        st.rerun()
    st.toast("Nothing to undo.")
if b2.button("Clear anchors", key="clear_anchors", disabled=not anchors):
    store.set_anchors(key, [])
    st.rerun()

with st.expander("Add an anchor by numbers"):
    a1, a2, a3 = st.columns([1, 1, 1])
    st.caption(
        "An anchor is your word for that moment only: markers between it and the nearest "
        "verified pair stay flagged for review. Type both times; there is no default."
    )
    tn = a1.number_input("t_new (s)", min_value=0.0, step=0.1, value=None, key="anchor_t_new")
    tr = a2.number_input("t_ref (s)", min_value=0.0, step=0.1, value=None, key="anchor_t_ref")
    if a3.button("Add anchor", key="add_anchor_numbers", disabled=tn is None or tr is None):
        store.set_anchors(key, [*anchors, (tn, tr)])
        try:
            ui.current_warp(store, key, res)
        except MtbSyncError as err:
            store.undo_anchors(key)
            st.session_state["_warp_error"] = str(err)
        st.rerun()
if anchors:
    st.dataframe([{"t_new_s": a, "t_ref_s": b} for a, b in anchors], hide_index=True)
