"""Sync page: runs off the script thread with progress, shows timings; unrelated runs say so."""

from __future__ import annotations

import time

from app import jobs
from app.state import ProjectStore


def _wait_for_result(at, store, timeout_s=120):
    key = jobs.sync_key(store)
    deadline = time.time() + timeout_s
    while store.sync(key) is None and time.time() < deadline:
        time.sleep(0.3)
    job = jobs.get_job(key)
    if job is not None and job.thread is not None:
        job.thread.join(timeout=30)
    at.run()


def test_run_sync_shows_result_and_timings(app_test, project_dir, clips, new_project):
    store = new_project(project_dir, "ride", clips, sync=False)
    at = app_test("sync")
    assert not at.exception
    at.button(key="run_sync").click().run()
    _wait_for_result(at, store)
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = {m.label: m.value for m in at.metric}
    assert labels["Status"] == "ok"
    assert "**Timings per stage**" in [m.value for m in at.markdown]
    stages = set(at.dataframe[0].value["stage"])
    assert {"index", "sync"} <= stages
    # a page switch and back shows the stored result without starting a job again
    job = jobs.get_job(jobs.sync_key(store))
    at.switch_page("app_pages/project.py").run()
    at.switch_page("app_pages/sync.py").run()
    assert jobs.get_job(jobs.sync_key(store)) is job
    assert {m.label for m in at.metric} >= {"Status", "Coverage"}


def test_unrelated_videos_give_a_clear_message(app_test, project_dir, clips, new_project):
    store = new_project(project_dir, "wrong", clips, new="other", sync=False)
    at = app_test("sync")
    at.button(key="run_sync").click().run()
    _wait_for_result(at, store)
    assert not at.exception
    assert len(at.error) == 1 and "No reliable match" in at.error[0].value
    again = ProjectStore(store.path)  # the project is unharmed
    assert again.video("ref").path == str(clips["ref"].resolve())
    assert len(again.ref_markers()) == 5
    # the other pages say why they cannot show anything
    at.switch_page("app_pages/review.py").run()
    assert not at.exception and "No reliable match" in at.error[0].value


def test_progress_count_never_passes_its_total(app_test, project_dir, clips, new_project):
    """Defect 6: the Sync page said "index: 150 of 144" when the engine's estimate ran out."""
    from mtbsync_core.progress import ProgressEvent

    store = new_project(project_dir, "ride", clips, sync=False)
    key = jobs.sync_key(store)
    job = jobs.Job(key, status="running")
    jobs._JOBS[key] = job
    try:
        jobs._progress(job)(ProgressEvent("index", 150, 144, "samples"))
        at = app_test("sync")
        assert not at.exception
        texts = [p.proto.text for p in at.get("progress")]
        assert texts and "index: 150 of 150" in texts[0], texts
    finally:
        job.status = "failed"
        jobs._JOBS.pop(key, None)
