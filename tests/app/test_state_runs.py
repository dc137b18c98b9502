"""Trail projects in the SQLite store: runs, and the migration of a version-1 project file (one
reference, one new run) written by the code before runs existed (tests/app/data/project_v1.sqlite)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from app.state import SCHEMA_VERSION, ProjectStore

V1_FILE = Path(__file__).parent / "data" / "project_v1.sqlite"


def _tables(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        con.close()


def test_v1_project_file_is_migrated_and_keeps_everything(tmp_path):
    p = tmp_path / "old" / "project.sqlite"
    p.parent.mkdir()
    shutil.copy(V1_FILE, p)
    assert "runs" not in _tables(p) and "schema_version" not in str(
        sqlite3.connect(p).execute("SELECT key FROM meta").fetchall()
    )
    store = ProjectStore(p)
    assert store.get_meta("schema_version") == SCHEMA_VERSION == 2
    runs = store.runs()
    assert [(r.name, r.path, r.content_hash, r.outcome) for r in runs] == [
        ("2024-06-lap", "/videos/2024-06-lap.mp4", "q1:bbbb", None)
    ]
    assert runs[0].info["fps"] == "30000/1001"
    # everything the single-pair project had is still there, unchanged
    assert store.video("ref").path == "/videos/2024-05-ref.mp4"
    assert store.video("new").content_hash == "q1:bbbb"
    assert store.track("ref") == "/videos/ref.gpx"
    assert [(m.name, m.t_ref_s, m.colour, m.comment) for m in store.ref_markers()] == [
        ("rock garden", 4.5, "red", "left line"),
        ("drop", 8.2, "", ""),
    ]
    sync = store.sync("s1:cafe")
    assert sync["status"] == "ok" and sync["report"]["coverage"] == 0.9
    assert store.anchors("s1:cafe") == [(1.0, 1.1)]
    assert store.decisions("s1:cafe")["drop@8.200"]["status"] == "accept"
    assert store.get_meta("review_position_s") == 12.5
    # opening it again changes nothing
    again = ProjectStore(p)
    assert [r.name for r in again.runs()] == ["2024-06-lap"]


def test_runs_are_added_updated_and_removed(tmp_path):
    store = ProjectStore(tmp_path / "p" / "project.sqlite")
    assert store.runs() == []
    assert store.add_run("/v/lap1.mp4", "q1:1", {"duration_s": 10.0}) == "lap1"
    store.add_run("/v/lap2.mp4", "q1:2", {"duration_s": 12.0})
    store.set_run_outcome("lap1", {"status": "ok", "coverage": 0.95}, "/out/runs/lap1")
    store.add_run("/v/lap2.mp4", "q1:2", {"duration_s": 12.0})  # same file again: one row
    assert [r.name for r in store.runs()] == ["lap1", "lap2"]
    assert store.runs()[0].outcome == {"status": "ok", "coverage": 0.95}
    store.add_run("/v/lap1.mp4", "q1:changed", {"duration_s": 10.0})  # the file changed
    assert store.runs()[0].outcome is None  # its old outcome no longer holds
    store.remove_run("lap2")
    assert [r.name for r in store.runs()] == ["lap1"]
    store.set_video("new", "/v/lap3.mp4", "q1:3", {"duration_s": 9.0})
    assert [r.name for r in store.runs()] == ["lap1", "lap3"]
    assert json.loads(json.dumps(store.runs()[1].info)) == {"duration_s": 9.0}
