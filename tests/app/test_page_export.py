"""Export page: every format downloads the reviewed markers; the EDL and CSV parse back."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from app import jobs
from app.state import ProjectStore, marker_key, project_file


@pytest.fixture()
def downloads(monkeypatch) -> dict[str, bytes]:
    """{file name: bytes} of every download button the page renders."""
    seen: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        if filename:
            seen[filename] = bytes(path_or_data)
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return seen


def test_export_downloads_parse_back(app_test, synced_dir, downloads, tmp_path):
    store = ProjectStore(project_file("ride", synced_dir))
    key = jobs.sync_key(store)
    store.decide(key, marker_key("root", 6.0), "reject")
    store.decide(key, marker_key("drop", 4.0), "nudge", 4.0)
    at = app_test("export")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert sorted(downloads) == [
        "new_markers.csv",
        "new_markers.edl",
        "new_markers.fcpxml",
        "new_markers.json",
        "new_markers.xml",
    ]
    edl = tmp_path / "m.edl"
    edl.write_bytes(downloads["new_markers.edl"])
    from mtbsync_core import read_edl

    got = {m.name: m.t_ref_s for m in read_edl(edl, fps=Fraction(30))}
    # root rejected, finish outside the overlap: both left out; drop nudged to exactly 4.0 s
    assert sorted(got) == ["drop", "rock garden", "split 2"]
    assert got["drop"] == pytest.approx(4.0, abs=1e-6)
    csv_text = downloads["new_markers.csv"].decode()
    assert "root" not in csv_text and "drop" in csv_text
    assert any("rejected" in m.value for m in at.markdown)
    doc = json.loads(downloads["new_markers.json"])
    names = sorted(m["name"] for m in (doc["markers"] if isinstance(doc, dict) else doc))
    assert "root" not in names and "drop" in names


def test_export_without_project_says_what_to_do(app_test, project_dir):
    at = app_test("export")
    assert not at.exception
    assert "create one" in at.info[0].value
