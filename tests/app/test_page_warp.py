"""Warp page: the editor shows the fitted warp; anchors added, refit at once, undone; bad ones refused."""

from __future__ import annotations

from app import jobs
from app.state import ProjectStore, project_file


def _store(project_dir):
    return ProjectStore(project_file("ride", project_dir))


def test_warp_page_adds_and_undoes_an_anchor(app_test, synced_dir):
    store = _store(synced_dir)
    key = jobs.sync_key(store)
    at = app_test("warp")
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Anchors"] == "0"
    assert at.get("bidi_component"), "the warp editor component is mounted"
    at.number_input(key="anchor_t_new").set_value(5.0)
    at.number_input(key="anchor_t_ref").set_value(5.6).run()
    at.button(key="add_anchor_numbers").click().run()
    assert not at.exception and not at.error
    assert store.anchors(key) == [(5.0, 5.6)]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Anchors"] == "1" and metrics["Refit time"].endswith("ms")
    from mtbsync_core import TimeWarp

    warp = TimeWarp.from_dict(store.sync(key)["warp"]).with_anchors([(5.0, 5.6)])
    assert abs(float(warp.to_ref(5.0)) - 5.6) < 0.02  # the refit passes through the anchor
    at.button(key="undo_anchor").click().run()
    assert store.anchors(key) == []
    assert {m.label: m.value for m in at.metric}["Anchors"] == "0"


def test_contradictory_anchor_is_refused_and_project_kept(app_test, synced_dir):
    store = _store(synced_dir)
    key = jobs.sync_key(store)
    store.set_anchors(key, [(3.0, 3.0)])
    at = app_test("warp")
    at.number_input(key="anchor_t_new").set_value(6.0)
    at.number_input(key="anchor_t_ref").set_value(
        1.0
    ).run()  # later on the new run, earlier on the ref
    at.button(key="add_anchor_numbers").click().run()
    assert not at.exception
    assert len(at.error) == 1
    assert store.anchors(key) == [(3.0, 3.0)]


def test_warp_page_without_sync_says_what_to_do(app_test, project_dir):
    ProjectStore(project_file("empty", project_dir))
    at = app_test("warp")
    assert not at.exception
    assert "Project" in at.info[0].value


def test_anchor_form_offers_no_default_anchor(app_test, synced_dir):
    store = _store(synced_dir)
    key = jobs.sync_key(store)
    at = app_test("warp")
    assert at.number_input(key="anchor_t_new").value is None
    assert at.number_input(key="anchor_t_ref").value is None
    assert at.button(key="add_anchor_numbers").disabled  # one click cannot add (0, 0)
    assert store.anchors(key) == []
