"""Review: scrub both runs side by side, every marker at hand, keys for accept / reject / nudge /
next / previous / undo, and "pin as anchor" from the frames (unlink the reference, scrub it on its
own until it matches, pin: the warp refits at once and the player relinks)."""

from __future__ import annotations

import math
import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import jobs, ui
from app.components.dual_player import dual_player
from app.components.warp_editor import low_confidence_spans
from mtbsync_core import MtbSyncError

KEYS_HELP = (
    "**Keys**: **N** next needs-review · **P** previous marker · **A** accept · **X** reject · "
    "**J** / **K** one frame earlier / later · **U** undo the last decision or anchor edit. "
    "In the player (click it first): space play / pause · ← / → one frame · shift ← / → one second."
)
FILTERS = ("All", "Needs review", "Undecided", "Accepted", "Rejected")

st.title("Review")
store = ui.require_store()
key, res = ui.require_synced(store)
ui.require_static_serving()
try:
    warp, _ = ui.current_warp(store, key, res)
except MtbSyncError as err:
    st.error(str(err))
    st.stop()
rows = ui.reviewed_markers(store, key, warp)
new, ref = store.video("new"), store.video("ref")
fps = ui.fps_of(new.info)
frame_s = 1.0 / float(fps)
anchors = store.anchors(key)

pos = store.get_meta(f"review:{key}", {"t": 0.0, "selected": None, "seek_seq": 0})


def save_pos(**changes) -> None:
    pos.update(changes)
    store.set_meta(f"review:{key}", pos)


def seek(t: float) -> None:
    save_pos(t=float(t), seek_seq=int(pos.get("seek_seq", 0)) + 1)


def pending() -> list[dict]:
    return [r for r in rows if r["needs_review"] and r["status"] is None]


def go_to(row: dict) -> None:
    save_pos(selected=row["key"])
    if math.isfinite(row["t_new_s"]):
        seek(row["t_new_s"])


def pin_anchor(pin: dict) -> None:
    """Add (or replace, at the same new time) an anchor; refused anchors leave the project as it was.

    Runs as the player's callback, before the script: the run that follows draws the refit.
    """
    if st.session_state.get("_review_pin_seq") == pin.get("seq"):
        return
    st.session_state["_review_pin_seq"] = pin.get("seq")
    t_new, t_ref = float(pin["t_new"]), float(pin["t_ref"])
    kept = [a for a in store.anchors(key) if abs(a[0] - t_new) > 0.5 * frame_s]
    store.set_anchors(key, [*kept, (t_new, t_ref)])
    try:
        ui.current_warp(store, key, res)
    except MtbSyncError as err:
        store.undo_anchors(key)
        st.session_state["_review_error"] = str(err)
        return
    save_pos(t=float(t_new))


@st.fragment(run_every=1.0)
def wait_for_proxies(key: str) -> None:
    job = jobs.get_job(key)
    if job is None or job.status != "running":
        st.rerun()
    total = f" of {job.total}" if job.total else ""
    st.progress(job.fraction, text=f"Making the browser proxies — {job.stage}: {job.done}{total}")


if msg := st.session_state.pop("_review_error", None):
    st.error(msg)

# --- player -------------------------------------------------------------------------------
if f"_review_seeded:{key}" not in st.session_state:  # a fresh tab or reload: back to the saved spot
    st.session_state[f"_review_seeded:{key}"] = True
    seek(pos.get("t", 0.0))
new_url, ref_url = jobs.proxy_url(new.proxy_path), jobs.proxy_url(ref.proxy_path)
if not new_url or not ref_url:
    job = jobs.get_job(key)
    if job is not None and job.status == "running":
        wait_for_proxies(key)
    else:
        st.warning(
            "Browser proxies are missing: run the sync again on the **Sync** page to make them."
        )
