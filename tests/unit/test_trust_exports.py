"""Issue 13, items 14-20: exports and imports against what the editors really do."""

from __future__ import annotations

import csv
import io
import warnings
import xml.etree.ElementTree as ET
from fractions import Fraction

import av
import numpy as np
import pytest
from export_samples import placed, sample_markers

from mtbsync_core.errors import ImportMarkersError, MarkerFileError
from mtbsync_core.export import export_to_string, read_markers_file, sniff_format, write_export
from mtbsync_core.export.edl import read_edl
from mtbsync_core.export.fcpxml import read_fcpxml
from mtbsync_core.export.premiere import path_url, read_premiere_xml
from mtbsync_core.markers import (
    read_markers_csv,
    read_transferred_csv,
    transfer_markers,
    write_markers_csv,
    write_transferred_csv,
)
from mtbsync_core.model import Marker, TransferredMarker
from mtbsync_core.timebase import parse_fraction_s
from mtbsync_core.warp import TimeWarp, fit_warp

DF = Fraction(30000, 1001)
DF59 = Fraction(60000, 1001)


def _quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **kw)


# -- item 14: a marker within half a frame of the end lands on the last frame -----------------


@pytest.mark.parametrize("fps", [Fraction(25), DF, Fraction(24000, 1001)])
def test_item14_marker_at_the_end_is_clamped_to_the_last_frame(fps):
    n_frames = 100
    dur = float(n_frames / fps)
    m = [TransferredMarker("end", 1.0, dur + 0.4 / float(fps), 0.9, False)]
    # FCPXML: the marker starts before the clip's end
    root = ET.fromstring(export_to_string("fcpxml", m, fps=fps, duration_s=dur).split("\n", 2)[2])
    clip = root.find(".//asset-clip")
    start = parse_fraction_s(clip.get("start"))
    end = start + parse_fraction_s(clip.get("duration"))
    mk = parse_fraction_s(clip.find("marker").get("start"))
    assert mk < end and mk == end - 1 / fps
    # Premiere: in < the clip's out
    prem = ET.fromstring(export_to_string("premiere", m, fps=fps, duration_s=dur).split("\n", 2)[2])
    assert int(prem.find(".//marker/in").text) == n_frames - 1
    # EDL: the event is the last frame (00:00:03:24 at 25 fps from the 00:00:00:00 start)
    edl = export_to_string("edl", m, fps=fps, duration_s=dur)
    ev = next(line for line in edl.splitlines() if line.startswith("001"))
    from mtbsync_core.timebase import timecode_to_frames

    rec_in = ev.split()[4]
    assert timecode_to_frames(rec_in, fps) - timecode_to_frames(edl_start(fps), fps) == n_frames - 1


def edl_start(fps: Fraction) -> str:
    return "00:00:00;00" if fps in (DF, DF59) else "00:00:00:00"  # every format's default start


# -- item 15: no silent rate guess -------------------------------------------------------------


def test_item15_5994_edl_with_low_digits_is_not_misread(tmp_path):
    ms = [TransferredMarker("a", 0, 0.2, 0.9, False), TransferredMarker("b", 0, 0.4, 0.9, False)]
    p = tmp_path / "m.edl"
    p.write_text(export_to_string("edl", ms, fps=DF59), encoding="utf-8")  # frame digits < 30
    with pytest.raises(ImportMarkersError, match="--fps"):
        read_edl(p)
    got = read_edl(p, fps=DF59)
    assert [round(m.t_ref_s * float(DF59)) for m in got] == [12, 24]  # exact frames


def test_item15_5994_proven_by_digits_is_read(tmp_path):
    ms = [TransferredMarker("a", 0, 0.6, 0.9, False)]  # frame 36 of a second: only at 59.94
    p = tmp_path / "m.edl"
    p.write_text(export_to_string("edl", ms, fps=DF59), encoding="utf-8")
    assert round(read_edl(p)[0].t_ref_s * float(DF59)) == 36


# -- item 16: Resolve's multi-line notes, `|` in notes, `:` drop-frame, LOC injection -------------

