"""sync_runs end to end on real encoded runs with a known warp: accuracy, markers, stops, lead-in,
unrelated videos, index reuse, outputs."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from mtbsync_core.errors import (
    FeaturelessVideoError,
    IndexMismatchError,
    NoReliableMatchError,
    OutputExistsError,
)
from mtbsync_core.index import build_index
from mtbsync_core.markers import read_markers_csv, transfer_markers
from mtbsync_core.model import Marker
from mtbsync_core.pipeline import SyncParams, sync_runs, write_sync_outputs
from mtbsync_core.synthetic import RenderSpec, WarpProfile, encode_frames
from mtbsync_core.video import probe_video

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
FRAME_2997_S = 1001 / 30000


def _errors(warp, t_new: np.ndarray, t_ref_true: np.ndarray) -> np.ndarray:
    """|warp(t_new) - truth| for frames with a truth inside the warp's overlap."""
    lo, hi = warp.overlap_new_s
    ok = ~np.isnan(t_ref_true) & (t_new >= lo) & (t_new <= hi)
    return np.abs(warp.to_ref(t_new[ok]) - t_ref_true[ok])


@pytest.fixture(scope="module")
def sample_sync():
    return sync_runs(SAMPLE_DATA / "ref.mp4", SAMPLE_DATA / "new.mp4")


@pytest.fixture(scope="module")
def sample_truth():
    return json.loads((SAMPLE_DATA / "truth.json").read_text(encoding="utf-8"))


def test_sample_data_syncs_ok_with_accuracy_inside_the_bar(sample_sync, sample_truth):
    rep = sample_sync.report
    assert rep["status"] == "ok"
    prof = dict(sample_truth["profile"])
    prof["stops"] = tuple(tuple(s) for s in prof["stops"])
    info = probe_video(SAMPLE_DATA / "new.mp4")
    t_new = np.arange(info.frame_count) / float(info.fps)
    truth = WarpProfile(**prof).truth(t_new)
    a, b = sample_truth["covered_new_s"]  # a glove over the lens: no evidence, judged below
    seen = (t_new < a) | (t_new > b)
    err = _errors(sample_sync.warp, t_new[seen], truth[seen])
    assert len(err) > 0.8 * np.sum(~np.isnan(truth[seen]))  # most shared footage is in the overlap
    assert np.median(err) <= 0.010, f"median {np.median(err) * 1000:.1f} ms"
    assert np.percentile(err, 95) <= 0.040, f"p95 {np.percentile(err, 95) * 1000:.1f} ms"
    assert err.max() <= 0.200, f"max {err.max() * 1000:.1f} ms"
    lo, hi = rep["overlap_new_s"]
    assert lo >= prof["lead_in_s"] - FRAME_2997_S  # the unrelated lead-in is not in the overlap
    assert 0 < rep["coverage"] <= 1


def test_sample_data_markers_land_within_one_frame(sample_sync, sample_truth):
    markers = read_markers_csv(SAMPLE_DATA / "ref_markers.csv")
    out = {m.name: m for m in transfer_markers(markers, sample_sync.warp)}
    truth = sample_truth["markers_t_new_s"]
    assert set(out) == set(truth)
    a, b = sample_truth["covered_new_s"]
    for name, t_true in truth.items():
        m = out[name]
        if t_true is None or a <= t_true <= b:  # under the glove: flagged (tested below)
            continue
        assert m.in_overlap, f"{name}: true t_new {t_true:.3f} s, reported outside the overlap"
        assert abs(m.t_new_s - t_true) <= FRAME_2997_S, f"{name}: {m.t_new_s:.4f} vs {t_true:.4f}"
    gate = out["start gate"]
    assert truth["start gate"] is None
    assert not gate.in_overlap and np.isnan(gate.t_new_s) and gate.needs_review


def test_the_covered_stretch_is_doubtful_and_its_marker_flagged(sample_sync, sample_truth):
    """The sample holds what review is for: under the glove, nothing may look certain."""
    a, b = sample_truth["covered_new_s"]
    inner = np.arange(a + 0.5, b - 0.5, 0.05)
    assert float(np.max(sample_sync.warp.confidence_at(inner))) < 0.6
    markers = read_markers_csv(SAMPLE_DATA / "ref_markers.csv")
    out = {m.name: m for m in transfer_markers(markers, sample_sync.warp)}
    slab = out["rock slab"]
    assert a < sample_truth["markers_t_new_s"]["rock slab"] < b
    assert slab.in_overlap and slab.needs_review
    flagged = sorted(n for n, m in out.items() if m.needs_review)
    assert flagged == ["rock slab", "start gate"]


def test_known_offset_is_recovered(runs):
    res = sync_runs(runs.ref, runs.offset.path)
    assert res.report["status"] == "ok"
    err = _errors(res.warp, runs.offset.t_new_s, runs.offset.t_ref_s)
    assert len(err) >= 0.85 * len(runs.offset.t_new_s)
    assert np.median(err) <= 0.010, f"median {np.median(err) * 1000:.1f} ms"
    assert err.max() <= 0.1
    # the warp and the pairs behind it agree on the offset
    slope = np.polyfit(res.warp.t_new_s, res.warp.t_ref_s, 1)[0]
    assert abs(slope - 1) < 0.01


