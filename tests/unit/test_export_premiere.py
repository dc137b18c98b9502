"""Premiere FCP7 XML (xmeml): golden fields, rate block, pproColor, sequence frames, reading."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest
from export_samples import assert_same_xml, golden_text, placed, sample_markers

from mtbsync_core.errors import ExportError, ImportMarkersError
from mtbsync_core.export import premiere_xml_to_string, read_premiere_xml
from mtbsync_core.export.premiere import PPRO_COLOURS

FPS_DF = Fraction(30000, 1001)


def _xml(**kw) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return premiere_xml_to_string(sample_markers(), **kw)


def _golden_text() -> str:
    return _xml(
        fps=FPS_DF,
        start_tc="01:00:00:00",
        video_name="GX010042.MP4",
        duration_s=80.0,
        width=1920,
        height=1080,
        title="Trail A run 2",
    )


def test_premiere_matches_golden_field_by_field():
    text = _golden_text()
    assert_same_xml(text, golden_text("markers_2997df_premiere.xml", text))


def test_premiere_sequence_rate_and_timecode():
    root = ET.fromstring(_golden_text().encode())
    assert root.tag == "xmeml" and root.get("version") == "4"
    seq = root.find("sequence")
    assert seq.findtext("rate/timebase") == "30" and seq.findtext("rate/ntsc") == "TRUE"
    assert seq.findtext("timecode/string") == "01:00:00;00"
    assert seq.findtext("timecode/frame") == "107892"
    assert seq.findtext("timecode/displayformat") == "DF"
    assert seq.findtext("duration") == "2398"


def test_premiere_markers_frames_names_colours():
    seq = ET.fromstring(_golden_text().encode()).find("sequence")
    marks = {m.findtext("name"): m for m in seq.findall("marker")}
    assert set(marks) == {m.name for m in placed(sample_markers())}
    assert marks["rock garden"].findtext("in") == "370"  # 12.345 s * 29.97 = 369.97
    assert marks["rock garden"].findtext("out") == "-1"
    assert int(marks["rock garden"].findtext("pproColor")) == PPRO_COLOURS["green"]
    assert int(marks["drop"].findtext("pproColor")) == PPRO_COLOURS["yellow"]
    assert int(marks["split 2"].findtext("pproColor")) == PPRO_COLOURS["red"]
    assert marks["split 2"].findtext("comment") == (
        "split 2: check: rider stopped [confidence 0.31; needs review]"
    )


def test_premiere_integer_and_ntsc_timebases():
    for fps, base, ntsc in [
        (Fraction(25), "25", "FALSE"),
        (Fraction(24000, 1001), "24", "TRUE"),
        (Fraction(60000, 1001), "60", "TRUE"),
        (Fraction(50), "50", "FALSE"),
    ]:
        seq = ET.fromstring(_xml(fps=fps).encode()).find("sequence")
        assert (seq.findtext("rate/timebase"), seq.findtext("rate/ntsc")) == (base, ntsc)
    with pytest.raises(ExportError, match="not supported by Premiere"):
        _xml(fps=Fraction(120))


def test_read_premiere_round_trip(tmp_path):
    p = tmp_path / "m.xml"
    p.write_text(_golden_text(), encoding="utf-8")
    got = read_premiere_xml(p)
    want = placed(sample_markers())
    assert [(m.name, m.comment) for m in got] == [(m.name, m.comment) for m in want]
    assert [m.colour for m in got] == ["green", "green", "yellow", "red", "green"]
    for g, w in zip(got, want, strict=True):
        assert abs(g.t_ref_s - w.t_new_s) <= 0.5 / float(FPS_DF)


def test_read_premiere_clip_markers_move_to_sequence_time(tmp_path):
    p = tmp_path / "clip.xml"
    p.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<xmeml version="5"><sequence><rate><timebase>25</timebase><ntsc>FALSE</ntsc></rate>
<media><video><track><clipitem id="c1"><start>50</start><end>150</end><in>100</in><out>200</out>
<marker><name>on clip</name><comment>from Premiere</comment><in>125</in><out>-1</out></marker>
</clipitem></track></video></media>
<marker><name>seq</name><comment></comment><in>10</in><out>-1</out><pproColor>4294741314</pproColor></marker>
</sequence></xmeml>
""",
        encoding="utf-8",
    )
    got = read_premiere_xml(p)
    assert [(m.name, m.t_ref_s, m.colour, m.comment) for m in got] == [
        ("seq", 0.4, "blue", ""),
        ("on clip", 3.0, "", "from Premiere"),
    ]


def test_read_premiere_bad_frame_names_line(tmp_path):
    p = tmp_path / "bad.xml"
    p.write_text(
        "<xmeml version='4'>\n<sequence><rate><timebase>25</timebase></rate>\n"
        "<marker><name>x</name>\n<in>1.5</in></marker></sequence></xmeml>\n"
    )
    with pytest.raises(ImportMarkersError, match=r"line 3: <in> of a <marker> is '1.5'"):
        read_premiere_xml(p)


def test_read_premiere_missing_rate(tmp_path):
    p = tmp_path / "bad.xml"
    p.write_text("<xmeml version='4'><sequence><marker><in>1</in></marker></sequence></xmeml>")
    with pytest.raises(ImportMarkersError, match="no <rate><timebase>"):
        read_premiere_xml(p)
