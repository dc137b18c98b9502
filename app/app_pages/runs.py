"""Runs: the trail's runs against its reference — add runs, sync them all in the background, compare
them (summary, delta-time curves, split times with the fastest per segment) and open one in Review."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import batch_jobs, jobs, runs_view, ui
from app.project_ops import register_run
from app.state import ProjectStore
from mtbsync_core import MtbSyncError

st.title("Runs")
store = ui.require_store()


def add_runs_form(store: ProjectStore) -> None:
    path_tab, upload_tab = st.tabs(["Paths on disk (files, folders or globs)", "Upload"])
    with path_tab:
        text = st.text_area("One path, folder or glob per line", key="runs_paths", height=80)
        if st.button("Add runs", key="runs_add") and text.strip():
            from mtbsync_core.batch import find_runs

            ref = store.video("ref")
            try:
                for p in find_runs(
                    [ln.strip() for ln in text.splitlines() if ln.strip()], ref.path
                ):
                    register_run(store, p)
            except MtbSyncError as err:
                st.error(str(err))
            else:
                st.rerun()
    with upload_tab:
        ups = st.file_uploader("Run videos", type=["mp4", "mov", "m4v"], accept_multiple_files=True)
        if ups and st.button("Add uploaded runs", key="runs_upload"):
            try:
                for up in ups:
                    register_run(store, ui.saved_upload(store, up))
            except MtbSyncError as err:
                st.error(str(err))
            else:
                st.rerun()


@st.fragment(run_every=1.0)
def batch_progress(store: ProjectStore) -> None:
    job = batch_jobs.get_batch(store)
    if job is None or job.status != "running":
        st.rerun()
    st.progress(job.fraction, text=f"Syncing runs — {job.done} of {job.total} ({job.stage})")
    for line in job.lines[-5:]:
        st.caption(line)


def open_in_review(store: ProjectStore, name: str) -> None:
    from app.project_ops import register_video

    run = next(r for r in store.runs() if r.name == name)
    register_video(store, "new", run.path)
    key = jobs.sync_key(store)
    if key is not None and store.sync(key) is None:
        jobs.start_sync(store)  # the review needs the pair's sync and browser proxies
    st.switch_page("app_pages/review.py")


def delta_plot(store: ProjectStore) -> None:
    fig = go.Figure()
    for c in runs_view.delta_curves(store):
        fig.add_trace(
            go.Scatter(
                x=c.t_ref_s, y=c.delta_s, mode="lines", name=c.run,
                hovertemplate=f"<b>{c.run}</b><br>reference %{{x:.1f}} s<br>%{{y:+.2f}} s<extra></extra>",
            )
        )  # fmt: skip
    for m in store.ref_markers():
        fig.add_vline(x=m.t_ref_s, line_dash="dot", line_color="grey", annotation_text=m.name)
    fig.update_layout(
        xaxis_title="reference time (s)", yaxis_title="behind (+) / ahead (−) of the reference (s)",
        height=380, margin=dict(l=10, r=10, t=30, b=10), hovermode="closest",
    )  # fmt: skip
    st.plotly_chart(fig, width="stretch", key="runs_delta")


def splits_table(store: ProjectStore) -> None:
    names, rows = runs_view.split_table(store)
    if not names:
        st.info("Add at least two reference markers to get split times.")
        return
    fastest = runs_view.fastest_per_segment(names, rows)
    df = pd.DataFrame(rows).set_index("run")

    def mark(col: pd.Series) -> list[str]:
        win = fastest.get(col.name)
        return [
            "background-color: #c8f7c5; font-weight: bold" if i == win else "" for i in col.index
        ]

    st.dataframe(df.style.apply(mark, subset=list(fastest)).format("{:.2f}", na_rep="—"))
    st.caption("Fastest run per segment highlighted; the last row sums the best segments.")


ref = store.video("ref")
if ref is None:
    st.info("Add a reference video on the **Project** page first.")
    st.stop()
st.caption(f"Reference: `{ref.path}` · {len(store.ref_markers())} marker(s)")
with st.expander("Add runs", expanded=not store.runs()):
    add_runs_form(store)
runs = store.runs()
if not runs:
    st.info("No runs yet: add them above.")
    st.stop()

job = batch_jobs.get_batch(store)
if job is not None and job.status == "running":
    batch_progress(store)
else:
    if job is not None and job.status == "failed":
        st.error(job.error)
    todo = sum(r.outcome is None for r in runs)
    label = f"Sync all runs ({todo} new)" if todo else "Sync all runs again"
    if st.button(label, type="primary", key="runs_sync"):
        batch_jobs.start_batch(store)
        st.rerun()

rows = runs_view.summary(store)
if not rows:
    st.info(f"{len(runs)} run(s), none synced yet.")
    st.stop()
st.subheader("Summary")
statuses = sorted({r["status"] for r in rows})
keep = st.multiselect("Status", statuses, default=statuses, key="runs_status")
table = pd.DataFrame([r for r in rows if r["status"] in keep])
st.dataframe(table, hide_index=True, key="runs_summary")
st.subheader("Against the reference")
delta_plot(store)
st.subheader("Split times")
splits_table(store)
synced = [r["run"] for r in rows if r["status"] in ("ok", "low_confidence")]
if synced:
    c1, c2 = st.columns([3, 1])
    pick = c1.selectbox("Run", synced, key="runs_pick")
    if c2.button("Open in Review", key="runs_open"):
        open_in_review(store, pick)
