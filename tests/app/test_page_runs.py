"""Runs page: add runs by path, sync them all in the background (a real process pool), compare
them (summary with a status filter, delta-time curves, split times) and open one in Review."""

from __future__ import annotations

import time

from app import batch_jobs, jobs, runs_view
from app.state import ProjectStore


def _wait_for_batch(at, store, timeout_s=180):
    job = batch_jobs.get_batch(store)
    assert job is not None, "the batch did not start"
    job.thread.join(timeout=timeout_s)
    assert job.status == "done", job.error
    at.run()


def test_runs_page_syncs_all_runs_and_compares_them(app_test, project_dir, clips, new_project):
    store = new_project(project_dir, "trail", clips, sync=False)
    assert [r.name for r in store.runs()] == ["new"]  # the pair's new video is the first run
    at = app_test("runs")
    assert not at.exception
    at.text_area(key="runs_paths").input(f"{clips['other']}\n").run()
    at.button(key="runs_add").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [r.name for r in ProjectStore(store.path).runs()] == ["new", "other"]
    at.button(key="runs_sync").click().run()
    assert not at.exception
    assert at.get("progress") or batch_jobs.get_batch(store).status != "running"
    _wait_for_batch(at, store)
    assert not at.exception and not at.error, [e.value for e in at.error]
    summary = at.dataframe[0].value
    assert dict(zip(summary["run"], summary["status"], strict=True)) == {
        "new": "ok",
        "other": "no_match",
    }
    # the status filter narrows the table
    at.multiselect(key="runs_status").set_value(["ok"]).run()
    assert list(at.dataframe[0].value["run"]) == ["new"]
    # one delta curve (the run that matched), marker lines on the plot
    curves = runs_view.delta_curves(ProjectStore(store.path))
    assert [c.run for c in curves] == ["new"]
    assert len(at.get("plotly_chart")) == 1
    # split times: the reference, the run, and the best possible run; fastest highlighted
    names, rows = runs_view.split_table(ProjectStore(store.path))
    assert [r["run"] for r in rows] == ["reference", "new", runs_view.BEST_ROW]
    assert runs_view.fastest_per_segment(names, rows)  # new is fastest wherever it has a split
    # a reload finds the finished batch, not a new one
    job = batch_jobs.get_batch(store)
    at2 = app_test("runs")
    assert batch_jobs.get_batch(store) is job and not at2.exception
    # open the run in Review: it becomes the project's pair and its sync starts
    at.selectbox(key="runs_pick").set_value("new").run()
    at.button(key="runs_open").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Review"]  # st.switch_page went to Review
    key = jobs.sync_key(ProjectStore(store.path))
    j = jobs.get_job(key)
    if j is not None and j.thread is not None:
        j.thread.join(timeout=120)
    deadline = time.time() + 5
    while ProjectStore(store.path).sync(key) is None and time.time() < deadline:
        time.sleep(0.2)
    assert ProjectStore(store.path).sync(key)["status"] == "ok"
    assert ProjectStore(store.path).video("new").path == str(clips["new"].resolve())
