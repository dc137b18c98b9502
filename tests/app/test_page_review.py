"""Review page: the current marker with keys (next, previous, accept, reject, nudge, undo), every
marker in a filterable table, the player, pinning an anchor from the frames."""

from __future__ import annotations

import pytest

from app import jobs
from app.state import ProjectStore, marker_key, project_file


def _store(project_dir):
    return ProjectStore(project_file("ride", project_dir))


def _transferred(store, key):
    from mtbsync_core import TimeWarp, transfer_markers

    warp = TimeWarp.from_dict(store.sync(key)["warp"])
    return {m.name: m for m in transfer_markers(store.ref_markers(), warp)}


def test_review_keys_accept_nudge_undo_and_next(app_test, synced_dir):
    store = _store(synced_dir)
    key = jobs.sync_key(store)
    at = app_test("review")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.get("bidi_component"), "the dual player is mounted"
    assert "Keys" in " ".join(c.value for c in at.caption)
    shortcuts = {b.key: b.proto.shortcut.upper() for b in at.button if b.proto.shortcut}
    assert shortcuts == {
        "next_review": "N",
        "prev_marker": "P",
        "accept": "A",
        "reject": "X",
        "nudge-1": "J",
        "nudge1": "K",
        "undo": "U",
    }
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "name",
        "colour",
        "t_ref_s",
        "t_new_s",
        "confidence",
        "needs_review",
        "decision",
    ]
    assert len(table) == 5 and table.loc[table["name"] == "split 2", "colour"].item() == "blue"

    # "finish" lies past the end of the new run: flagged; next needs-review selects a flagged one
    flagged = [n for n, m in _transferred(store, key).items() if m.needs_review]
    assert "finish" in flagged
    at.button(key="next_review").click().run()
    sel = store.get_meta(f"review:{key}")["selected"]
    assert sel.rsplit("@", 1)[0] in flagged
    at.button(key="accept").click().run()
    assert store.decisions(key)[sel]["status"] == "accept"

    # previous from the end goes to the last marker inside the overlap, then nudge it by a frame
    store.set_meta(f"review:{key}", {"t": 9.9, "selected": None, "seek_seq": 9})
    at.run()
    at.button(key="prev_marker").click().run()
    split = marker_key("split 2", 8.0)
    assert store.get_meta(f"review:{key}")["selected"] == split
    t_split = _transferred(store, key)["split 2"].t_new_s
    at.button(key="nudge1").click().run()
    assert store.decisions(key)[split]["t_new_s"] == pytest.approx(
        round(t_split * 30) / 30 + 1 / 30
    )
    # undo takes the nudge back, then the accept
    at.button(key="undo").click().run()
    assert store.decisions(key).get(split, {}).get("t_new_s") is None
    at.button(key="undo").click().run()
    assert store.decisions(key).get(sel, {}).get("status") is None
    at.button(key="reject").click().run()
    assert store.decisions(key)[split]["status"] == "reject"
    history = at.dataframe[-1].value  # decisions in force, newest first
    assert list(history["decision"]) == ["reject"] and list(history["marker"]) == ["split 2"]
    assert len(at.get("plotly_chart")) == 1  # confidence histogram


def test_marker_table_filters(app_test, synced_dir):
    store = _store(synced_dir)
    key = jobs.sync_key(store)
    store.decide(key, marker_key("drop", 4.0), "reject")
    at = app_test("review")
    at.segmented_control(key="marker_filter").set_value("Rejected").run()
    assert list(at.dataframe[0].value["name"]) == ["drop"]
    at.segmented_control(key="marker_filter").set_value("Needs review").run()
    names = list(at.dataframe[0].value["name"])
    assert "finish" in names and "drop" not in names
    at.segmented_control(key="marker_filter").set_value("All").run()
    at.text_input(key="marker_search").input("GARD").run()
    assert list(at.dataframe[0].value["name"]) == ["rock garden"]


def test_review_position_survives_a_new_session(app_test, synced_dir):
    store = _store(synced_dir)
    key = jobs.sync_key(store)
    store.set_meta(f"review:{key}", {"t": 7.5, "selected": None, "seek_seq": 3})
    at = app_test("review")
    assert "Playhead: new 7.50 s" in " ".join(c.value for c in at.caption)
    assert store.get_meta(f"review:{key}")["seek_seq"] == 4  # the player is told to seek there


def test_review_without_sync_says_what_to_do(app_test, project_dir, clips, new_project):
    new_project(project_dir, "fresh", clips, sync=False)
    at = app_test("review")
    assert not at.exception
    assert "Not synced yet" in at.info[0].value
