"""FCPXML 1.10: golden fields, exact rationals, markers inside the clip, to-do markers, reading."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest
from export_samples import assert_same_xml, golden_text, placed, sample_markers

from mtbsync_core.errors import ExportError, ImportMarkersError
from mtbsync_core.export import fcpxml_to_string, read_fcpxml
from mtbsync_core.timebase import parse_fraction_s

FPS_DF = Fraction(30000, 1001)


def _fcpxml(**kw) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fcpxml_to_string(sample_markers(), **kw)


def _golden_2997() -> str:
    return _fcpxml(
        fps=FPS_DF,
        start_tc="19:26:48;04",
        video_name="GX010042.MP4",
        duration_s=80.0,
        width=1920,
        height=1080,
        title="Trail A run 2",
    )


def test_fcpxml_matches_golden_field_by_field():
    text = _golden_2997()
    assert_same_xml(text, golden_text("markers_2997df.fcpxml", text))


def test_fcpxml_structure_and_version():
    text = _golden_2997()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>')
    root = ET.fromstring(text.encode())
    assert root.tag == "fcpxml" and root.get("version") == "1.10"
    fmt = root.find("resources/format")
    assert fmt.get("frameDuration") == "1001/30000s"
    asset = root.find("resources/asset")
    assert asset.get("format") == fmt.get("id") and asset.find("media-rep") is not None
    clip = root.find("library/event/project/sequence/spine/asset-clip")
    assert clip.get("ref") == asset.get("id")
    assert len(clip.findall("marker")) == 5  # the NaN one is left out
    assert root.find("library/event/project/sequence").get("tcFormat") == "DF"


def test_fcpxml_times_are_exact_frame_multiples():
    root = ET.fromstring(_golden_2997().encode())
    clip = root.find(".//asset-clip")
    start = parse_fraction_s(clip.get("start"))
    # 19:26:48;04 drop-frame is frame 2098144 at 29.97
    assert start == Fraction(2098144 * 1001, 30000)
    frame_s = Fraction(1001, 30000)
    for el in root.iter():
        for attr in ("start", "duration", "offset", "tcStart"):
            if el.get(attr) is not None:
                value = parse_fraction_s(el.get(attr))
                assert (value / frame_s).denominator == 1, f"{el.tag} {attr}={el.get(attr)}"
                assert "." not in el.get(attr)
    rg = next(m for m in clip.iter("marker") if m.get("value") == "rock garden")
    assert parse_fraction_s(rg.get("start")) - start == 370 * frame_s


def test_fcpxml_needs_review_is_a_todo_marker():
    clip = ET.fromstring(_golden_2997().encode()).find(".//asset-clip")
    completed = {m.get("value"): m.get("completed") for m in clip.iter("marker")}
    assert completed["split 2"] == "0"
    assert completed["rock garden"] is None and completed["drop"] is None


def test_fcpxml_escapes_and_reads_back_special_characters(tmp_path):
    p = tmp_path / "m.fcpxml"
    p.write_text(_golden_2997(), encoding="utf-8")
    got = read_fcpxml(p)
    want = placed(sample_markers())
    assert [(m.name, m.comment) for m in got] == [(m.name, m.comment) for m in want]
    assert got[-1].comment == "roots & <mud>"
    assert [m.colour for m in got] == ["", "", "", "red", ""]
    for g, w in zip(got, want, strict=True):
        assert abs(g.t_ref_s - w.t_new_s) <= 0.5 / float(FPS_DF)


def test_fcpxml_integer_rate_and_unusual_rates():
    text = _fcpxml(fps=Fraction(25))
    assert 'frameDuration="1/25s"' in text and 'tcFormat="NDF"' in text
    assert 'frameDuration="1001/120000s"' in _fcpxml(fps=Fraction(120000, 1001))
    with pytest.raises(ExportError, match="not supported by FCPXML"):
        _fcpxml(fps=Fraction(273, 10))


def test_read_fcpxml_nested_and_offset_clips(tmp_path):
    p = tmp_path / "fcp.fcpxml"
    p.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.11"><resources><format id="r1" frameDuration="1/25s"/></resources>
<library><event name="e"><project name="p">
<sequence format="r1" tcStart="3600s" duration="100s"><spine>
  <gap offset="3600s" start="3600s" duration="10s"/>
  <asset-clip ref="r2" offset="3610s" start="50s" duration="20s">
    <marker start="52s" duration="1/25s" value="two in" note="plain note"/>
    <chapter-marker start="53s" duration="1/25s" value="chapter"/>
    <clip offset="55s" start="0s" duration="5s" lane="1">
      <marker start="1s" duration="1/25s" value="connected" completed="1"/>
    </clip>
  </asset-clip>
</spine></sequence></project></event></library></fcpxml>
""",
        encoding="utf-8",
    )
    got = read_fcpxml(p)
    assert [(m.name, m.t_ref_s) for m in got] == [
        ("two in", 12.0),
        ("chapter", 13.0),
        ("connected", 16.0),
    ]
    assert got[0].comment == "plain note" and got[2].colour == "green"


def test_read_fcpxml_bundle_folder(tmp_path):
    bundle = tmp_path / "Project.fcpxmld"
    bundle.mkdir()
    (bundle / "Info.fcpxml").write_text(_golden_2997(), encoding="utf-8")
    assert len(read_fcpxml(bundle)) == 5


