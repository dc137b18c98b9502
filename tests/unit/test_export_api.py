"""export_to_string / write_export / read_markers_file, with real encoded videos."""

from __future__ import annotations

import json
import math
import warnings
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest
from export_samples import encode_video, placed, sample_markers

from mtbsync_core.errors import ExportError, ImportMarkersError, OutputExistsError
from mtbsync_core.export import (
    NO_TIMECODE_START_TC,
    export_to_string,
    read_markers_file,
    sniff_format,
    video_export_options,
    write_export,
)
from mtbsync_core.markers import read_transferred_csv
from mtbsync_core.model import TransferredMarker
from mtbsync_core.timebase import parse_fraction_s

FPS_DF = Fraction(30000, 1001)


def _short_markers() -> list[TransferredMarker]:
    return [
        TransferredMarker("a", 0.0, 0.2, 0.9, False, "first"),
        TransferredMarker("b", 1.0, 1.5, 0.4, True, "second, with comma"),
        TransferredMarker("gone", 3.0, math.nan, 0.0, True, "", in_overlap=False),
    ]


@pytest.fixture(scope="module")
def video_df(tmp_path_factory):
    """2 s at 29.97 with a non-drop tmcd like a GoPro's."""
    p = tmp_path_factory.mktemp("v") / "new.mp4"
    encode_video(p, FPS_DF, 60, size=(64, 48), timecode="19:26:48:04")
    return p


