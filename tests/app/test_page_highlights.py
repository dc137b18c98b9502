"""Highlights page: find a fast stretch in a real encoded video with a GPX, play, accept, export."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from test_cli_highlights import T0, _gpx, _video  # noqa: E402

PAGE = str(Path(__file__).resolve().parents[2] / "app" / "app_pages" / "highlights.py")


def _find(tmp_path, track: bool = True) -> AppTest:
    vid, gpx = tmp_path / "ride.mp4", tmp_path / "ride.gpx"
    if not vid.exists():
        _video(vid)
        _gpx(gpx)
        # the page has no offset field: the GPX gets the video's own creation time instead
        import av

        with av.open(str(vid)) as c, av.open(str(tmp_path / "tagged.mp4"), "w") as o:
            o.metadata["creation_time"] = "2024-05-01T10:00:00.000000Z"  # == T0
            vs = o.add_stream_from_template(c.streams.video[0])
            for p in c.demux(c.streams.video[0]):
                if p.size:
                    p.stream = vs
                    o.mux(p)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.text_input(key="hl_path").input(str(tmp_path / "tagged.mp4"))
    if track:
        at.text_input(key="hl_track").input(str(gpx))
    at.multiselect(key="hl_kinds").set_value(["fast"])
    at.button[0].click().run()
    return at


def test_find_accept_and_export(tmp_path):
    assert T0 == 1_714_557_600.0  # 2024-05-01T10:00:00Z, the creation time written above
    at = _find(tmp_path)
    assert not at.exception and not at.error, at.error
    assert "1** highlight(s)" in at.markdown[0].value
    assert at.selectbox(key="hl_play_select").value == 1
    assert at.get("video"), "the highlight plays"
    out = tmp_path / "export"
    at.text_input(key="hl_out").input(str(out)).run()
    at.button(key="hl_export").click().run()
    assert not at.exception and not at.error, at.error
    assert at.success and "1 clip(s)" in at.success[0].value
    doc = json.loads((out / "highlights.json").read_text())
    assert [h["kinds"] for h in doc["highlights"]] == [["fast"]]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "highlights.json",
            "highlights.csv",
            "highlights.edl",
            "highlights.fcpxml",
            "highlights.xml",
            "tagged_01_fast.mp4",
        ]
    )
    at.button(key="hl_export").click().run()  # again: the files exist and are kept
    assert at.error and "exists" in at.error[0].value


def test_missing_run_shows_one_error(tmp_path):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.run()
    at.text_input(key="hl_path").input(str(tmp_path / "nope.mp4"))
    at.button[0].click().run()
    assert not at.exception
    assert at.error and "nope.mp4" in at.error[0].value