def test_lead_in_is_left_out_and_a_stop_is_flat(runs):
    res = sync_runs(runs.ref, runs.leadin_stop.path)
    warp, thr = res.warp, SyncParams().review_threshold
    t, truth = runs.leadin_stop.t_new_s, runs.leadin_stop.t_ref_s
    lead = t[np.isnan(truth)]
    assert len(lead) == 60
    mapped = ~np.isnan(warp.to_ref(lead))
    assert np.all(warp.confidence_at(lead[mapped]) < thr), "lead-in frames mapped with confidence"
    # the stop: 2 s standing still from t_new 5 s, at t_ref 4 s
    during = warp.to_ref(np.linspace(5.2, 6.8, 9))
    assert np.ptp(during) < 0.05, f"reference moved {np.ptp(during):.3f} s during the stop"
    assert np.all(np.abs(during - 4.0) < 0.05)
    slope_ride = (warp.to_ref(9.0) - warp.to_ref(7.5)) / 1.5
    assert abs(slope_ride - 1) < 0.05
    err = _errors(warp, t, truth)
    assert np.median(err) <= 0.010, f"median {np.median(err) * 1000:.1f} ms"


@pytest.mark.parametrize(
    "fps, gop, profile",
    [
        (25, 12, WarpProfile(t_ref_start_s=1.5, mean_ratio=0.85, wobble=0.2, wobble_period_s=6.0)),
        (60, 30, WarpProfile(t_ref_start_s=0.5, mean_ratio=1.2, wobble=0.15)),
    ],
)
def test_other_frame_rates_and_pace_changes(runs, tmp_path, fps, gop, profile):
    from mtbsync_core.synthetic import make_trail, render_new

    path = tmp_path / f"new_{fps}.mp4"
    t_new, t_ref = render_new(
        path, make_trail("trail"), profile, RenderSpec(6.0, Fraction(fps), (320, 180), gop=gop)
    )
    res = sync_runs(runs.ref, path)
    assert res.report["status"] == "ok"
    assert res.new_info.fps == fps
    err = _errors(res.warp, t_new, t_ref)
    assert len(err) >= 0.9 * len(t_new)
    assert np.median(err) <= 0.010 and np.percentile(err, 95) <= 0.040 and err.max() <= 0.2


def test_a_run_against_itself_is_the_identity(runs):
    res = sync_runs(runs.ref, runs.ref)
    t = np.arange(0.0, 13.9, 0.1)
    lo, hi = res.warp.overlap_new_s
    assert lo <= 0.1 and hi >= 13.8
    np.testing.assert_allclose(
        res.warp.to_ref(t[(t >= lo) & (t <= hi)]), t[(t >= lo) & (t <= hi)], atol=0.005
    )


def test_unrelated_videos_are_no_match(runs):
    with pytest.raises(NoReliableMatchError) as info:
        sync_runs(runs.ref, runs.other)
    err = info.value
    assert err.exit_code == 4
    msg = str(err)
    assert "\n" not in msg and str(runs.other) in msg and str(runs.ref) in msg
    assert err.report["status"] == "no_match"
    ver = err.report["verification"]
    assert (
        ver["match_ratio"] < SyncParams().align.match_ratio
    )  # no better than the reversed reference
    assert ver["good_pairs"] < SyncParams().geometry_pairs  # and no geometric evidence either


def test_featureless_new_run_is_refused(runs, tmp_path):
    flat = tmp_path / "lens_cap.mp4"
    encode_frames(
        flat,
        lambda i: np.full((180, 320, 3), 20, np.uint8),
        40,
        RenderSpec(2.0, Fraction(20), (320, 180)),
    )
    with pytest.raises(FeaturelessVideoError, match="lens_cap.mp4"):
        sync_runs(runs.ref, flat)


def test_a_prebuilt_index_gives_the_same_warp_and_a_stale_one_is_refused(runs):
    index = build_index(runs.ref)
    direct = sync_runs(runs.ref, runs.offset.path)
    reused = sync_runs(runs.ref, runs.offset.path, index=index)
    np.testing.assert_allclose(reused.warp.t_ref_s, direct.warp.t_ref_s, atol=1e-9)
    assert "index" in direct.report["timings_s"] and "index" not in reused.report["timings_s"]
    with pytest.raises(IndexMismatchError, match="Rebuild"):
        sync_runs(runs.other, runs.offset.path, index=index)


def test_progress_events_cover_every_stage(runs):
    events = []
    sync_runs(runs.ref, runs.offset.path, progress=events.append)
    stages = [e.stage for e in events]
    for stage in ("index", "decode", "verify"):
        assert stage in stages
        last = [e for e in events if e.stage == stage][-1]
        assert last.total and last.done == last.total


def test_write_sync_outputs_and_refuse_existing(runs, tmp_path):
    res = sync_runs(runs.ref, runs.offset.path)
    paths = write_sync_outputs(res, tmp_path / "out")
    assert {p.name for p in paths.values()} == {"warp.json", "pairs.csv", "report.json"}
    rep = json.loads(paths["report"].read_text(encoding="utf-8"))
    assert rep["status"] == "ok" and rep["overlap_new_s"] == list(res.report["overlap_new_s"])
    # one existing output refuses them all, before anything is written
    d = tmp_path / "again"
    d.mkdir()
    (d / "report.json").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="report.json"):
        write_sync_outputs(res, d)
    assert sorted(p.name for p in d.iterdir()) == ["report.json"]
    assert (d / "report.json").read_text(encoding="utf-8") == "mine"
    write_sync_outputs(res, d, force=True)
    assert json.loads((d / "report.json").read_text(encoding="utf-8"))["status"] == "ok"


def test_markers_before_the_reference_overlap_are_flagged(runs):
    res = sync_runs(runs.ref, runs.offset.path)
    out = transfer_markers(
        [Marker("before", 1.0), Marker("inside", 6.0), Marker("after", 13.9)], res.warp
    )
    assert [m.in_overlap for m in out] == [False, True, False]
    assert abs(out[1].t_new_s - 3.0) <= 1 / 30
    assert np.isnan(out[0].t_new_s) and np.isnan(out[2].t_new_s)
