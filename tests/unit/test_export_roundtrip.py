"""Every format, every supported rate: export, read back with our readers, compare each marker.

Times must come back within half a frame of the source; names and comments exactly.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import pytest
from export_samples import RATES
from hypothesis import given, settings
from hypothesis import strategies as st

from mtbsync_core.export import export_to_string, read_markers_file
from mtbsync_core.model import TransferredMarker
from mtbsync_core.timebase import frames_to_timecode, timecode_to_frames

#: Times that sit on awkward places: first frame, minute boundaries (drop-frame skips labels
#: there), the tenth minute (no skip), almost an hour, and odd fractions.
TIMES_S = [0.0, 0.01, 12.345, 59.97, 60.0, 60.05, 119.99, 599.95, 600.0, 601.234, 3599.9, 3600.02]


def _markers() -> list[TransferredMarker]:
    return [
        TransferredMarker(f"m{i} t={t}", t, t, conf, conf < 0.5, f"comment {i}: ok")
        for i, (t, conf) in enumerate(zip(TIMES_S, [0.95, 0.7, 0.3] * 4, strict=True))
    ]


@pytest.mark.parametrize("fmt,suffix", [("edl", "edl"), ("fcpxml", "fcpxml"), ("premiere", "xml")])
@pytest.mark.parametrize("rate", list(RATES))
def test_round_trip_within_half_frame(tmp_path, fmt, suffix, rate):
    fps = RATES[rate]
    start_tc = None if fmt == "edl" else "10:20:30:12"
    p = tmp_path / f"m.{suffix}"
    p.write_text(export_to_string(fmt, _markers(), fps=fps, start_tc=start_tc), encoding="utf-8")
    got = read_markers_file(p, fps=fps)
    src = _markers()
    assert [(m.name, m.comment) for m in got] == [(m.name, m.comment) for m in src]
    for g, s in zip(got, src, strict=True):
        assert abs(g.t_ref_s - s.t_new_s) <= 0.5 / float(fps) + 1e-9, (rate, fmt, s.name)


@pytest.mark.parametrize("rate", list(RATES))
def test_edl_round_trip_with_custom_start(tmp_path, rate):
    fps = RATES[rate]
    p = tmp_path / "m.edl"
    p.write_text(export_to_string("edl", _markers(), fps=fps, start_tc="00:00:00:00"))
    got = read_markers_file(p, fps=fps)  # 00:00:00:00 guessed: markers before 1 h
    for g, s in zip(got, _markers(), strict=True):
        assert abs(g.t_ref_s - s.t_new_s) <= 0.5 / float(fps) + 1e-9


@settings(max_examples=60, deadline=None)
@given(rate=st.sampled_from(list(RATES)), frame=st.integers(0, 24 * 3600 * 60 - 1))
def test_timecode_frames_round_trip(rate, frame):
    fps = RATES[rate]
    if frame >= 24 * 3600 * fps * Fraction(1000, 1001):
        return
    tc = frames_to_timecode(frame, fps)
    assert timecode_to_frames(tc, fps) == frame


@settings(max_examples=40, deadline=None)
@given(
    rate=st.sampled_from(list(RATES)),
    fmt=st.sampled_from(["edl", "fcpxml", "premiere"]),
    times=st.lists(st.floats(0, 7200, allow_nan=False), min_size=1, max_size=8),
    name=st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="|"),
        min_size=1,
        max_size=20,
    ).filter(lambda s: s.strip() == s and s),
)
def test_any_times_and_names_round_trip(tmp_path_factory, rate, fmt, times, name):
    fps = RATES[rate]
    markers = [TransferredMarker(name, t, t, 0.9, False) for t in sorted(times)]
    name_out = " ".join(name.split()) if fmt == "edl" else name
    p = tmp_path_factory.mktemp("rt") / f"m.{fmt}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p.write_text(export_to_string(fmt, markers, fps=fps), encoding="utf-8")
    got = read_markers_file(p, fps=fps, start_tc="00:00:00:00" if fmt == "edl" else None)
    assert [m.name for m in got] == [name_out] * len(markers)
    for g, s in zip(got, markers, strict=True):
        assert abs(g.t_ref_s - s.t_new_s) <= 0.5 / float(fps) + 1e-9
