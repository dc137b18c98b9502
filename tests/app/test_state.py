"""The project store: WAL, anchors with undo, marker decisions, two writers at once."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from app.state import ProjectStore, list_projects, marker_key, project_file
from mtbsync_core.model import Marker


def test_project_file_rejects_bad_names(tmp_path):
    with pytest.raises(ValueError, match="not allowed"):
        project_file("../evil", tmp_path)
    assert project_file("line-a", tmp_path) == tmp_path / "line-a" / "project.sqlite"


def test_store_uses_wal_and_lists_projects(tmp_path):
    store = ProjectStore(project_file("a", tmp_path))
    con = sqlite3.connect(store.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
    assert list_projects(tmp_path) == ["a"]


def test_anchor_undo_steps_back(tmp_path):
    store = ProjectStore(project_file("a", tmp_path))
    store.set_anchors("k", [(1.0, 2.0)])
    store.set_anchors("k", [(1.0, 2.0), (5.0, 4.5)])
    assert store.anchors("k") == [(1.0, 2.0), (5.0, 4.5)]
    assert store.undo_anchors("k")
    assert store.anchors("k") == [(1.0, 2.0)]
    store.set_anchors("k", [(3.0, 3.0)])
    assert store.undo_anchors("k")
    assert store.anchors("k") == [(1.0, 2.0)]
    assert store.undo_anchors("k")
    assert store.anchors("k") == []
    assert not store.undo_anchors("k")


def test_decisions_keep_latest_state_and_full_log(tmp_path):
    store = ProjectStore(project_file("a", tmp_path))
    mk = marker_key("drop", 4.0)
    store.decide("k", mk, "accept")
    store.decide("k", mk, "nudge", 3.9)
    store.decide("k", mk, "reject")
    d = store.decisions("k")[mk]
    assert d["status"] == "reject" and d["t_new_s"] == pytest.approx(3.9)
    store.decide("k", mk, "reset")
    assert store.decisions("k")[mk]["status"] is None
    assert [row[1] for row in store.decision_log("k")] == ["accept", "nudge", "reject", "reset"]
    with pytest.raises(ValueError, match="Unknown decision"):
        store.decide("k", mk, "maybe")


def test_two_writers_do_not_corrupt(tmp_path):
    path = project_file("a", tmp_path)
    ProjectStore(path)
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        store = ProjectStore(path)  # like a second browser tab
        try:
            for i in range(60):
                store.decide("k", f"{tag}{i}", "accept")
                store.set_meta(f"pos-{tag}", i)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    store = ProjectStore(path)
    assert len(store.decisions("k")) == 120
    assert store.get_meta("pos-a") == 59 and store.get_meta("pos-b") == 59
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


def test_ref_markers_replaced_atomically(tmp_path):
    store = ProjectStore(project_file("a", tmp_path))
    store.set_ref_markers([Marker("a", 1.0), Marker("b", 2.5, "red", "note")])
    assert store.ref_markers() == [Marker("a", 1.0), Marker("b", 2.5, "red", "note")]
