"""Alignment steps on real encoded runs: coarse DP path, sub-sample refinement, ORB verification."""

from __future__ import annotations

import numpy as np
import pytest

from mtbsync_core.align import (
    AlignParams,
    _dp,
    coarse_path,
    refine_path,
    similarity_matrix,
    verify_path,
)
from mtbsync_core.features import verify_pair
from mtbsync_core.sampling import SampleParams, sample_run

OFFSET_S = 3.0  # runs.offset starts 3 s into the reference at the same pace


@pytest.fixture(scope="module")
def sampled(runs):
    ref, ref_orbs, _ = sample_run(runs.ref, SampleParams())
    new, new_orbs, _ = sample_run(
        runs.offset.path, SampleParams(mode="all", max_rate_hz=10.0, orb_rate_hz=1.0)
    )
    other, other_orbs, _ = sample_run(
        runs.other, SampleParams(mode="all", max_rate_hz=10.0, orb_rate_hz=1.0)
    )
    return {"ref": (ref, ref_orbs), "new": (new, new_orbs), "other": (other, other_orbs)}


def test_similarity_matrix_peaks_on_the_matching_frames(sampled):
    ref, _ = sampled["ref"]
    new, _ = sampled["new"]
    sim = similarity_matrix(new, ref)
    assert sim.shape == (len(new.t_s), len(ref.t_s)) and sim.dtype == np.float32
    best_t = ref.t_s[np.argmax(sim, axis=1)]
    assert np.median(np.abs(best_t - (new.t_s + OFFSET_S))) < 0.1
    self_sim = similarity_matrix(ref, ref)
    np.testing.assert_allclose(np.diag(self_sim), 1.0, atol=1e-4)


def test_coarse_path_is_monotone_and_follows_the_offset(sampled):
    ref, _ = sampled["ref"]
    new, _ = sampled["new"]
    path = coarse_path(new, ref)
    assert np.all(np.diff(path.i_new) == 1)  # one reference sample per new sample, in order
    assert np.all(np.diff(path.j_ref) >= 0)
    assert path.grid_s == 0.0  # small runs: the DP runs on every sample
    assert len(path.i_new) >= 0.9 * len(new.t_s)
    err = np.abs(ref.t_s[path.j_ref] - (new.t_s[path.i_new] + OFFSET_S))
    assert np.median(err) <= 1 / 15 + 1e-6 and err.max() <= 0.2


def test_coarse_path_on_a_thinned_grid_when_the_matrix_is_large(sampled):
    ref, _ = sampled["ref"]
    new, _ = sampled["new"]
    path = coarse_path(new, ref, AlignParams(max_dp_cells=2000))
    assert path.grid_s > 1 / 15
    assert np.all(np.diff(path.i_new) == 1) and np.all(np.diff(path.j_ref) >= 0)
    err = np.abs(ref.t_s[path.j_ref] - (new.t_s[path.i_new] + OFFSET_S))
    assert np.median(err) <= path.grid_s
    t_ref, _ = refine_path(new, ref, path, AlignParams(max_dp_cells=2000))
    assert np.median(np.abs(t_ref - (new.t_s[path.i_new] + OFFSET_S))) < 0.02


def test_refinement_gets_below_a_sample(sampled):
    ref, _ = sampled["ref"]
    new, _ = sampled["new"]
    path = coarse_path(new, ref)
    truth = new.t_s[path.i_new] + OFFSET_S
    t_ref, quality = refine_path(new, ref, path)
    coarse_err = np.median(np.abs(ref.t_s[path.j_ref] - truth))
    fine_err = np.median(np.abs(t_ref - truth))
    assert fine_err < 0.01, f"refined median error {fine_err * 1000:.1f} ms"
    assert fine_err < coarse_err
    assert np.median(quality) > 0.9 and np.all(quality <= 1 + 1e-6)
    t_plain, _ = refine_path(new, ref, path, AlignParams(refine=False))
    np.testing.assert_array_equal(t_plain, path.t_ref_s)  # the sequence evidence's peak
    assert np.median(np.abs(path.t_ref_s - truth)) <= coarse_err + 1e-9


def test_verification_counts_inliers_on_the_path(sampled):
    ref, ref_orbs = sampled["ref"]
    new, new_orbs = sampled["new"]
    path = coarse_path(new, ref)
    t_ref, _ = refine_path(new, ref, path)
    events = []
    v_idx, checks, used = verify_path(
        new.t_s, new_orbs, ref, ref_orbs, path.i_new, t_ref, events.append
    )
    assert len(v_idx) == len(checks) == len(used) >= 6
    assert all(int(j) in ref_orbs for j in used)
    assert all(int(path.i_new[k]) in new_orbs for k in v_idx)
    inliers = np.array([c.inliers for c in checks])
    assert np.median(inliers) >= AlignParams().good_inliers
    assert events[-1].stage == "verify" and events[-1].done == events[-1].total == len(v_idx)