else:
    ticks = [
        {
            "name": r["name"],
            "t_new": r["t_new_s"] if math.isfinite(r["t_new_s"]) else None,
            "confidence": float(r["confidence"]),
            "needs_review": bool(r["needs_review"] and r["status"] is None),
            "selected": r["key"] == pos.get("selected"),
        }
        for r in rows
        if r["status"] != "reject"
    ]
    t_browser, _ = dual_player(
        new_url=new_url,
        ref_url=ref_url,
        warp=warp,
        duration_new_s=float(new.info["duration_s"]),
        duration_ref_s=float(ref.info["duration_s"]),
        fps=float(fps),
        fps_ref=float(ui.fps_of(ref.info)),
        markers=ticks,
        low_bands=low_confidence_spans(
            np.asarray(warp.t_new_s), np.asarray(warp.confidence), ui.REVIEW_THRESHOLD, 0.1
        ),
        anchor_rev=f"{len(anchors)}:{hash(tuple(anchors))}",
        seek={"t": pos["t"], "seq": pos.get("seek_seq", 0)},
        key="dual_player",
        on_pin=pin_anchor,
    )
    if (
        t_browser is not None
        and abs(float(t_browser) - pos["t"]) > 1e-3
        and st.session_state.get("_review_last_browser_t") != t_browser
    ):
        st.session_state["_review_last_browser_t"] = t_browser
        save_pos(t=float(t_browser))

t_now = float(pos["t"])
t_ref_now = float(warp.to_ref(t_now))
st.caption(
    f"Playhead: new {t_now:.2f} s → reference "
    f"{'outside overlap' if math.isnan(t_ref_now) else f'{t_ref_now:.2f} s'} · "
    f"{len(pending())} marker(s) still need review · {len(anchors)} anchor(s)"
)

# --- the current marker and the keys ------------------------------------------------------------
by_time = sorted(rows, key=lambda r: (not math.isfinite(r["t_new_s"]), r["t_new_s"], r["t_ref_s"]))
sel = next((r for r in rows if r["key"] == pos.get("selected")), None)
bar = st.container(horizontal=True, gap="small")  # buttons at their own width, wrapping
nav = [bar] * 8
if nav[0].button(
    "Next needs-review",
    key="next_review",
    type="primary",
    icon=":material/skip_next:",
    disabled=not pending(),
    shortcut="N",
):
    after = [r for r in pending() if math.isfinite(r["t_new_s"]) and r["t_new_s"] > t_now + 1e-3]
    go_to((after or pending())[0])
    st.rerun()
if nav[1].button("Previous", key="prev_marker", icon=":material/skip_previous:", shortcut="P"):
    here = sel["t_new_s"] if sel is not None and math.isfinite(sel["t_new_s"]) else t_now
    before = [r for r in by_time if math.isfinite(r["t_new_s"]) and r["t_new_s"] < here - 1e-3]
    if before:
        go_to(before[-1])
        st.rerun()
    st.toast("No marker before this one.")
can_act = sel is not None
can_move = can_act and math.isfinite(sel["t_new_s"])
if nav[2].button("Accept", key="accept", disabled=not can_act, shortcut="A"):
    store.decide(key, sel["key"], "accept")
    st.rerun()
if nav[3].button("Reject", key="reject", disabled=not can_act, shortcut="X"):
    store.decide(key, sel["key"], "reject")
    st.rerun()
for col, delta, label, short in ((nav[4], -1, "−1 frame", "J"), (nav[5], 1, "+1 frame", "K")):
    if col.button(label, key=f"nudge{delta}", disabled=not can_move, shortcut=short):
        t_new = max(0.0, round(sel["t_new_s"] / frame_s) * frame_s + delta * frame_s)
        store.decide(key, sel["key"], "nudge", t_new)
        seek(t_new)
        st.rerun()
if nav[6].button("At playhead", key="here", disabled=not can_act, help="Place it at the playhead"):
    store.decide(key, sel["key"], "nudge", round(t_now / frame_s) * frame_s)
    st.rerun()
