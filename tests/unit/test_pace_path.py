"""The paced first pass of the coarse path: straight runs at constant paces."""

from __future__ import annotations

import numpy as np

from mtbsync_core.pace_path import pace_scores, pace_steps, paced_dp


def test_pace_steps_follow_a_straight_line_through_whole_samples():
    slopes = np.array([0.0, 0.6, 1.0, 1.6])
    steps = pace_steps(slopes, 51)
    assert steps[0].tolist() == [0, 0, 0, 0]
    np.testing.assert_array_equal(steps.sum(axis=0), np.round(slopes * 50).astype(int))
    assert set(np.unique(steps[1:, 1]).tolist()) == {0, 1}
    assert set(np.unique(steps[1:, 3]).tolist()) == {1, 2}


def test_pace_scores_are_means_along_each_slope_within_the_band():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(20, 30)).astype(np.float32)
    slopes = np.array([0.0, 1.0, 1.5])
    rows = np.arange(3, 17)
    lo = rows - 2  # a band that moves with the rows
    out = pace_scores(z, slopes, 2, rows, lo, 6)
    for c, v in enumerate(slopes):
        for r, i in enumerate(rows):
            for u in range(6):
                j = lo[r] + u
                cells = [
                    (i + k, j + int(round(v * k)))
                    for k in range(-2, 3)
                    if 0 <= j + int(round(v * k)) < 30
                ]
                want = np.mean([z[a, b] for a, b in cells])
                assert abs(out[c, r, u] - want) < 1e-5
    outside = pace_scores(z, slopes, 2, np.array([0]), np.array([-3]), 4)
    assert np.isnan(outside[:, 0, :3]).all() and np.isfinite(outside[:, 0, 3]).all()


def _line_scores(slopes, n, m, segments, noise, seed):
    """Per-pace scores with a true path made of ``segments`` (class, rows) and noise elsewhere."""
    rng = np.random.default_rng(seed)
    score = rng.normal(-1.0, noise, size=(len(slopes), n, m)).astype(np.float32)
    steps = pace_steps(slopes, n)
    j, truth = 5, {}
    i = 0
    for c, length in segments:
        for _ in range(length):
            if i > 0:
                j += steps[i, c]
            score[c, i, j] = 1.0
            truth[i] = j
            i += 1
    return score, truth


def test_paced_dp_follows_a_path_that_changes_pace_once():
    slopes = np.array([0.0, 0.5, 1.0, 1.5])
    score, truth = _line_scores(slopes, 60, 90, [(2, 30), (3, 30)], 0.2, 3)
    lo = np.zeros(60, np.int64)
    pi, pj, total = paced_dp(score, slopes, 0.5, lo)
    assert pi[0] == 0 and pi[-1] == 59 and np.all(np.diff(pi) == 1)
    assert all(pj[k] == truth[int(i)] for k, i in enumerate(pi))
    assert abs(total - (60 * 1.0 - 0.5)) < 1e-4  # one change of pace paid once


def test_paced_dp_in_a_moving_band_returns_absolute_columns():
    slopes = np.array([0.0, 1.0, 2.0])
    full, truth = _line_scores(slopes, 40, 120, [(1, 15), (0, 10), (2, 15)], 0.1, 4)
    centre = np.array([truth[i] for i in range(40)])
    lo = np.maximum.accumulate(np.maximum(centre - 6, 0))
    band = np.stack([full[:, i, lo[i] : lo[i] + 13] for i in range(40)], axis=1)
    pi, pj, _ = paced_dp(band, slopes, 0.5, lo)
    np.testing.assert_array_equal(pj, centre[pi])
    assert len(pi) == 40
