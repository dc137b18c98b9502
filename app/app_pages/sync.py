"""Index & sync: run the engine off the script thread, show live progress and per-stage timings.

Results are stored under a key made of the videos' content hashes (and tracks), so a rerun, a
page switch or a restart shows the stored result instead of recomputing.
"""

from __future__ import annotations

import streamlit as st

from app import jobs, ui
from app.state import ProjectStore

st.title("Index & sync")
store = ui.require_store()


def show_result(res: dict) -> None:
    report = res.get("report") or {}
    if res["status"] != "ok":
        st.error(res["error"] or "The sync failed.")
        st.caption(
            "The project is unchanged: pick other videos on the Project page, or add anchors "
            "by hand once a sync succeeds."
        )
    else:
        a, b = report.get("overlap_new_s") or (None, None)
        c1, c2, c3 = st.columns(3)
        c1.metric("Status", str(report.get("status", "ok")))
        c2.metric("Overlap on the new run", f"{a:.1f} – {b:.1f} s" if a is not None else "—")
        cov = report.get("coverage")
        c3.metric("Coverage", f"{100 * cov:.0f} %" if isinstance(cov, int | float) else "—")
    timings = {**(report.get("app_timings_s") or {}), **(report.get("timings_s") or {})}
    if timings:
        st.markdown("**Timings per stage**")
        st.dataframe(
            [{"stage": k, "seconds": round(float(v), 3)} for k, v in timings.items()],
            hide_index=True,
        )
    with st.expander("Full report (JSON)"):
        st.json(report)


@st.fragment(run_every=1.0)
def live_progress(store: ProjectStore, key: str) -> None:
    job = jobs.get_job(key)
    if job is None or job.status != "running":
        st.rerun()  # finished: redraw the whole page with the stored result
    total = f" of {job.total}" if job.total else ""
    what = "making browser proxies for the review page" if job.synced else "syncing"
    st.progress(job.fraction, text=f"{what} — {job.stage}: {job.done}{total}")
    if job.timings_s:
        st.caption(" · ".join(f"{k} {v:.1f} s" for k, v in job.timings_s.items()))


key, res = ui.finished_sync(store)
if key is None:
    st.info("Add a reference and a new video on the **Project** page first.")
    st.stop()
ref, new = store.video("ref"), store.video("new")
st.caption(f"Reference `{ref.path}` · new `{new.path}` · sync key `{key}`")
job = jobs.get_job(key)
running = job is not None and job.status == "running"
if running:
    live_progress(store, key)
if res is None and not running:
    st.info(
        "Not synced yet. The reference is indexed once and reused; proxies for the review page "
        "are made at the same time."
    )
    if st.button("Run sync", type="primary", key="run_sync"):
        jobs.start_sync(store)
        st.rerun()
elif res is not None:
    show_result(res)
    if not running and st.button("Run again", key="rerun_sync"):
        jobs.start_sync(store)
        st.rerun()
    if res["status"] == "ok":
        st.page_link(
            "app_pages/warp.py", label="Next: check the warp →", icon=":material/show_chart:"
        )