def _write(fmt, path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return write_export(fmt, _short_markers(), path, **kw)


def test_write_fcpxml_takes_rate_timecode_size_from_video(tmp_path, video_df):
    out = _write("fcpxml", tmp_path / "m.fcpxml", video_path=str(video_df))
    root = ET.parse(out).getroot()
    fmt = root.find("resources/format")
    assert fmt.get("frameDuration") == "1001/30000s"
    assert (fmt.get("width"), fmt.get("height")) == ("64", "48")
    # 19:26:48:04 non-drop is frame (19*3600 + 26*60 + 48)*30 + 4 = 2100244, kept exactly
    assert parse_fraction_s(root.find(".//asset-clip").get("start")) == Fraction(
        2100244 * 1001, 30000
    )
    assert root.find(".//media-rep").get("src") == video_df.resolve().as_uri()
    assert root.find(".//sequence").get("tcFormat") == "NDF"  # the camera's own mode
    assert [m.get("value") for m in root.iter("marker")] == ["a", "b"]


def test_write_premiere_keeps_camera_non_drop_timecode(tmp_path, video_df):
    out = _write("premiere", tmp_path / "m.xml", video_path=str(video_df))
    seq = ET.parse(out).getroot().find("sequence")
    assert seq.findtext("timecode/frame") == "2100244"
    assert seq.findtext("timecode/string") == "19:26:48:04"
    assert seq.findtext("timecode/displayformat") == "NDF"
    assert seq.findtext("duration") == "60"
    assert seq.find(".//pathurl").text.startswith("file://localhost/")


def test_drop_frame_camera_timecode_stays_drop_frame(tmp_path):
    video = tmp_path / "df.mp4"
    encode_video(video, FPS_DF, 60, size=(64, 48), timecode="10:01:00;02")
    out = _write("premiere", tmp_path / "m.xml", video_path=str(video))
    seq = ET.parse(out).getroot().find("sequence")
    assert seq.findtext("timecode/string") == "10:01:00;02"
    # (10*3600 + 60)*30 + 2 nominal, minus 2 frames for each of 601 minutes but 60 tenths
    assert seq.findtext("timecode/frame") == str((10 * 3600 + 60) * 30 + 2 - 2 * (601 - 60))
    assert seq.findtext("timecode/displayformat") == "DF"
    fcp = ET.parse(_write("fcpxml", tmp_path / "m.fcpxml", video_path=str(video))).getroot()
    assert fcp.find(".//sequence").get("tcFormat") == "DF"


def test_write_edl_starts_at_the_cameras_own_timecode_like_every_format(tmp_path, video_df):
    out = _write("edl", tmp_path / "m.edl", video_path=str(video_df))
    text = out.read_text()
    # 0.2 s -> frame 6 after the camera's start, in its own non-drop timecode (issue 13 item 17)
    assert "19:26:48:10 19:26:48:11" in text and "FCM: NON-DROP FRAME" in text
    out2 = _write("edl", tmp_path / "m2.edl", video_path=str(video_df), start_tc="00:00:00:00")
    assert "00:00:00:06" in out2.read_text()
    opts = video_export_options(video_df)
    assert (opts["start_tc"], opts["start_tc_source"]) == ("19:26:48:04", "camera")
    assert (opts["width"], opts["height"]) == (64, 48)


def test_without_camera_timecode_every_format_starts_at_zero(tmp_path):
    video = tmp_path / "plain.mp4"
    encode_video(video, FPS_DF, 60, size=(64, 48))
    opts = video_export_options(video)
    assert (opts["start_tc"], opts["start_tc_source"]) == (NO_TIMECODE_START_TC, "default")
    assert (
        "00:00:00;06 00:00:00;07"
        in _write("edl", tmp_path / "m.edl", video_path=str(video)).read_text()
    )
    seq = ET.parse(_write("premiere", tmp_path / "m.xml", video_path=str(video))).getroot()
    assert seq.find("sequence").findtext("timecode/string") == "00:00:00;00"


def test_write_refuses_existing_without_force(tmp_path, video_df):
    target = tmp_path / "m.edl"
    target.write_text("keep me")
    with pytest.raises(OutputExistsError, match="--force"):
        _write("edl", target, video_path=str(video_df))
    assert target.read_text() == "keep me"
    _write("edl", target, video_path=str(video_df), force=True)
    assert target.read_text().startswith("TITLE:")


def test_marker_beyond_video_fails_and_leaves_nothing(tmp_path, video_df):
    late = [TransferredMarker("late one", 0, 2.5, 0.9, False)]
    for fmt in ("edl", "fcpxml", "premiere", "csv", "json"):
        target = tmp_path / f"late.{fmt}"
        with pytest.raises(ExportError, match=r"'late one' is at 2\.500 s, beyond .*2\.00"):
            write_export(fmt, late, target, video_path=str(video_df))
        assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no temp files either


def test_unknown_rate_from_video_is_refused(tmp_path):
    odd = tmp_path / "odd.mp4"
    encode_video(odd, Fraction(27), 5, size=(64, 48))
    with pytest.raises(ExportError, match="27.000 fps .* not supported by EDL"):
        _write("edl", tmp_path / "m.edl", video_path=str(odd))


def test_fps_needed_without_video(tmp_path):
    with pytest.raises(ExportError, match="--video.*--fps"):
        _write("edl", tmp_path / "m.edl")
    with pytest.raises(ValueError, match="either video_path or fps"):
        _write("edl", tmp_path / "m.edl", video_path="x.mp4", fps=Fraction(25))
    out = _write("edl", tmp_path / "m.edl", fps="25")
    assert "FCM: NON-DROP FRAME" in out.read_text()


def test_nan_markers_warn_with_count():
    with pytest.warns(UserWarning, match=r"^1 marker\(s\) outside the overlap"):
        export_to_string("premiere", _short_markers(), fps=Fraction(25))


def test_csv_keeps_every_marker_and_reads_back(tmp_path):
    out = _write("csv", tmp_path / "m.csv")
    lines = out.read_text().splitlines()
    assert lines[0] == "name,t_ref,t_new,confidence,needs_review,comment,colour"
    assert (
        lines[1].startswith("a,0.0") and ",0.2" in lines[1] and lines[1].endswith(",false,first,")
    )
    assert lines[2].endswith(',true,"second, with comma",')
    assert lines[3].startswith("gone,3.0") and ",," in lines[3]
    back = read_transferred_csv(out)
    assert [(m.name, m.t_new_s, m.needs_review, m.comment) for m in back[:2]] == [
        ("a", 0.2, False, "first"),
        ("b", 1.5, True, "second, with comma"),
    ]
    assert math.isnan(back[2].t_new_s) and not back[2].in_overlap


def test_json_document(tmp_path, video_df):
    out = _write("json", tmp_path / "m.json", video_path=str(video_df))
    doc = json.loads(out.read_text())
    assert (doc["format"], doc["version"], doc["fps"]) == ("mtbsync.markers", 1, "30000/1001")
    assert doc["start_tc"] == "19:26:48:04"
    a, b, gone = doc["markers"]
    assert (a["frame"], a["timecode"]) == (6, "19:26:48:10")
    assert b["needs_review"] is True and b["confidence"] == 0.4
    assert gone["t_new_s"] is None and "frame" not in gone


def test_sniff_and_read_any(tmp_path):
    ms = placed(sample_markers())
    for fmt, name in [("edl", "a.txt"), ("fcpxml", "b.xml"), ("premiere", "c.xml")]:
        p = tmp_path / name
        p.write_text(export_to_string(fmt, ms, fps=FPS_DF), encoding="utf-8")
        assert sniff_format(p) == fmt
        assert [m.name for m in read_markers_file(p, fps=FPS_DF)] == [m.name for m in ms]


def test_read_markers_file_refuses_other_files(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello\n")
    with pytest.raises(ImportMarkersError, match="not an EDL, FCPXML or Premiere XML"):
        read_markers_file(p)
    with pytest.raises(ImportMarkersError, match="does not exist"):
        read_markers_file(tmp_path / "missing.edl")
    svg = tmp_path / "x.xml"
    svg.write_text("<svg/>")
    with pytest.raises(ImportMarkersError, match="neither FCPXML nor Premiere"):
        read_markers_file(svg)


def test_gopro_file_timecode_reaches_the_exports(tmp_path):
    from pathlib import Path

    gopro = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gopro" / "karma.mp4"
    if not gopro.is_file():
        pytest.skip(f"real GoPro sample {gopro} is absent (see ../shared/data/gopro/README.md)")
    markers = [TransferredMarker("take-off", 0.0, 3.0, 0.9, False, "")]
    fcp = ET.parse(write_export("fcpxml", markers, tmp_path / "k.fcpxml", video_path=str(gopro)))
    clip = fcp.getroot().find(".//asset-clip")
    tc_frames = (19 * 3600 + 26 * 60 + 48) * 30 + 4  # GoPro TCD track: 19:26:48:04, non-drop
    assert parse_fraction_s(clip.get("start")) == Fraction(tc_frames * 1001, 30000)
    assert clip.get("tcFormat") == "NDF"
    marker = clip.find("marker")
    assert parse_fraction_s(marker.get("start")) - parse_fraction_s(clip.get("start")) == Fraction(
        90 * 1001, 30000
    )  # 3.0 s at 29.97 is frame 90 (89.91 rounded)
    with pytest.raises(ExportError, match="beyond the end of the video"):
        write_export(
            "premiere",
            [TransferredMarker("x", 0, 20.0, 0.9, False)],
            tmp_path / "k.xml",
            video_path=str(gopro),
        )


def test_reference_colours_survive_edl_premiere_and_csv(tmp_path):
    """Defect 9: the EDL coloured every marker by confidence and the transfer CSV dropped colour."""
    fps = Fraction(25)
    markers = [
        TransferredMarker("drop", 1.0, 1.0, 0.95, False, "", "Blue"),
        TransferredMarker("root", 2.0, 2.0, 0.3, True, "", ""),  # no colour: by confidence
        TransferredMarker("odd", 3.0, 3.0, 0.95, False, "", "teal"),  # not Resolve's: by confidence
    ]
    p = tmp_path / "m.edl"
    p.write_text(export_to_string("edl", markers, fps=fps), encoding="utf-8")
    got = {m.name: m.colour for m in read_markers_file(p, fps=fps, start_tc="00:00:00:00")}
    assert got == {"drop": "blue", "root": "red", "odd": "green"}
    x = tmp_path / "m.xml"
    x.write_text(export_to_string("premiere", markers, fps=fps), encoding="utf-8")
    assert {m.name: m.colour for m in read_markers_file(x)}["drop"] == "blue"
    c = tmp_path / "m.csv"
    c.write_text(export_to_string("csv", markers, fps=fps), encoding="utf-8")
    assert [m.colour for m in read_transferred_csv(c)] == ["Blue", "", "teal"]