RESOLVE_MULTILINE = """TITLE: Timeline 1
FCM: DROP FRAME

001  001      V     C        01:00:05:00 01:00:05:01 01:00:05:00 01:00:05:01
first line of the note
2 riders | then a gap
last line |C:ResolveColorBlue |M:rock | garden |D:1

002  001      V     C        01:00:10:00 01:00:10:01 01:00:10:00 01:00:10:01
 |C:ResolveColorRed |M:drop |D:1
"""


def test_item16_resolve_multiline_notes_and_pipes(tmp_path):
    p = tmp_path / "r.edl"
    p.write_text(RESOLVE_MULTILINE, encoding="utf-8")
    got = read_edl(p, fps=DF)
    assert [m.name for m in got] == ["rock | garden", "drop"]
    assert got[0].comment == "first line of the note 2 riders | then a gap last line"
    assert got[0].colour == "blue" and got[1].colour == "red"
    # `:` before the frames in a DROP FRAME EDL is read as drop-frame timecode
    assert got[0].t_ref_s == pytest.approx(5 * 1.001 - 0 * 0.0, abs=0.5 / 29.97)


def test_item16_loc_injection_is_escaped(tmp_path):
    ms = [
        TransferredMarker("* LOC: 01:00:00:00 RED injected", 0, 3.0, 0.9, False),
        TransferredMarker("real", 0, 4.0, 0.9, False),
    ]
    p = tmp_path / "m.edl"
    p.write_text(export_to_string("edl", ms, fps=Fraction(25)), encoding="utf-8")
    assert not any(line.startswith("*") for line in p.read_text().splitlines())
    got = read_edl(p, fps=Fraction(25))
    assert [(m.name, round(m.t_ref_s, 3)) for m in got] == [(ms[0].name, 3.0), ("real", 4.0)]


# -- item 17: EDL drop-frame follows the camera ------------------------------------------------


def _encode(path, fps, n, timecode=None, audio=False):
    with av.open(str(path), "w", format="mov") as out:
        if timecode:
            out.metadata["timecode"] = timecode
        st = out.add_stream("libx264", rate=fps)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        st.options = {"preset": "ultrafast"}
        a = None
        if audio:
            a = out.add_stream("aac", rate=48000)
            a.layout = "stereo"
        for i in range(n):
            vf = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i % 255, np.uint8), "bgr24")
            vf.pts = i
            for pkt in st.encode(vf):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
        if a is not None:
            sig = np.zeros((2, 1024), np.float32)
            for k in range(20):
                af = av.AudioFrame.from_ndarray(sig, format="fltp", layout="stereo")
                af.sample_rate, af.pts = 48000, k * 1024
                for pkt in a.encode(af):
                    out.mux(pkt)
            for pkt in a.encode():
                out.mux(pkt)


def test_item17_edl_follows_a_non_drop_camera(tmp_path):
    v = tmp_path / "gopro.mov"
    _encode(v, DF, 60, timecode="10:00:00:00")  # GoPro: 29.97 with non-drop timecode
    out = _quiet(
        write_export, "edl", placed(sample_markers())[:1], tmp_path / "m.edl", video_path=str(v)
    )
    text = out.read_text()
    assert "FCM: NON-DROP FRAME" in text and ";" not in text
    got = read_edl(out, fps=DF, start_tc="10:00:00:00")  # it starts at the camera's own timecode
    assert abs(got[0].t_ref_s - 0.5) <= 0.5 / float(DF)


def test_item17_drop_camera_keeps_drop_frame(tmp_path):
    v = tmp_path / "cam.mov"
    _encode(v, DF, 60, timecode="10:00:00;00")
    text = _quiet(
        write_export, "edl", placed(sample_markers())[:1], tmp_path / "m.edl", video_path=str(v)
    ).read_text()
    assert "FCM: DROP FRAME" in text and ";" in text


# -- item 18: FCPXML import as Final Cut shows it; sniffing; nesting; audio on export -----------

