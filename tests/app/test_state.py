"""The project store: WAL, anchors with undo, marker decisions, two writers at once."""

from __future__ import annotations

import sqlite3
import threading
from unittest.mock import ANY

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


def test_one_undo_steps_back_through_decisions_and_anchor_edits(tmp_path):
    store = ProjectStore(tmp_path / "p" / "project.sqlite")
    store.decide("k", "drop@8.200", "accept")
    store.set_anchors("k", [(5.0, 5.5)])
    store.decide("k", "drop@8.200", "nudge", 8.4)
    store.decide("k", "berm@14.600", "reject")
    assert store.undo_last("k") == "reject of berm"
    assert store.decisions("k")["drop@8.200"] == {"status": "accept", "t_new_s": 8.4, "at": ANY}
    assert "berm@14.600" not in store.decisions("k")
    assert store.undo_last("k") == "nudge of drop"
    assert store.decisions("k")["drop@8.200"]["t_new_s"] is None
    assert store.undo_last("k") == "anchor edit" and store.anchors("k") == []
    assert store.undo_last("k") == "accept of drop"
    assert store.undo_last("k") is None
    again = ProjectStore(store.path)  # undo is kept in the file, like every decision
    assert again.decisions("k") == {} and again.decision_log("k") == []


def test_an_old_project_file_gains_undo(tmp_path):
    import sqlite3

    path = tmp_path / "old" / "project.sqlite"
    path.parent.mkdir()
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE decisions (id INTEGER PRIMARY KEY AUTOINCREMENT, sync_key TEXT NOT NULL,"
        " marker_key TEXT NOT NULL, decision TEXT NOT NULL, t_new_s REAL, at REAL NOT NULL);"
        "INSERT INTO decisions(sync_key, marker_key, decision, t_new_s, at)"
        " VALUES ('k', 'a@1.000', 'accept', NULL, 1.0);"
    )
    con.commit()
    con.close()
    store = ProjectStore(path)
    assert store.decisions("k")["a@1.000"]["status"] == "accept"
    assert store.undo_last("k") == "accept of a"