def test_read_fcpxml_malformed_xml_names_line(tmp_path):
    p = tmp_path / "bad.fcpxml"
    p.write_text('<?xml version="1.0"?>\n<fcpxml version="1.10">\n<resources>\n</fcpxml>\n')
    with pytest.raises(ImportMarkersError, match=r"line 4, column \d+: malformed FCPXML"):
        read_fcpxml(p)


def test_read_fcpxml_bad_time_names_line(tmp_path):
    p = tmp_path / "bad.fcpxml"
    p.write_text(
        '<fcpxml version="1.10">\n<library><event><project><sequence><spine>\n'
        '<asset-clip offset="0s" start="0s">\n<marker start="1.5" value="x"/>\n'
        "</asset-clip></spine></sequence></project></event></library></fcpxml>\n"
    )
    with pytest.raises(ImportMarkersError, match=r"line 4: <marker start='1.5'>"):
        read_fcpxml(p)


def test_read_fcpxml_rejects_other_xml(tmp_path):
    p = tmp_path / "x.fcpxml"
    p.write_text("<xmeml version='4'/>")
    with pytest.raises(ImportMarkersError, match="not FCPXML"):
        read_fcpxml(p)


def _fcpxml_dtd():
    """Apple's FCPXML 1.10 DTD where this machine has one (never shipped in the repo)."""
    import os
    from pathlib import Path

    candidates = [
        os.environ.get("MTBSYNC_FCPXML_DTD", ""),
        str(
            Path(__file__).resolve().parents[3]
            / "shared"
            / "data"
            / "fcpxml-dtd"
            / "FCPXMLv1_10.dtd"
        ),
        "/Applications/Final Cut Pro.app/Contents/Frameworks/Interchange.framework/"
        "Versions/A/Resources/FCPXMLv1_10.dtd",
    ]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def test_fcpxml_validates_against_apples_dtd_where_available(tmp_path):
    dtd = _fcpxml_dtd()
    if dtd is None:
        pytest.skip(
            "Apple's FCPXML 1.10 DTD not on this machine (the shared data folder, or set "
            "MTBSYNC_FCPXML_DTD); well-formedness is checked above"
        )
    etree = pytest.importorskip("lxml.etree", reason="lxml (the dev extra) validates DTDs")
    doc = etree.fromstring(_golden_2997().encode("utf-8"))
    validator = etree.DTD(str(dtd))
    assert validator.validate(doc), validator.error_log.filter_from_errors()


#: Children and attributes the FCPXML 1.10 DTD allows for the elements the writer uses
#: (read from Apple's published DTD; the DTD itself is not in the repository).
_DTD_1_10 = {
    "fcpxml": ({"resources", "library"}, {"version"}),
    "resources": ({"format", "asset"}, set()),
    "format": (
        set(),
        {
            "id",
            "name",
            "frameDuration",
            "fieldOrder",
            "width",
            "height",
            "paspH",
            "paspV",
            "colorSpace",
            "projection",
            "stereoscopic",
        },
    ),
    "asset": (
        {"media-rep", "metadata"},
        {
            "id",
            "name",
            "uid",
            "start",
            "duration",
            "hasVideo",
            "format",
            "hasAudio",
            "videoSources",
            "audioSources",
            "audioChannels",
            "audioRate",
        },
    ),
    "media-rep": (set(), {"kind", "sig", "src", "suggestedFilename"}),
    "library": ({"event"}, {"location", "colorProcessing"}),
    "event": ({"project"}, {"name", "uid"}),
    "project": ({"sequence"}, {"name", "uid", "id", "modDate"}),
    "sequence": (
        {"spine"},
        {
            "format",
            "duration",
            "tcStart",
            "tcFormat",
            "audioLayout",
            "audioRate",
            "renderFormat",
            "keywords",
        },
    ),
    "spine": ({"asset-clip"}, {"lane", "offset", "name", "format"}),
    "asset-clip": (
        {"marker"},
        {
            "ref",
            "lane",
            "offset",
            "name",
            "start",
            "duration",
            "enabled",
            "srcEnable",
            "audioStart",
            "audioDuration",
            "format",
            "tcStart",
            "tcFormat",
            "modDate",
            "audioRole",
            "videoRole",
        },
    ),
    "marker": (set(), {"start", "duration", "value", "completed", "note"}),
}
_REQUIRED = {
    "format": {"id"},
    "asset": {"id"},
    "media-rep": {"src"},
    "sequence": {"format"},
    "asset-clip": {"ref"},
    "marker": {"start", "value"},
}


def test_fcpxml_uses_only_what_the_1_10_dtd_declares():
    root = ET.fromstring(_golden_2997().encode())
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    for el in root.iter():
        children, attrs = _DTD_1_10[el.tag]
        assert {c.tag for c in el} <= children, el.tag
        assert set(el.attrib) <= attrs, (el.tag, set(el.attrib) - attrs)
        assert _REQUIRED.get(el.tag, set()) <= set(el.attrib), el.tag
        for ref in ("format", "ref"):
            if ref in el.attrib and el.tag != "fcpxml":
                assert el.get(ref) in ids, (el.tag, ref)
    assert root.find("resources/asset/media-rep") is not None  # asset needs media-rep+
    assert {el.get("tcFormat") for el in root.iter() if el.get("tcFormat")} <= {"DF", "NDF"}
