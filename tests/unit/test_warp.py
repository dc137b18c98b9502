"""Monotone time warp: fit, anchors, inverse, stops, JSON I/O (properties and known answers)."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mtbsync_core.errors import OutputExistsError, WarpFileError, WarpFitError
from mtbsync_core.warp import FitParams, TimeWarp, fit_warp, read_warp, write_warp

FAST = settings(max_examples=60, deadline=None)


def _smooth_truth(x: np.ndarray, offset: float = 2.0) -> np.ndarray:
    """A strictly increasing, nonlinear map (pace between 0.6 and 1.4 of the reference)."""
    return offset + x + 0.4 * 8.0 / (2 * np.pi) * (1 - np.cos(2 * np.pi * x / 8.0))


def _pairs(duration_s: float = 30.0, rate_hz: float = 15.0, noise_s: float = 0.005, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = np.arange(0.0, duration_s, 1.0 / rate_hz)
    return x, _smooth_truth(x) + rng.normal(0.0, noise_s, len(x))


@pytest.fixture(scope="module")
def warp() -> TimeWarp:
    x, y = _pairs()
    return fit_warp(x, y)


# --- properties -------------------------------------------------------------------------------

pair_lists = st.lists(
    st.tuples(st.floats(0, 60), st.floats(-10, 100), st.floats(0, 1)), min_size=2, max_size=60
)


@FAST
@given(pairs=pair_lists)
def test_fit_is_non_decreasing_for_any_input(pairs):
    x, y, w = (np.array(c, np.float64) for c in zip(*pairs, strict=True))
    warp = fit_warp(x, y, w)
    assert np.all(np.isfinite(warp.t_ref_s))
    assert np.all(np.diff(warp.t_new_s) > 0) or len(warp.t_new_s) == 2
    assert np.all(np.diff(warp.t_ref_s) >= 0)
    assert np.all((warp.confidence >= 0) & (warp.confidence <= 1))
    lo, hi = warp.overlap_new_s
    t = np.linspace(lo, hi, 97)
    assert np.all(np.diff(warp.to_ref(t)) >= 0)


@FAST
@given(
    offset=st.floats(-20, 20),
    noise=st.floats(0, 0.2),
    outlier_share=st.floats(0, 0.15),  # beyond ~20 % gross outliers the fit breaks down (reported)
    seed=st.integers(0, 2**16),
)
def test_fit_is_monotone_and_close_for_noisy_pairs_with_outliers(
    offset, noise, outlier_share, seed
):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 40, 300))
    y = _smooth_truth(x, offset) + rng.normal(0, noise, len(x))
    bad = rng.random(len(x)) < outlier_share
    y[bad] += rng.uniform(-8, 8, bad.sum())
    warp = fit_warp(x, y)
    assert np.all(np.diff(warp.t_ref_s) >= 0)
    lo, hi = warp.overlap_new_s
    inside = (x > 2) & (x < 38) & (x >= lo) & (x <= hi)  # the ends: see test_outlier_near_an_end_*
    err = np.abs(warp.to_ref(x[inside]) - _smooth_truth(x[inside], offset))
    assert np.median(err) < 0.05 + noise


@FAST
@given(offset=st.floats(-5, 5), u=st.lists(st.floats(0, 1), min_size=1, max_size=50))
def test_inverse_composes_to_identity_where_strictly_increasing(offset, u):
    x = np.arange(0.0, 30.0, 1 / 15)
    warp = fit_warp(x, _smooth_truth(x, offset))
    assert np.all(np.diff(warp.t_ref_s) > 0)  # this warp is strictly increasing
    lo, hi = warp.overlap_new_s
    t = lo + np.asarray(u) * (hi - lo)
    np.testing.assert_allclose(warp.to_new(warp.to_ref(t)), t, atol=1e-6)
    r = warp.to_ref(t)
    np.testing.assert_allclose(warp.to_ref(warp.to_new(r)), r, atol=1e-6)


@FAST
@given(u=st.lists(st.floats(0, 1), min_size=1, max_size=50))
def test_inverse_on_a_flat_stretch_returns_its_first_moment(u):
    x = np.arange(0.0, 20.0, 1 / 15)
    y = np.where(x < 8, x, np.where(x < 12, 8.0, x - 4))
    warp = fit_warp(x, y)
    lo, hi = warp.overlap_new_s
    t = lo + np.asarray(u) * (hi - lo)
    back = warp.to_new(warp.to_ref(t))
    assert np.all(back <= t + 1e-6)  # never later than the moment itself
    np.testing.assert_allclose(warp.to_ref(back), warp.to_ref(t), atol=1e-6)


anchor_sets = st.lists(
    st.tuples(st.floats(1, 29), st.floats(-1.5, 1.5)),
    min_size=1,
    max_size=4,
    unique_by=lambda a: round(a[0], 1),
)


@FAST
@given(anchors=anchor_sets)
def test_anchors_are_met_exactly_and_the_warp_stays_monotone(anchors):
    x, y = _pairs(noise_s=0.02)
    base = fit_warp(x, y)
    a_new = np.sort(np.array([a for a, _ in anchors]))
    assume(np.all(np.diff(a_new) > 0.05))
    a_ref = np.maximum.accumulate(_smooth_truth(a_new) + np.array([d for _, d in anchors]))
    pairs = list(zip(a_new.tolist(), a_ref.tolist(), strict=True))
    warp = base.with_anchors(pairs)
    assert np.max(np.abs(warp.to_ref(a_new) - a_ref)) < 1e-6
    assert np.all(np.diff(warp.t_ref_s) >= 0)
    assert warp.anchors == tuple(pairs)
    assert np.max(np.diff(warp.t_new_s)) <= 0.1 + 1e-9  # still >= 10 samples a second


# --- known answers ------------------------------------------------------------------------------


def test_fit_recovers_a_known_offset():
    rng = np.random.default_rng(1)
    x = np.arange(0, 20, 1 / 15)
    warp = fit_warp(x, x + 3.2 + rng.normal(0, 0.01, len(x)))
    err = np.abs(warp.to_ref(x) - (x + 3.2))
    assert np.median(err) < 0.005 and err.max() < 0.02
    assert warp.overlap_new_s == (0.0, pytest.approx(x[-1]))


@pytest.mark.parametrize(
    "end, k, jump_s", [("last", -5, 2.0), ("last", -5, 6.0), ("first", 4, -2.0)]
)
def test_outlier_near_an_end_does_not_cost_the_good_pairs_beyond_it(end, k, jump_s):
    """One gross outlier among 600 clean pairs, four pairs from an end of the run."""
    x = np.arange(0, 40, 1 / 15)
    y = _smooth_truth(x)
    y[k] += jump_s
    warp = fit_warp(x, y)
    assert warp.overlap_new_s == (pytest.approx(x[0]), pytest.approx(x[-1])), (
        "the good pairs beyond it were dropped"
    )
    pinned = fit_warp(x, y, overlap_new_s=(float(x[0]), float(x[-1])))  # as sync_runs calls it
    ends = x[-4:] if end == "last" else x[:4]
    err = np.abs(pinned.to_ref(ends) - _smooth_truth(ends))
    assert err.max() < 0.010, f"error at the {end} pairs {err.max() * 1000:.0f} ms"


def test_outside_the_overlap_is_nan_and_zero_confidence(warp):
    lo, hi = warp.overlap_new_s
    assert np.isnan(warp.to_ref(lo - 0.5)) and np.isnan(warp.to_ref(hi + 0.5))
    assert warp.confidence_at(lo - 0.5) == 0 and warp.confidence_at(hi + 0.5) == 0
    assert np.isfinite(warp.to_ref(lo)) and np.isfinite(warp.to_ref(hi))
    assert np.isnan(warp.to_new(warp.t_ref_s[0] - 1)) and np.isnan(
        warp.to_new(warp.t_ref_s[-1] + 1)
    )


def test_a_stop_stays_flat_and_keeps_its_corners():
    rng = np.random.default_rng(2)
    x = np.arange(0, 25, 1 / 15)
    truth = np.where(x < 10, x, np.where(x < 13, 10.0, x - 3))
    warp = fit_warp(x, truth + rng.normal(0, 0.005, len(x)))
    during = warp.to_ref(np.array([10.3, 11.5, 12.7]))
    assert np.ptp(during) < 0.02  # flat: the reference does not move while the rider stands
    for t_new, t_ref in ((5.0, 5.0), (10.0, 10.0), (13.0, 10.0), (20.0, 17.0)):
        assert abs(float(warp.to_ref(t_new)) - t_ref) < 0.03
    slope_before = (warp.to_ref(9.0) - warp.to_ref(6.0)) / 3
    slope_after = (warp.to_ref(22.0) - warp.to_ref(16.0)) / 6
    assert abs(slope_before - 1) < 0.01 and abs(slope_after - 1) < 0.01


def test_anchor_pulls_the_warp_locally_and_refit_is_fast():
    rng = np.random.default_rng(3)
    x = np.arange(0, 600, 1 / 15)  # ten minutes of pairs at 15 per second
    warp = fit_warp(x, _smooth_truth(x) + rng.normal(0, 0.01, len(x)))
    target = float(_smooth_truth(np.array([300.0]))[0]) + 0.25
    t0 = time.perf_counter()
    moved = warp.with_anchors([(300.0, target)])
    dt = time.perf_counter() - t0
    assert dt < 1.0, f"refit took {dt:.2f} s"
    assert abs(float(moved.to_ref(300.0)) - target) < 1e-6
    far = np.r_[np.arange(10, 290, 1.0), np.arange(311, 590, 1.0)]
    assert np.max(np.abs(moved.to_ref(far) - warp.to_ref(far))) < 0.005  # the rest is left alone
    assert np.all(np.diff(moved.t_ref_s) >= 0)


def test_anchor_outside_the_data_extends_the_overlap(warp):
    lo, hi = warp.overlap_new_s
    moved = warp.with_anchors([(hi + 2.0, float(warp.to_ref(hi)) + 2.5)])
    assert moved.overlap_new_s[1] == pytest.approx(hi + 2.0)
    assert float(moved.to_ref(hi + 2.0)) == pytest.approx(float(warp.to_ref(hi)) + 2.5, abs=1e-6)


@pytest.mark.parametrize(
    "anchors",
    [
        [(10.0, 20.0), (12.0, 15.0)],  # later new time, earlier reference time
        [(10.0, 20.0), (10.0, 21.0)],  # two anchors at one new time
    ],
)
def test_contradictory_anchors_raise(warp, anchors):
    with pytest.raises(WarpFitError, match="not monotone"):
        warp.with_anchors(anchors)


def test_too_few_pairs_raise():
    with pytest.raises(WarpFitError, match="at least two"):
        fit_warp(np.array([1.0]), np.array([2.0]))
    with pytest.raises(WarpFitError, match="at least two"):
        fit_warp(np.array([1.0, 2.0, 3.0]), np.array([np.nan, 2.0, np.nan]))
    w = fit_warp(
        np.array([1.0]), np.array([2.0]), anchors=[(5.0, 7.0)]
    )  # one pair + one anchor is enough
    assert float(w.to_ref(5.0)) == pytest.approx(7.0)


def test_stiffer_fit_params_are_kept_through_refit(warp):
    x, y = _pairs()
    stiff = fit_warp(x, y, params=FitParams(kink_penalty=3.0))
    assert stiff.fit.kink_penalty == 3.0
    assert stiff.with_anchors([(10.0, float(stiff.to_ref(10.0)))]).fit.kink_penalty == 3.0


# --- JSON ---------------------------------------------------------------------------------------


def test_json_round_trip_keeps_every_field(warp, tmp_path):
    anchored = warp.with_anchors([(12.0, float(warp.to_ref(12.0)) + 0.2)])
    back = TimeWarp.from_dict(json.loads(json.dumps(anchored.to_dict())))
    for name in ("t_new_s", "t_ref_s", "data_t_new_s", "data_t_ref_s"):
        np.testing.assert_allclose(getattr(back, name), getattr(anchored, name), atol=1e-6)
    np.testing.assert_allclose(back.confidence, anchored.confidence, atol=1e-4)
    np.testing.assert_allclose(back.data_weight, anchored.data_weight, atol=1e-4)
    assert back.anchors == anchored.anchors
    assert back.overlap_new_s == anchored.overlap_new_s
    assert back.fit == anchored.fit
    # the data came along, so a refit from the file gives the same warp
    again = back.with_anchors([(20.0, float(back.to_ref(20.0)) - 0.1)])
    direct = anchored.with_anchors([(20.0, float(anchored.to_ref(20.0)) - 0.1)])
    t = np.linspace(*direct.overlap_new_s, 200)
    np.testing.assert_allclose(again.to_ref(t), direct.to_ref(t), atol=1e-4)


def test_write_and_read_warp_file(warp, tmp_path):
    p = write_warp(warp, tmp_path / "warp.json")
    d = json.loads(p.read_text(encoding="utf-8"))
    assert d["format"] == "mtbsync.warp" and d["version"] == 1
    n = len(d["t_new_s"])
    assert len(d["t_ref_s"]) == len(d["confidence"]) == n
    assert d["anchors"] == [] and len(d["overlap_new_s"]) == 2
    lo, hi = d["overlap_new_s"]
    assert n >= 10 * (hi - lo)  # dense enough that linear interpolation is the warp
    assert np.max(np.diff(d["t_new_s"])) <= 0.1 + 1e-9
    back = read_warp(p)
    np.testing.assert_allclose(
        back.to_ref(np.linspace(lo, hi, 50)), warp.to_ref(np.linspace(lo, hi, 50)), atol=1e-6
    )
    before = p.read_bytes()
    with pytest.raises(OutputExistsError):
        write_warp(warp, p)
    assert p.read_bytes() == before


def _valid(warp) -> dict:
    return warp.to_dict()


@pytest.mark.parametrize(
    "content, match",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2, 3]", "not a JSON object"),
        (json.dumps({"format": "other", "version": 1}), "not an mtbsync.warp"),
        (json.dumps({"format": "mtbsync.warp", "version": 2}), "version 1"),
        ("MISSING_T_REF", "t_ref_s is None"),
        ("NON_MONOTONE", "must be monotone"),
        ("SHORT_T_REF", "same number"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
    ],
)
def test_malformed_warp_file_names_the_file(warp, tmp_path, content, match):
    p = tmp_path / "broken_warp.json"
    if content == "MISSING_T_REF":
        d = _valid(warp)
        del d["t_ref_s"]
        content = json.dumps(d)
    elif content == "NON_MONOTONE":
        d = _valid(warp)
        d["t_ref_s"][5] = d["t_ref_s"][4] - 3.0
        content = json.dumps(d)
    elif content == "SHORT_T_REF":
        d = _valid(warp)
        d["t_ref_s"] = d["t_ref_s"][:-3]
        content = json.dumps(d)
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    with pytest.raises(WarpFileError, match=match) as info:
        read_warp(p)
    assert "broken_warp.json" in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_warp_file_says_to_run_sync(tmp_path):
    with pytest.raises(WarpFileError, match="does not exist.*mtbsync sync"):
        read_warp(tmp_path / "nowhere.json")


def test_an_anchor_far_from_the_pairs_vouches_for_its_own_time_only():
    # pairs from 2 s to 24 s, all fully confident; the editor anchors (0, 0) before them
    x = np.arange(2.0, 24.0, 0.1)
    warp = fit_warp(x, x - 2.0 + 0.5)
    moved = warp.with_anchors([(0.0, 0.0)])
    assert moved.overlap_new_s[0] == pytest.approx(0.0)
    assert float(moved.confidence_at(0.0)) == pytest.approx(1.0)  # the anchor itself
    # a moment between the anchor and the first pair is neither: it must not look certain
    assert float(moved.confidence_at(1.0)) < 0.6
    # confidence rises again as the evidence gets nearer, and is whole among the pairs
    c = moved.confidence_at(np.array([1.0, 1.5, 1.9, 2.0, 10.0]))
    assert c[0] <= c[1] <= c[2] <= c[3] and c[4] == pytest.approx(1.0)


def test_refit_keeps_the_confidence_the_warp_gave_its_pairs():
    x = np.arange(0.0, 20.0, 0.1)
    warp = fit_warp(x, x)
    doubtful = replace(warp, confidence=np.where(warp.t_new_s > 10, 0.3, 1.0))
    moved = doubtful.with_anchors([(5.0, 5.0)])
    assert float(moved.confidence_at(15.0)) == pytest.approx(0.3, abs=0.01)