AUDITION = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources><format id="r1" frameDuration="1/25s"/></resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" tcStart="0s" duration="100s">
      <spine>
        <audition offset="0s">
          <asset-clip ref="r2" offset="0s" start="10s" duration="20s" name="active">
            <marker start="12s" duration="1/25s" value="shown"/>
            <marker start="5s" duration="1/25s" value="before start, trimmed"/>
            <marker start="31s" duration="1/25s" value="after end, trimmed"/>
          </asset-clip>
          <asset-clip ref="r3" offset="0s" start="0s" duration="20s" name="alternative">
            <marker start="3s" duration="1/25s" value="inactive pick"/>
          </asset-clip>
        </audition>
        <asset-clip ref="r2" offset="20s" start="0s" duration="10s" name="second">
          <marker start="4s" duration="1/25s" value="second clip"/>
        </asset-clip>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def test_item18_audition_and_trimmed_markers(tmp_path):
    p = tmp_path / "a.fcpxml"
    p.write_text(AUDITION, encoding="utf-8")
    got = read_fcpxml(p)
    assert [(m.name, m.t_ref_s) for m in got] == [("shown", 2.0), ("second clip", 24.0)]


def test_item18_long_prolog_is_still_fcpxml(tmp_path):
    p = tmp_path / "a.fcpxml"
    p.write_text(
        AUDITION.replace("<!DOCTYPE fcpxml>", "<!-- " + "x" * 20000 + " -->\n<!DOCTYPE fcpxml>")
    )
    assert sniff_format(p) == "fcpxml"
    assert len(read_markers_file(p)) == 2


def test_item18_deep_nesting_is_one_line(tmp_path):
    depth = 5000
    body = (
        '<clip offset="0s" start="0s">' * depth
        + '<marker start="1s" value="deep"/>'
        + "</clip>" * depth
    )
    text = AUDITION.replace(
        '<asset-clip ref="r2" offset="20s"', body + '<asset-clip ref="r2" offset="20s"', 1
    )
    p = tmp_path / "deep.fcpxml"
    p.write_text(text, encoding="utf-8")
    try:
        got = read_fcpxml(p)
    except ImportMarkersError as err:
        assert "deep.fcpxml" in str(err) and "\n" not in str(err)
    else:
        assert "deep" in [m.name for m in got]


def test_item18_fcpxml_export_carries_the_camera_sound(tmp_path):
    v = tmp_path / "cam.mov"
    _encode(v, Fraction(25), 50, audio=True)
    out = _quiet(
        write_export,
        "fcpxml",
        placed(sample_markers())[:1],
        tmp_path / "m.fcpxml",
        video_path=str(v),
    )
    asset = ET.parse(out).getroot().find(".//asset")
    assert asset.get("hasAudio") == "1" and asset.get("audioSources") == "1"
    assert asset.get("audioChannels") == "2" and asset.get("audioRate") == "48000"
    silent = tmp_path / "silent.mov"
    _encode(silent, Fraction(25), 50)
    out2 = _quiet(
        write_export,
        "fcpxml",
        placed(sample_markers())[:1],
        tmp_path / "s.fcpxml",
        video_path=str(silent),
    )
    assert ET.parse(out2).getroot().find(".//asset").get("hasAudio") is None


# -- item 19: xmeml markers outside in/out, unnamed markers, Windows paths ---------------------

XMEML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE xmeml>
<xmeml version="4"><sequence><name>s</name><rate><timebase>25</timebase><ntsc>FALSE</ntsc></rate>
<media><video><track>
  <clipitem id="c1"><start>100</start><end>200</end><in>50</in><out>150</out>
    <marker><name>inside</name><in>60</in><out>-1</out></marker>
    <marker><name>before in</name><in>10</in><out>-1</out></marker>
    <marker><name>after out</name><in>170</in><out>-1</out></marker>
    <marker><name></name><in>75</in><out>-1</out></marker>
  </clipitem>