def test_unrelated_frames_do_not_verify(sampled):
    _, new_orbs = sampled["new"]
    _, other_orbs = sampled["other"]
    _, ref_orbs = sampled["ref"]
    unrelated = [
        verify_pair(a, b).inliers
        for a, b in zip(new_orbs.values(), other_orbs.values(), strict=False)
    ]
    assert max(unrelated) < AlignParams().min_inliers
    same = verify_pair(ref_orbs[0], ref_orbs[0])
    assert same.inliers > 100
    np.testing.assert_allclose(same.similarity, [[1, 0, 0], [0, 1, 0]], atol=1e-3)


def test_a_stop_is_placed_from_its_ends_but_alike_moving_frames_keep_their_path():
    from mtbsync_core.stops import place_stops

    t_new = np.arange(50) / 10.0
    desc = np.random.default_rng(0).normal(size=(50, 8))
    desc[20:35] = desc[20]  # 1.5 s of one picture
    desc /= np.linalg.norm(desc, axis=1, keepdims=True)
    quality = np.full(50, 0.3)
    moving = t_new.copy()  # the matched path kept its pace through the alike frames
    out = place_stops(t_new, moving, desc, quality, fine_trust=0.75)
    np.testing.assert_allclose(out, moving)
    stalled = moving.copy()
    stalled[20:35] = 1.7  # a stop matched a little early on its own look ...
    stalled[35:] = 2.0 + t_new[35:] - t_new[34]  # ... the departure leaving from 2.0 s
    out = place_stops(t_new, stalled, desc, quality, fine_trust=0.75)
    np.testing.assert_allclose(out[20:35], 2.0, atol=1e-6)  # where approach and departure meet


def _stop_run(n_before: int = 30, n_stop: int = 40, n_after: int = 30, seed: int = 0):
    """New-run samples at 10 Hz moving at pace 1, a stop, moving on; the stop's first and last
    two frames are the held picture seen a little differently (a codec after a cut). Returns
    (t_new, truth, desc, stop slice with its edges)."""
    rng = np.random.default_rng(seed)
    n = n_before + n_stop + n_after
    t_new = np.arange(n) / 10.0
    truth = np.minimum(t_new, t_new[n_before])
    truth[n_before + n_stop :] = (
        t_new[n_before] + t_new[n_before + n_stop :] - t_new[n_before + n_stop - 1]
    )
    desc = rng.normal(size=(n, 16))
    held = rng.normal(size=16)
    desc[n_before : n_before + n_stop] = held
    for k in (n_before, n_before + 1, n_before + n_stop - 2, n_before + n_stop - 1):
        desc[k] = held + 0.25 * rng.normal(size=16) * np.linalg.norm(held) / 4
    desc /= np.linalg.norm(desc, axis=1, keepdims=True)
    return t_new, truth, desc, slice(n_before, n_before + n_stop)


def test_a_stop_is_placed_where_its_approach_and_departure_meet():
    """The approach matched 2 frames early and scattered (look-alike frames of another season),
    the departure clean: the stop goes where the straighter side says, edge frames included,
    not where the approach alone leads (what the placement did before)."""
    from mtbsync_core.stops import place_stops

    t_new, truth, desc, stop = _stop_run()
    path = truth.copy()
    noise = np.random.default_rng(1).normal(scale=0.08, size=stop.start)
    path[: stop.start] = truth[: stop.start] - 0.2 + noise  # the approach, early and scattered
    path[stop] = truth[stop] - 0.22  # the held frame matched early on its own look
    quality = np.full(len(t_new), 0.3)
    out = place_stops(t_new, path, desc, quality, fine_trust=0.75)
    assert np.all(np.abs(out[stop] - truth[stop]) <= 0.1), out[stop] - truth[stop]
    # the departure alone has no say when it is as scattered as the approach: between the two
    scattered = path.copy()
    scattered[stop.stop :] += np.random.default_rng(2).normal(
        scale=0.08, size=len(t_new) - stop.stop
    )
    out = place_stops(t_new, scattered, desc, quality, fine_trust=0.75)
    assert truth[stop.start] - 0.2 < out[stop.start] < truth[stop.start] + 0.1


