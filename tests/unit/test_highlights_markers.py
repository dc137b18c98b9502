"""Highlights as editor markers: one per highlight, lasting as long as its events, every format."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from fractions import Fraction

from mtbsync_core.export import export_to_string
from mtbsync_core.highlights import Event, merge_events
from mtbsync_core.highlights.io import HighlightResult
from mtbsync_core.highlights.markers import highlights_to_markers
from mtbsync_core.timebase import timecode_to_frames


def _markers():
    events = (
        Event("jump", 2.0, 2.6, 0.7, "airtime 600 ms", "imu"),
        Event("fast", 20.0, 26.0, 0.9, "top 50 km/h", "gps"),
    )
    r = HighlightResult("run.mp4", 40.0, ("imu",), events, tuple(merge_events(events)))
    return highlights_to_markers(r)


def test_one_marker_per_highlight_in_time_order():
    ms = _markers()
    assert [(m.name, m.t_new_s, m.duration_s) for m in ms] == [
        ("#2 jump", 2.0, 0.6000000000000001),
        ("#1 fast", 20.0, 6.0),
    ]
    assert ms[1].comment == "fast: top 50 km/h" and ms[1].confidence == 0.9


def test_edl_and_premiere_markers_span_the_event():
    fps = Fraction(30)
    edl = export_to_string("edl", _markers(), fps=fps)
    events = re.findall(r"^\d{3}  001 +V +C +(\S+) (\S+)", edl, re.M)
    spans = [timecode_to_frames(b, fps) - timecode_to_frames(a, fps) for a, b in events]
    assert spans == [18, 180]
    assert re.findall(r"\|D:(\d+)", edl) == ["18", "180"]
    root = ET.fromstring(export_to_string("premiere", _markers(), fps=fps).split("\n", 2)[2])
    got = [(int(m.find("in").text), int(m.find("out").text)) for m in root.iter("marker")]
    assert got == [(60, 78), (600, 780)]