if nav[7].button("Undo", key="undo", icon=":material/undo:", shortcut="U"):
    what = store.undo_last(key)
    st.toast(f"Undone: {what}." if what else "Nothing to undo.")
    st.rerun()
st.caption(KEYS_HELP)

if sel is None:
    st.info("No marker selected: press **N** for the next one that needs review, or pick a row.")
else:
    status = {
        "accept": ":green[**accepted**]",
        "reject": ":red[**rejected**]",
        None: ":orange[**needs review**]" if sel["needs_review"] else "ok",
    }[sel["status"]]
    t_txt = f"{sel['t_new_s']:.3f} s" if math.isfinite(sel["t_new_s"]) else "outside overlap"
    st.markdown(
        f"Selected: **{sel['name']}** · new {t_txt} · ref {sel['t_ref_s']:.2f} s · "
        f"confidence **{sel['confidence']:.2f}** · {status}"
        + (" · nudged" if sel["nudged"] else "")
    )

# --- every marker at hand -----------------------------------------------------------------------
st.subheader("Markers")
f1, f2 = st.columns([3, 2])
show = f1.segmented_control("Show", FILTERS, default="All", key="marker_filter")
needle = f2.text_input("Name contains", key="marker_search", placeholder="filter by name")
keep = {
    "All": lambda r: True,
    "Needs review": lambda r: r["needs_review"] and r["status"] is None,
    "Undecided": lambda r: r["status"] is None,
    "Accepted": lambda r: r["status"] == "accept",
    "Rejected": lambda r: r["status"] == "reject",
}[show or "All"]
listed = [
    r for r in by_time if keep(r) and (not needle or needle.strip().lower() in r["name"].lower())
]
table = st.dataframe(
    [
        {
            "name": r["name"],
            "colour": r["colour"],
            "t_ref_s": round(r["t_ref_s"], 3),
            "t_new_s": round(r["t_new_s"], 3) if math.isfinite(r["t_new_s"]) else None,
            "confidence": round(float(r["confidence"]), 3),
            "needs_review": bool(r["needs_review"] and r["status"] is None),
            "decision": (r["status"] or "") + (" (nudged)" if r["nudged"] else ""),
        }
        for r in listed
    ],
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    key="markers_table",
    column_config={
        "confidence": st.column_config.ProgressColumn(
            "confidence", min_value=0.0, max_value=1.0, format="%.2f"
        )
    },
)
picked = list(getattr(getattr(table, "selection", None), "rows", []) or [])
pick_sig = (show, needle, tuple(picked))
if picked and st.session_state.get("_review_pick") != pick_sig and picked[0] < len(listed):
    st.session_state["_review_pick"] = pick_sig
    go_to(listed[picked[0]])
    st.rerun()
st.caption(f"{len(listed)} of {len(rows)} markers shown · click a row to go there")

# --- confidence histogram ---------------------------------------------------------------------
conf = np.array([r["confidence"] for r in rows], float)
if conf.size:
    fig = go.Figure(
        go.Histogram(
            x=conf, xbins={"start": 0, "end": 1.0001, "size": 0.05}, marker_color="#f28c28"
        )
    )
    fig.add_vline(x=ui.REVIEW_THRESHOLD, line_dash="dash", annotation_text="review threshold")
    fig.update_layout(
        height=220,
        margin={"l": 40, "r": 10, "t": 30, "b": 40},
        xaxis_title="marker confidence",
        yaxis_title="markers",
    )
    st.plotly_chart(fig, key="conf_hist")
    done = sum(r["status"] is not None for r in rows)
    st.caption(f"{len(rows)} markers · {done} decided · {len(pending())} pending review")

log = store.decision_log(key)
if log:
    with st.expander(f"Decision history ({len(log)})"):
        st.dataframe(
            [
                {
                    "when": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)),
                    "marker": mk.rsplit("@", 1)[0],
                    "decision": d,
                    "t_new_s": t,
                }
                for mk, d, t, at in reversed(log)
            ],
            hide_index=True,
        )