def _tilted_view(t: float, zoom: float = 1.0, shift=(0.0, 0.0)) -> np.ndarray:
    """The fine thumbnail of a textured ground seen moving forward (zoom and a perspective tilt
    growing with ``t``: not a view change of one picture), through a mount ``zoom`` and ``shift``
    (centred, normalised coordinates)."""
    import cv2

    from mtbsync_core.features import fine_thumb

    rng = np.random.default_rng(5)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (288, 512)).astype(np.float32), (0, 0), 2.5)
    tex = (tex - tex.mean()) * (60 / tex.std()) + 128
    to_norm = np.array([[1 / 64, 0, -63.5 / 64], [0, 1 / 64, -35.5 / 64], [0, 0, 1]])
    mount = np.array([[zoom, 0, shift[0]], [0, zoom, shift[1]], [0, 0, 1]])
    moving = np.array([[1 + 0.02 * t, 0, 0], [0, 1 + 0.02 * t, 0.02 * t], [0, 0.06 * t, 1]])
    to_tex = np.array([[150, 0, 256], [0, 150, 144], [0, 0, 1]])
    m = to_tex @ moving @ mount @ to_norm
    img = cv2.warpPerspective(tex, m, (128, 72), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    return fine_thumb(np.clip(img, 0, 255).astype(np.uint8))


def test_the_vertex_places_a_frame_despite_a_small_mount_zoom_error():
    from mtbsync_core.features import fine_similarity_derivatives, fine_vectors
    from mtbsync_core.vertex import vertex_time, view_change_residual

    t_s = np.arange(-2.0, 3.0)
    ref_vecs = fine_vectors(np.stack([_tilted_view(t) for t in t_s]))
    errors: dict[float, list[float]] = {0.0: [], 1e6: []}
    for tau in (0.0, 0.3, -0.45):
        new = _tilted_view(tau, zoom=1.004, shift=(0.004, -0.003))  # 0.4 % zoom left over
        v = fine_vectors(new[None])[0]
        g = fine_similarity_derivatives(new).T.astype(np.float64)
        for ridge in errors:
            t = vertex_time(v, view_change_residual(g, ridge), 2, lambda j: ref_vecs[j], t_s)
            assert t is not None
            errors[ridge].append(abs(t - tau))
    assert max(errors[0.0]) < 0.05  # samples apart, the zoom taken out
    assert np.mean(errors[0.0]) < 0.5 * np.mean(errors[1e6])  # left in, it reads as moving on


def test_the_zoom_a_mount_left_over_is_found_from_frames_at_many_times():
    """The same zoom error on frames between reference samples is measured (a zoom out of the
    thumbnail's picture by 0.4 % reads as -0.004), and its sign follows the error."""
    from mtbsync_core.features import fine_similarity_derivatives, fine_vectors
    from mtbsync_core.vertex import shared_zoom_error

    t_s = np.arange(-2.0, 4.0)
    ref_vecs = fine_vectors(np.stack([_tilted_view(t) for t in t_s]))
    found = {}
    for zoom in (1.004, 1.0, 0.996):
        taus = (-0.4, -0.1, 0.3, 0.45, 0.8, 1.2)
        thumbs = np.stack([_tilted_view(tau, zoom=zoom, shift=(0.003, -0.002)) for tau in taus])
        fn = fine_vectors(thumbs)
        moves = {
            k: (int(round(tau)) + 2, fine_similarity_derivatives(th).T.astype(np.float64))
            for k, (tau, th) in enumerate(zip(taus, thumbs, strict=True))
        }
        found[zoom] = shared_zoom_error(fn, moves, lambda j: ref_vecs[j], t_s)
    assert abs(found[1.0]) <= 0.001
    assert abs(found[1.004] + np.log(1.004)) <= 0.0015
    assert abs(found[0.996] + np.log(0.996)) <= 0.0015


def _unit_rows(rng: np.random.Generator, n: int, d: int = 32) -> np.ndarray:
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_static_share_finds_a_shaking_stop_among_moving_frames():
    from mtbsync_core.align import static_share

    rng = np.random.default_rng(5)
    moving = _unit_rows(rng, 40)
    # a stop seen by a shaking camera: one frame plus noise, far from identical (cosine ~0.8)
    base = _unit_rows(rng, 1)
    shaken = base + 0.5 * _unit_rows(rng, 20) / np.sqrt(2)
    shaken /= np.linalg.norm(shaken, axis=1, keepdims=True)
    desc = np.concatenate([moving[:20], shaken, moving[20:]])
    share = static_share(desc, half_len=4)
    assert share[24:36].min() >= 0.9  # inside the stop
    assert share[:15].max() <= 0.35 and share[45:].max() <= 0.35  # moving (itself counts)
    assert static_share(desc, 4, same=0.999)[24:36].max() <= 0.35  # an absolute bar misses it


def test_pace_zero_sequences_count_only_where_the_new_run_stands_still():
    from mtbsync_core.align import _paced_enhance, sequence_enhance

    rng = np.random.default_rng(6)
    z = rng.normal(size=(30, 40)).astype(np.float32)
    z[:, 17] += 3.0  # a reference frame that resembles every new frame: a look-alike hub
    slopes = np.array([0.0, 1.0])
    still = np.zeros(30, bool)
    still[10:15] = True
    out = _paced_enhance(z, slopes, 3, still)
    moving_only = sequence_enhance(z, slopes[1:], 3)
    both = sequence_enhance(z, slopes, 3)
    assert np.array_equal(out[~still], moving_only[~still])
    assert np.array_equal(out[still], both[still])
    assert (both[~still, 17] > moving_only[~still, 17] + 1.0).all()  # the hub needed pace 0


def test_a_rows_null_ignores_sequences_that_are_mostly_outside_the_matrix():
    """At the last new sample a reversed sequence through the last reference columns reads a
    cell or two: its mean is that frame's best single match, not a sequence's. The row's null
    evidence leaves such sequences out; the full enhancement (the decision's) keeps them."""
    from mtbsync_core.align import sequence_enhance

    rng = np.random.default_rng(7)
    z = rng.normal(scale=0.3, size=(40, 50)).astype(np.float32)
    z[-1, -1] = 4.0  # the last new frame looks most like the last reference frame
    slopes = -np.array([0.5, 1.0, 2.0])  # reversed paces, as the null searches them
    full, rows = sequence_enhance(z, slopes, 8, row_max_share=0.5)
    assert np.array_equal(full, sequence_enhance(z, slopes, 8))
    assert full[-1].max() >= 2.0  # a sequence of one or two cells at the corner
    assert rows[-1] < 1.5  # the sequences with half their samples inside do not reach it
    assert np.all(rows <= full.max(axis=1) + 1e-6)


def test_stop_share_still_follows_the_offset_on_real_frames(sampled):
    ref, _ = sampled["ref"]
    new, _ = sampled["new"]
    p = coarse_path(new, ref, AlignParams(stop_share=0.5))
    assert np.all(np.diff(p.j_ref) >= 0)
    err = ref.t_s[p.j_ref] - (new.t_s[p.i_new] + OFFSET_S)
    assert np.median(np.abs(err)) < 0.1


def test_the_paced_first_pass_still_follows_the_offset_on_real_frames(sampled):
    ref, _ = sampled["ref"]
    new, _ = sampled["new"]
    p = coarse_path(new, ref, AlignParams(pace_band_s=0.3))
    assert np.all(np.diff(p.j_ref) >= 0) and np.all(np.diff(p.i_new) == 1)
    err = ref.t_s[p.j_ref] - (new.t_s[p.i_new] + OFFSET_S)
    assert np.median(np.abs(err)) < 0.1
    assert p.match_ratio == coarse_path(new, ref).match_ratio  # the decision is not its business


def _dp_row_by_step(score: np.ndarray, k_max: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The DP as first written: each step tried in turn, a larger one kept only when strictly
    better (the reference for :func:`mtbsync_core.align._dp`, which takes all steps at once)."""
    n, m = score.shape
    acc = np.empty((n, m), np.float32)
    back = np.zeros((n, m), np.int8)
    acc[0], back[0] = score[0], -1
    for i in range(1, n):
        best, step = acc[i - 1].copy(), np.zeros(m, np.int8)
        for k in range(1, k_max + 1):
            shifted = np.concatenate([np.full(k, -np.inf, np.float32), acc[i - 1][:-k]])
            better = shifted > best
            best = np.where(better, shifted, best)
            step[better] = k
        start = best <= 0
        acc[i] = score[i] + np.where(start, 0.0, best)
        back[i] = np.where(start, -1, step)
    i, j = np.unravel_index(int(np.argmax(acc)), acc.shape)
    total, path_i, path_j = float(acc[i, j]), [i], [j]
    while back[i, j] >= 0 and i > 0:
        j -= int(back[i, j])
        i -= 1
        path_i.append(i)
        path_j.append(j)
    return np.array(path_i[::-1]), np.array(path_j[::-1]), total


@pytest.mark.parametrize(("n", "m", "k_max"), [(40, 60, 1), (120, 300, 3), (90, 70, 9)])
def test_the_dp_takes_the_same_path_as_trying_each_step_in_turn(n, m, k_max):
    rng = np.random.default_rng(n + k_max)
    smooth = (rng.normal(size=(n, m)) - 0.2).astype(np.float32)
    ties = rng.integers(-2, 3, size=(n, m)).astype(np.float32)  # many equal sums: tie-breaking
    for score in (smooth, ties):
        got, want = _dp(score, k_max), _dp_row_by_step(score, k_max)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        assert got[2] == want[2] and len(got[0]) > 3
