"""Review page: markers near the playhead, next needs-review, accept / reject / nudge by a frame."""

from __future__ import annotations

import pytest

from app import jobs
from app.state import ProjectStore, marker_key, project_file


def _store(project_dir):
    return ProjectStore(project_file("ride", project_dir))


def test_review_accept_nudge_and_next(app_test, synced_dir):
    store = _store(synced_dir)
    key = jobs.sync_key(store)
    at = app_test("review")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.get("bidi_component"), "the dual player is mounted"
    text = " ".join(m.value for m in at.markdown)
    assert "rock garden" in text and "drop" in text and "split 2" not in text  # only +-5 s of 0
    rock, drop = marker_key("rock garden", 2.0), marker_key("drop", 4.0)
    at.button(key=f"accept_{rock}").click().run()
    assert store.decisions(key)[rock]["status"] == "accept"
    assert ":green[**accepted**]" in " ".join(m.value for m in at.markdown)

    from mtbsync_core import TimeWarp, transfer_markers

    warp = TimeWarp.from_dict(store.sync(key)["warp"])
    t_drop = next(
        m.t_new_s for m in transfer_markers(store.ref_markers(), warp) if m.name == "drop"
    )
    at.button(key=f"nudge1_{drop}").click().run()
    assert store.decisions(key)[drop]["t_new_s"] == pytest.approx(round(t_drop * 30) / 30 + 1 / 30)

    # "finish" lies past the end of the new run: flagged, and next-needs-review selects it
    at.button(key="next_review").click().run()
    finish = marker_key("finish", 9.6)
    assert store.get_meta(f"review:{key}")["selected"] == finish
    at.button(key=f"here_{finish}").click().run()  # placed by hand at the playhead
    assert store.decisions(key)[finish]["t_new_s"] == pytest.approx(
        round(store.get_meta(f"review:{key}")["t"] * 30) / 30
    )
    at.button(key=f"reject_{finish}").click().run()
    assert store.decisions(key)[finish]["status"] == "reject"
    assert at.button(key="next_review").disabled
    assert len(at.get("plotly_chart")) == 1  # confidence histogram
    history = at.dataframe[-1].value  # every decision, newest first, with its time
    assert list(history["decision"]) == ["reject", "nudge", "nudge", "accept"]
    assert list(history["marker"]) == ["finish", "finish", "drop", "rock garden"]


def test_review_position_survives_a_new_session(app_test, synced_dir):
    store = _store(synced_dir)
    key = jobs.sync_key(store)
    store.set_meta(f"review:{key}", {"t": 7.5, "selected": None, "seek_seq": 3})
    at = app_test("review")
    assert "Playhead: new 7.50 s" in " ".join(c.value for c in at.caption)
    assert "split 2" in " ".join(m.value for m in at.markdown)
    assert store.get_meta(f"review:{key}")["seek_seq"] == 4  # the player is told to seek there


def test_review_without_sync_says_what_to_do(app_test, project_dir, clips, new_project):
    new_project(project_dir, "fresh", clips, sync=False)
    at = app_test("review")
    assert not at.exception
    assert "Not synced yet" in at.info[0].value
