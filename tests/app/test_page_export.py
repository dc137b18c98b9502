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


def _new_video(synced_dir):
    return ProjectStore(project_file("ride", synced_dir)).video("new")


def test_xml_exports_declare_the_videos_probed_size(app_test, synced_dir, downloads):
    """Defect 2: the FCPXML and Premiere exports said 1920x1080 for a 320x180 clip."""
    import xml.etree.ElementTree as ET

    from tests.app.conftest import SIZE

    at = app_test("export")
    assert not at.exception and not at.error
    fmt = ET.fromstring(downloads["new_markers.fcpxml"]).find("resources/format")
    assert (fmt.get("width"), fmt.get("height")) == tuple(map(str, SIZE))
    prem = ET.fromstring(downloads["new_markers.xml"])
    sc = prem.find(".//sequence/media/video/format/samplecharacteristics")
    assert (sc.findtext("width"), sc.findtext("height")) == tuple(map(str, SIZE))


def test_app_and_cli_exports_share_one_start_timecode_rule(
    app_test, synced_dir, downloads, tmp_path
):
    """Defect 3: the app's EDL started at 00:00:00:00, the CLI's at 01:00:00:00."""
    from mtbsync_core import write_export

    at = app_test("export")
    assert not at.exception and not at.error
    assert at.text_input(key="start_tc").value == "00:00:00:00"
    assert any("has no start timecode" in c.value for c in at.caption)
    store = ProjectStore(project_file("ride", synced_dir))
    from app import ui

    warp = ui_warp(store)
    markers = [r["marker"] for r in ui.reviewed_markers(store, jobs.sync_key(store), warp)]
    new = _new_video(synced_dir)
    for fmt, name in (("edl", "new_markers.edl"), ("premiere", "new_markers.xml")):
        with pytest.warns(UserWarning):  # "finish" lies outside the overlap
            cli = write_export(fmt, markers, tmp_path / f"cli.{fmt}", video_path=new.path)
        assert downloads[name] == cli.read_bytes(), fmt


def ui_warp(store):
    from mtbsync_core import TimeWarp

    return TimeWarp.from_dict(store.sync(jobs.sync_key(store))["warp"])


def test_a_mistyped_start_timecode_is_said_once_and_keeps_the_buttons(
    app_test, synced_dir, downloads
):
    """Defect 8: a bad timecode showed the same error four times and hid the downloads."""
    at = app_test("export")
    at.text_input(key="start_tc").set_value("1:00").run()
    assert not at.exception
    assert len(at.error) == 1 and "1:00" in at.error[0].value
    buttons = {b.proto.label: b.proto.disabled for b in at.get("download_button")}
    assert len(buttons) == 5
    assert buttons["CSV"] is False and buttons["EDL (DaVinci Resolve)"] is True
    at.text_input(key="start_tc").set_value("10:00:00:00").run()
    assert not at.error
    assert b"10:00:0" in downloads["new_markers.edl"]
