"""Markers: the CSV schema in and out, bad files, and transfer through a known warp."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from mtbsync_core.errors import MarkerFileError, OutputExistsError
from mtbsync_core.markers import (
    OUT_COLUMNS,
    read_markers_csv,
    read_transferred_csv,
    transfer_markers,
    write_markers_csv,
    write_transferred_csv,
)
from mtbsync_core.model import Marker, TransferredMarker
from mtbsync_core.warp import fit_warp


@pytest.fixture(scope="module")
def warp():
    """t_ref = t_new + 5 over t_new 0..20 s; confidence 0.9 except a doubtful stretch 8..10 s."""
    x = np.arange(0.0, 20.0 + 1e-9, 0.1)
    conf = np.where((x >= 8) & (x <= 10), 0.3, 0.9)
    return fit_warp(x, x + 5.0, conf)


def _write(tmp_path, text: str | bytes, name: str = "markers.csv"):
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_read_markers_all_columns_any_order_bom_and_blank_lines(tmp_path):
    p = _write(
        tmp_path,
        '\ufeffcomment,T_REF,name,colour\n"big one, left line",4.5,rock garden,red\n\n,8,drop,\n',
    )
    assert read_markers_csv(p) == [
        Marker("rock garden", 4.5, "red", "big one, left line"),
        Marker("drop", 8.0, "", ""),
    ]


def test_read_markers_minimal_columns_and_color_spelling(tmp_path):
    assert read_markers_csv(_write(tmp_path, "name,t_ref\nA,0\nB,1.25\n")) == [
        Marker("A", 0.0),
        Marker("B", 1.25),
    ]
    assert (
        read_markers_csv(_write(tmp_path, "name,t_ref,color\nA,2,blue\n", "us.csv"))[0].colour
        == "blue"
    )


@pytest.mark.parametrize(
    "text, match",
    [
        ("name,time\nA,1\n", r"line 1: missing column\(s\) t_ref"),
        ("t_ref\n1\n", r"line 1: missing column\(s\) name"),
        ("label,when\nA,1\n", r"missing column\(s\) name, t_ref"),
        (
            "name,t_ref\nA,1\nB,1.5\nC,four seconds\n",
            r"line 4: t_ref 'four seconds' is not a number",
        ),
        ("name,t_ref\nA,1\nB,\n", r"line 3: t_ref '' is not a number"),
        ("name,t_ref\nA,-2\n", r"line 2: t_ref '-2' must be a time >= 0"),
        ("name,t_ref\nA,nan\n", r"line 2: t_ref 'nan' must be a time >= 0"),
        ("name,t_ref\nA,1\n,2\n", r"line 3: the marker has no name"),
        ("", r"is empty"),
        ("\n\n", r"is empty"),
    ],
)
def test_bad_markers_file_names_file_and_line(tmp_path, text, match):
    p = _write(tmp_path, text, "ref_markers.csv")
    with pytest.raises(MarkerFileError, match=match) as info:
        read_markers_csv(p)
    assert "ref_markers.csv" in str(info.value)
    assert "\n" not in str(info.value)


def test_non_utf8_markers_file_names_the_line(tmp_path):
    p = _write(tmp_path, "name,t_ref\nA,1\ncaf\xe9,2\n".encode("latin-1"))
    with pytest.raises(MarkerFileError, match=r"line 3: not UTF-8.*Save it as UTF-8"):
        read_markers_csv(p)


def test_missing_markers_file_or_a_folder(tmp_path):
    with pytest.raises(MarkerFileError, match="does not exist"):
        read_markers_csv(tmp_path / "nope.csv")
    (tmp_path / "markers_dir").mkdir()
    with pytest.raises(MarkerFileError, match="markers_dir' is a folder"):
        read_markers_csv(tmp_path / "markers_dir")
    with pytest.raises(MarkerFileError, match="markers_dir' is a folder"):
        read_transferred_csv(tmp_path / "markers_dir")


def test_write_and_read_reference_markers_round_trip(tmp_path):
    markers = [
        Marker("rock, garden", 4.5, "red", 'said "left"'),
        Marker("drop", 8.125),
        Marker("ünïcode", 0.0, "", "é"),
    ]
    p = write_markers_csv(markers, tmp_path / "m.csv")
    assert read_markers_csv(p) == markers
    with pytest.raises(OutputExistsError):
        write_markers_csv(markers, p)


def test_transfer_through_a_known_warp(warp):
    markers = [
        Marker("early", 6.0, "red", "c1"),
        Marker("doubtful", 14.0),
        Marker("late", 24.5, "", "c3"),
    ]
    out = transfer_markers(markers, warp, review_threshold=0.6)
    assert [m.name for m in out] == ["early", "doubtful", "late"]
    assert out[0].t_new_s == pytest.approx(1.0, abs=1e-6)
    assert out[0].confidence == pytest.approx(0.9, abs=1e-3) and not out[0].needs_review
    assert out[0].comment == "c1" and out[0].colour == "red" and out[0].in_overlap
    assert out[1].t_new_s == pytest.approx(9.0, abs=1e-6)
    assert out[1].confidence == pytest.approx(0.3, abs=1e-3) and out[1].needs_review
    assert out[2].t_new_s == pytest.approx(19.5, abs=1e-6) and not out[2].needs_review
    # the threshold decides review
    assert not transfer_markers(markers, warp, review_threshold=0.2)[1].needs_review


@pytest.mark.parametrize("t_ref", [0.0, 4.9, 25.5, 100.0])
def test_markers_outside_the_overlap_are_flagged_never_clamped(warp, t_ref):
    (m,) = transfer_markers([Marker("outside", t_ref, "blue", "note")], warp)
    assert math.isnan(m.t_new_s)
    assert not m.in_overlap and m.needs_review and m.confidence == 0.0
    assert "outside the overlap" in m.comment and m.comment.startswith("note")
    assert m.t_ref_s == t_ref and m.colour == "blue"


def test_marker_on_the_overlap_edges_is_inside(warp):
    lo, hi = warp.overlap_new_s
    out = transfer_markers([Marker("first", lo + 5.001), Marker("last", hi + 4.999)], warp)
    assert [m.in_overlap for m in out] == [True, True]
    assert out[0].t_new_s == pytest.approx(lo + 0.001, abs=1e-6)
    assert out[1].t_new_s == pytest.approx(hi - 0.001, abs=1e-6)


def test_transferred_csv_columns_and_round_trip(warp, tmp_path):
    markers = [Marker("a", 6.0, "", "x, y"), Marker("b", 14.0), Marker("gone", 99.0)]
    out = transfer_markers(markers, warp)
    p = write_transferred_csv(out, tmp_path / "new.csv")
    rows = list(csv.reader(io.StringIO(p.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == OUT_COLUMNS
    assert OUT_COLUMNS == (
        "name",
        "t_ref",
        "t_new",
        "confidence",
        "needs_review",
        "comment",
        "colour",
    )
    assert rows[3][2] == ""  # outside the overlap: empty t_new, not a clamped time
    assert [r[4] for r in rows[1:]] == ["false", "true", "true"]
    back = read_transferred_csv(p)
    assert len(back) == 3
    for a, b in zip(out, back, strict=True):
        assert (a.name, a.needs_review, a.comment, a.in_overlap) == (
            b.name,
            b.needs_review,
            b.comment,
            b.in_overlap,
        )
        assert a.t_ref_s == pytest.approx(b.t_ref_s, abs=1e-6)
        assert a.confidence == pytest.approx(b.confidence, abs=1e-4)
        assert (math.isnan(a.t_new_s) and math.isnan(b.t_new_s)) or a.t_new_s == pytest.approx(
            b.t_new_s, abs=1e-6
        )
    with pytest.raises(OutputExistsError):
        write_transferred_csv(out, p)


def test_read_transferred_csv_refuses_a_reference_markers_file(tmp_path):
    p = _write(tmp_path, "name,t_ref\nA,1\n", "ref.csv")
    with pytest.raises(
        MarkerFileError,
        match=r"ref.csv' line 1: missing column\(s\) t_new, confidence, needs_review",
    ):
        read_transferred_csv(p)
    q = _write(tmp_path, "name,t_ref,t_new,confidence,needs_review\nA,1,abc,0.5,false\n", "bad.csv")
    with pytest.raises(MarkerFileError, match="line 2: t_new 'abc'"):
        read_transferred_csv(q)


def test_transferred_marker_model_defaults():
    m = TransferredMarker("a", 1.0, 2.0, 0.9, False)
    assert m.in_overlap and m.comment == "" and m.colour == ""
