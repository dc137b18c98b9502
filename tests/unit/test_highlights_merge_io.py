"""Merging and ranking highlights, highlights.json / .csv, labels (CVAT, CSV) and scoring."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from mtbsync_core.errors import HighlightError, OutputExistsError
from mtbsync_core.highlights import Event, merge_events, read_highlights, write_highlights
from mtbsync_core.highlights.io import HighlightResult, highlights_csv
from mtbsync_core.highlights.labels import (
    Interval,
    read_cvat_xml,
    read_intervals_csv,
    read_labels,
    score_events,
)


def _ev(kind: str, a: float, b: float, score: float = 0.5) -> Event:
    return Event(kind, a, b, score, f"{kind} at {a}", "imu", {"x": a})


def test_merge_within_gap_pads_clamps_and_ranks():
    events = [
        _ev("jump", 1.0, 1.5, 0.6),
        _ev("loud", 1.6, 2.0, 0.4),
        _ev("fast", 20.0, 26.0, 0.9),
        _ev("crash", 40.0, 42.0, 0.3),
    ]
    his = merge_events(events, merge_gap_s=6.0, pad_s=2.0, duration_s=43.0)
    assert [h.kinds for h in his] == [("fast",), ("jump", "loud"), ("crash",)]
    assert [h.rank for h in his] == [1, 2, 3]
    jl = his[1]
    assert jl.score == pytest.approx(0.6 + 0.25 * 0.4)
    assert (jl.start_s, jl.end_s, jl.clip_start_s, jl.clip_end_s) == (1.0, 2.0, 0.0, 4.0)
    assert his[2].clip_end_s == 43.0  # clamped to the video
    assert len(merge_events(events, merge_gap_s=30.0)) == 1


def _result() -> HighlightResult:
    events = (_ev("jump", 1.0, 1.5, 0.6), _ev("loud", 1.6, 2.0, 0.4), _ev("fast", 20.0, 26.0, 0.9))
    his = tuple(merge_events(events, duration_s=30.0))
    return HighlightResult("run.mp4", 30.0, ("imu", "gps"), events, his, {"pad_s": 2.0})


def test_json_round_trip_and_csv(tmp_path):
    r = _result()
    j, c = write_highlights(r, tmp_path)
    back = read_highlights(j)
    assert back.highlights == r.highlights and back.events == r.events
    assert json.loads(j.read_text())["format"] == "mtbsync.highlights"
    rows = list(csv.DictReader(io.StringIO(c.read_text())))
    assert [row["kinds"] for row in rows] == ["fast", "jump+loud"]
    assert float(rows[1]["clip_end_s"]) == pytest.approx(4.0)
    assert highlights_csv(r) == c.read_text()
    with pytest.raises(OutputExistsError):
        write_highlights(r, tmp_path)
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    with pytest.raises(HighlightError, match="not an mtbsync highlights file"):
        read_highlights(tmp_path / "bad.json")


CVAT = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><name>ride</name><size>900</size><mode>interpolation</mode></task></meta>
  <track id="0" label="trick" source="manual">
    <box frame="30" outside="0" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"/>
    <box frame="45" outside="0" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"/>
    <box frame="60" outside="1" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"/>
    <box frame="300" outside="0" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"/>
    <box frame="329" outside="0" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"/>
  </track>
  <track id="1" label="crash" source="manual">
    <box frame="600" outside="0" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"/>
    <box frame="660" outside="1" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="9" ybr="9" z_order="0"/>
  </track>
</annotations>
"""


def test_cvat_tracks_become_intervals(tmp_path):
    p = tmp_path / "annotations.xml"
    p.write_text(CVAT)
    got = read_cvat_xml(p, fps=30.0, label_map={"trick": "jump"})
    assert got == [
        Interval("jump", 1.0, 2.0),
        Interval("jump", 10.0, 11.0),
        Interval("crash", 20.0, 22.0),
    ]
    frame_t = np.arange(900) / 30.0 + 0.5  # the video's own PTS clock wins over fps
    assert read_labels(p, frame_t_s=frame_t)[0] == Interval("trick", 1.5, 2.5)
    with pytest.raises(HighlightError, match="--fps"):
        read_labels(p)  # frame numbers without a clock
    (tmp_path / "x.xml").write_text("<foo/>")
    with pytest.raises(HighlightError, match="not a CVAT export"):
        read_cvat_xml(tmp_path / "x.xml", fps=30)


def test_csv_labels_and_errors(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("kind,start_s,end_s\njump,1,1.5\ncrash,20,22\n")
    assert read_intervals_csv(p) == [Interval("jump", 1.0, 1.5), Interval("crash", 20.0, 22.0)]
    assert read_labels(p, label_map={"jump": "drop"})[0] == Interval("drop", 1.0, 1.5)
    p.write_text("label,start,end\njump,1,x\n")
    with pytest.raises(HighlightError, match="line 2"):
        read_intervals_csv(p)


def test_score_events_precision_recall_boundaries():
    labels = [Interval("jump", 1.0, 1.5), Interval("jump", 10.0, 10.8), Interval("crash", 20, 21)]
    found = [_ev("jump", 1.02, 1.49), _ev("jump", 30.0, 30.5), _ev("crash", 20.1, 21.5)]
    s = score_events(labels, found)
    assert (s["jump"].true_pos, s["jump"].precision, s["jump"].recall) == (1, 0.5, 0.5)
    assert s["jump"].start_err_median_s == pytest.approx(0.02)
    assert s["jump"].duration_err_median_s == pytest.approx(0.03)
    assert (s["crash"].precision, s["crash"].recall) == (1.0, 1.0)
    assert s["crash"].end_err_median_s == pytest.approx(0.5)