</track></video></media></sequence></xmeml>
"""


def test_item19_xmeml_clip_markers_outside_in_out_and_unnamed(tmp_path):
    p = tmp_path / "p.xml"
    p.write_text(XMEML, encoding="utf-8")
    got = read_premiere_xml(p)
    assert [m.t_ref_s for m in got] == [110 / 25, 125 / 25]
    assert got[0].name == "inside" and got[1].name  # unnamed gets a name transfer accepts
    w = fit_warp(np.arange(0, 10.0, 0.5), np.arange(0, 10.0, 0.5))
    assert len(transfer_markers(got, w)) == 2


def test_item19_windows_path_url():
    assert path_url("C:\\Users\\me\\ride 1.mp4") == "file://localhost/C%3A/Users/me/ride%201.mp4"
    assert path_url("/home/me/ride.mp4") == "file://localhost/home/me/ride.mp4"


# -- item 20: spreadsheet injection, long names, many markers ----------------------------------

FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "'=already quoted", "\tTAB"]


def test_item20_formula_names_are_inert_and_round_trip(tmp_path):
    ms = [TransferredMarker(n, 1.0, 2.0, 0.9, False, comment=n) for n in FORMULAS]
    p = tmp_path / "n.csv"
    write_transferred_csv(ms, p)
    rows = list(csv.reader(io.StringIO(p.read_text(encoding="utf-8"))))[1:]
    for row in rows:
        assert not row[0].startswith(("=", "+", "-", "@", "\t")), row[0]
        assert not row[5].startswith(("=", "+", "-", "@", "\t")), row[5]
    assert [m.name for m in read_transferred_csv(p)] == FORMULAS
    ref = tmp_path / "r.csv"
    write_markers_csv([Marker(n, 1.0, comment=n) for n in FORMULAS], ref)
    assert [(m.name, m.comment) for m in read_markers_csv(ref)] == [(n, n) for n in FORMULAS]


def test_item20_long_name_is_read_back(tmp_path):
    name = "x" * (200 * 1024)
    p = tmp_path / "r.csv"
    write_markers_csv([Marker(name, 1.0)], p)
    assert read_markers_csv(p)[0].name == name


def test_item20_broken_csv_is_one_line(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text('name,t_ref\n"a' + "b" * (20 * 1024 * 1024) + '",1\n', encoding="utf-8")
    with pytest.raises(MarkerFileError, match="r.csv"):
        read_markers_csv(p)


class _CountingWarp(TimeWarp):
    calls = 0

    def to_new(self, t_ref_s):
        type(self).calls += 1
        return super().to_new(t_ref_s)


def test_item20_transfer_is_one_warp_call_for_all_markers():
    w = fit_warp(np.arange(0, 100.0, 0.5), np.arange(0, 100.0, 0.5) * 1.1)
    cw = _CountingWarp(**{f: getattr(w, f) for f in w.__dataclass_fields__})
    ms = [Marker(f"m{k}", k * 0.01) for k in range(20000)]
    got = transfer_markers(ms, cw)
    assert _CountingWarp.calls == 1
    assert got[5000].t_new_s == pytest.approx(float(w.to_new(50.0)))
    assert sum(not m.in_overlap for m in got) == sum(k * 0.01 > w.t_ref_s[-1] for k in range(20000))


def test_item18_conform_rate_that_changes_speed_is_refused(tmp_path):
    speed = AUDITION.replace(
        '<asset-clip ref="r2" offset="20s" start="0s" duration="10s" name="second">',
        '<asset-clip ref="r2" offset="20s" start="0s" duration="10s" name="second">'
        '<conform-rate srcFrameRate="30"/>',
    )
    p = tmp_path / "c.fcpxml"
    p.write_text(speed, encoding="utf-8")
    with pytest.raises(ImportMarkersError, match="conformed from 30 fps"):
        read_fcpxml(p)
    p.write_text(speed.replace('srcFrameRate="30"', 'scaleEnabled="0" srcFrameRate="30"'))
    assert len(read_fcpxml(p)) == 2  # frame sampling only: times unchanged


def test_fuzz_find_huge_times_are_one_line(tmp_path):
    """Found by the fuzz suite: a 400-digit time overflowed float conversion (a traceback)."""
    p = tmp_path / "h.fcpxml"
    p.write_text(AUDITION.replace('start="12s"', f'start="{"9" * 400}/1s"'), encoding="utf-8")
    with pytest.raises(ImportMarkersError, match="h.fcpxml"):
        read_fcpxml(p)
    q = tmp_path / "h.xml"
    q.write_text(XMEML.replace("<in>60</in>", f"<in>{'9' * 400}</in>"), encoding="utf-8")
    with pytest.raises(ImportMarkersError, match="h.xml"):
        read_premiere_xml(q)
