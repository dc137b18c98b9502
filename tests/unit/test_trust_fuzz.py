"""Fuzz the readers (issue 13): any input gives a value or one ``MtbSyncError`` line, nothing else.

Inputs are random documents and, more usefully, valid files with one part replaced by random
JSON, text or attribute values, so the fuzzing reaches deep into each reader.
"""

from __future__ import annotations

import json
import math
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
from export_samples import placed, sample_markers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtbsync_core.errors import MtbSyncError
from mtbsync_core.export import export_to_string, read_markers_file
from mtbsync_core.export.edl import read_edl
from mtbsync_core.export.fcpxml import read_fcpxml
from mtbsync_core.export.premiere import read_premiere_xml
from mtbsync_core.markers import read_markers_csv, read_transferred_csv
from mtbsync_core.multicam import read_multicam
from mtbsync_core.multicam.io import CameraSync, MulticamResult, result_to_dict
from mtbsync_core.warp import fit_warp, read_warp

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)


def _check(reader, data: bytes | str, suffix: str, **kw) -> None:
    """``reader`` on a file holding ``data``: a value, or an MtbSyncError of one line."""
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"input{suffix}"
        if isinstance(data, str):
            p.write_text(data, encoding="utf-8", errors="surrogatepass")
        else:
            p.write_bytes(data)
        try:
            reader(p, **kw)
        except MtbSyncError as err:
            assert "\n" not in str(err), str(err)


def _valid_warp() -> dict:
    x = np.linspace(0, 10, 50)
    return fit_warp(x, x + 1, anchors=[(5.0, 6.0)]).to_dict()


WARP = _valid_warp()


def _paths(doc, prefix=()):
    """Every (path to a value) in a JSON document."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for k, v in enumerate(doc[:3]):
            yield from _paths(v, (*prefix, k))


def _replaced(doc, path, value):
    doc = json.loads(json.dumps(doc))
    if not path:
        return value
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return doc


WARP_PATHS = list(_paths(WARP))


@FUZZ
@given(st.sampled_from(WARP_PATHS), json_value)
def test_fuzz_warp_json_field_replaced(path, value):
    _check(read_warp, json.dumps(_replaced(WARP, path, value)), ".json")


@FUZZ
@given(json_value)
def test_fuzz_warp_json_any_document(doc):
    _check(read_warp, json.dumps(doc), ".json")


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_warp_json_bytes(data):
    _check(read_warp, data, ".json")


MULTICAM = result_to_dict(
    MulticamResult(
        (
            CameraSync("/a.mp4", "a", 0.0, 0.0, 1.0, "master", "ok", duration_s=10.0),
            CameraSync("/b.mp4", "b", 1.5, 3.0, 0.9, "audio", "ok", (0.001,), duration_s=9.0),
        ),
        "a",
        "audio",
    )
)
MULTICAM_PATHS = list(_paths(MULTICAM))


@FUZZ
@given(st.sampled_from(MULTICAM_PATHS), json_value)
def test_fuzz_multicam_json_field_replaced(path, value):
    _check(read_multicam, json.dumps(_replaced(MULTICAM, path, value)), ".json")


@FUZZ
@given(json_value)
def test_fuzz_multicam_json_any_document(doc):
    _check(read_multicam, json.dumps(doc), ".json")


csv_cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["nan", "inf", "-1", "1e309", "=1+1", '"', "0x10", "", "1,5"]),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@FUZZ
@given(
    st.lists(st.sampled_from(["name", "t_ref", "colour", "comment", "t_new", "x", ""]), max_size=6),
    st.lists(st.lists(csv_cell, max_size=7), max_size=6),
)
def test_fuzz_marker_csv(header, rows):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    _check(read_markers_csv, buf.getvalue(), ".csv")
    _check(read_transferred_csv, buf.getvalue(), ".csv")


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_marker_csv_bytes(data):
    _check(read_markers_csv, data, ".csv")


def _mutations(text: str):
    """Strategy: ``text`` with a random span replaced by random text (line-aware)."""
    lines = text.splitlines()
    return st.tuples(st.integers(0, len(lines) - 1), st.integers(0, 3), st.text(max_size=60)).map(
        lambda t: "\n".join(lines[: t[0]] + [t[2]] + lines[t[0] + t[1] :])
    )


EDL = export_to_string("edl", placed(sample_markers()), fps=Fraction(30000, 1001))
FCPXML = export_to_string("fcpxml", placed(sample_markers()), fps=Fraction(25), duration_s=80.0)
XMEML = export_to_string("premiere", placed(sample_markers()), fps=Fraction(25), duration_s=80.0)


@FUZZ
@given(_mutations(EDL), st.sampled_from([None, Fraction(30000, 1001), Fraction(25)]))
def test_fuzz_edl(text, fps):
    _check(read_edl, text, ".edl", fps=fps)


@FUZZ
@given(st.text(max_size=300))
def test_fuzz_edl_any_text(text):
    _check(read_edl, text, ".edl", fps=Fraction(25))
    _check(read_markers_file, text, ".edl")


xml_value = st.one_of(
    st.text(max_size=15),
    st.sampled_from(["1/0s", "0/1s", "-5s", "1e400s", "nan", "99999999999999999999/1s", "", "s"]),
)


def _attr_mutations(text: str):
    """Strategy: ``text`` with one quoted attribute value or one element text replaced."""
    import re

    spots = [m.span(1) for m in re.finditer(r'="([^"]*)"', text)]
    spots += [m.span(1) for m in re.finditer(r">([^<\s][^<]*)<", text)]
    return st.tuples(st.sampled_from(spots), xml_value).map(
        lambda t: (
            text[: t[0][0]]
            + t[1].replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            + text[t[0][1] :]
        )
    )


@FUZZ
@given(st.one_of(_attr_mutations(FCPXML), _mutations(FCPXML)))
def test_fuzz_fcpxml(text):
    _check(read_fcpxml, text, ".fcpxml")
    _check(read_markers_file, text, ".fcpxml")


@FUZZ
@given(st.one_of(_attr_mutations(XMEML), _mutations(XMEML)))
def test_fuzz_xmeml(text):
    _check(read_premiere_xml, text, ".xml")
    _check(read_markers_file, text, ".xml")


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_any_markers_file_bytes(data):
    _check(read_markers_file, b"<" + data, ".xml")


def test_fuzz_examples_reach_the_readers():
    """The mutated documents are mostly still readable, so the fuzzing reaches the parsers."""
    for reader, text, suffix, kw in (
        (read_edl, EDL, ".edl", {"fps": Fraction(30000, 1001)}),
        (read_fcpxml, FCPXML, ".fcpxml", {}),
        (read_premiere_xml, XMEML, ".xml", {}),
    ):
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / f"ok{suffix}"
            p.write_text(text, encoding="utf-8")
            assert len(reader(p, **kw)) == 5
    assert not math.isnan(read_warp_roundtrip())


def read_warp_roundtrip() -> float:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "warp.json"
        p.write_text(json.dumps(WARP))
        return float(read_warp(p).to_ref(5.0))
