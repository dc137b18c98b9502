"""Review: scrub both runs side by side, step through doubtful markers, accept / reject / nudge."""

from __future__ import annotations

import html
import math
import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from app import jobs, ui
from app.components.dual_player import dual_player

WINDOW_S = 5.0

st.title("Review")
store = ui.require_store()
key, res = ui.require_synced(store)
ui.require_static_serving()
warp, _ = ui.current_warp(store, key, res)
rows = ui.reviewed_markers(store, key, warp)
new, ref = store.video("new"), store.video("ref")
fps = ui.fps_of(new.info)
frame_s = 1.0 / float(fps)

pos = store.get_meta(f"review:{key}", {"t": 0.0, "selected": None, "seek_seq": 0})


def save_pos(**changes) -> None:
    pos.update(changes)
    store.set_meta(f"review:{key}", pos)


def seek(t: float) -> None:
    save_pos(t=float(t), seek_seq=int(pos.get("seek_seq", 0)) + 1)


def pending() -> list[dict]:
    return [r for r in rows if r["needs_review"] and r["status"] is None]


@st.fragment(run_every=1.0)
def wait_for_proxies(key: str) -> None:
    job = jobs.get_job(key)
    if job is None or job.status != "running":
        st.rerun()
    total = f" of {job.total}" if job.total else ""
    st.progress(job.fraction, text=f"Making the browser proxies — {job.stage}: {job.done}{total}")


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
            "needs_review": bool(r["needs_review"]),
        }
        for r in rows
        if r["status"] != "reject"
    ]
    t_browser = dual_player(
        new_url=new_url,
        ref_url=ref_url,
        warp=warp,
        duration_new_s=float(new.info["duration_s"]),
        fps=float(fps),
        markers=ticks,
        seek={"t": pos["t"], "seq": pos.get("seek_seq", 0)},
        key="dual_player",
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
    f"{len(pending())} marker(s) still need review"
)

# --- navigation -----------------------------------------------------------------------------
c1, c2, c3 = st.columns([1, 1, 3])
if c1.button(
    "Next needs-review",
    key="next_review",
    type="primary",
    icon=":material/skip_next:",
    disabled=not pending(),
):
    after = [r for r in pending() if math.isfinite(r["t_new_s"]) and r["t_new_s"] > t_now + 1e-3]
    target = (after or pending())[0]
    save_pos(selected=target["key"])
    if math.isfinite(target["t_new_s"]):
        seek(target["t_new_s"])
    st.rerun()
if c2.button("Start", key="goto_start", icon=":material/first_page:"):
    seek(0.0)
    st.rerun()

# --- markers near the playhead ----------------------------------------------------------------
near = [r for r in rows if math.isfinite(r["t_new_s"]) and abs(r["t_new_s"] - t_now) <= WINDOW_S]
sel = next((r for r in rows if r["key"] == pos.get("selected")), None)
if sel is not None and sel not in near:
    near = [sel, *near]
st.subheader(f"Markers within ±{WINDOW_S:.0f} s")
if not near:
    st.caption("No markers here. Scrub, or jump to the next marker that needs review.")
for r in near:
    status = {
        "accept": ":green[**accepted**]",
        "reject": ":red[**rejected**]",
        None: ":orange[**needs review**]" if r["needs_review"] else "ok",
    }[r["status"]]
    t_txt = f"{r['t_new_s']:.3f} s" if math.isfinite(r["t_new_s"]) else "outside overlap"
    colour = ui.conf_colour(r["confidence"])
    cols = st.columns([3, 1, 1, 1, 1, 1, 1])
    here = "▸ " if r["key"] == pos.get("selected") else ""
    cols[0].markdown(
        f"{here}<span style='color:{colour}'>●</span> **{html.escape(r['name'])}** · new {t_txt} · "
        f"ref {r['t_ref_s']:.2f} s · "
        f"conf <span style='color:{colour}'>{r['confidence']:.2f}</span> · {status}"
        + (" · nudged" if r["nudged"] else ""),
        unsafe_allow_html=True,
    )
    mk = r["key"]
    if cols[1].button("Accept", key=f"accept_{mk}"):
        store.decide(key, mk, "accept")
        st.rerun()
    if cols[2].button("Reject", key=f"reject_{mk}"):
        store.decide(key, mk, "reject")
        st.rerun()
    for col, delta, label in ((cols[3], -1, "−1 frame"), (cols[4], 1, "+1 frame")):
        if col.button(label, key=f"nudge{delta}_{mk}", disabled=not math.isfinite(r["t_new_s"])):
            t_new = round(r["t_new_s"] / frame_s) * frame_s + delta * frame_s
            store.decide(key, mk, "nudge", max(0.0, t_new))
            save_pos(selected=mk)
            seek(max(0.0, t_new))
            st.rerun()
    if cols[5].button("Go", key=f"go_{mk}", disabled=not math.isfinite(r["t_new_s"])):
        save_pos(selected=mk)
        seek(r["t_new_s"])
        st.rerun()
    if cols[6].button("At playhead", key=f"here_{mk}", help="Place this marker at the playhead"):
        store.decide(key, mk, "nudge", round(t_now / frame_s) * frame_s)
        save_pos(selected=mk)
        st.rerun()

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
