"""Global descriptors (mtbsync_core.features): the gradient histograms worked over many frames at
once give the per-frame formula's values bit for bit, on frames decoded from an encoded run."""

from __future__ import annotations

import gc
import weakref
from fractions import Fraction

import cv2
import numpy as np
import pytest

from mtbsync_core import features
from mtbsync_core.features import HOG_BINS, HOG_CELLS, HOG_SIZE, WORK_W, mid_thumb
from mtbsync_core.synthetic import CameraLook, RenderSpec, make_trail, render_reference
from mtbsync_core.video import open_video


def _one_frame_histograms(crop: np.ndarray) -> np.ndarray:
    """The per-frame formula (soft-binned orientation histograms accumulated with np.add.at)."""
    img = cv2.resize(crop.astype(np.float32), HOG_SIZE, interpolation=cv2.INTER_AREA)
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.hypot(gx, gy)
    pos = (np.arctan2(gy, gx) % np.pi) * (HOG_BINS / np.pi)
    b0 = np.floor(pos).astype(np.int64) % HOG_BINS
    frac = pos - np.floor(pos)
    hist = np.zeros((HOG_BINS, *img.shape), np.float32)
    rows, cols = np.indices(img.shape)
    np.add.at(hist, (b0, rows, cols), mag * (1 - frac))
    np.add.at(hist, ((b0 + 1) % HOG_BINS, rows, cols), mag * frac)
    cw, ch = HOG_CELLS
    cells = hist.reshape(HOG_BINS, ch, img.shape[0] // ch, cw, img.shape[1] // cw).sum(axis=(2, 4))
    cells /= np.linalg.norm(cells, axis=0, keepdims=True) + 1e-3
    return np.sqrt(cells)


@pytest.fixture(scope="module")
def greys(tmp_path_factory) -> list[np.ndarray]:
    """The work images of a 4-s run rendered and encoded here (H.264, GoPro-like)."""
    path = tmp_path_factory.mktemp("features") / "run.mp4"
    look = CameraLook(noise_sigma=2, seed=1)
    render_reference(path, make_trail("trail"), RenderSpec(4.0, Fraction(30), (480, 270), look))
    with open_video(path) as v:
        return [g for _, g in v.iter_gray("all", WORK_W)]


@pytest.fixture(scope="module")
def mids(greys) -> np.ndarray:
    return np.stack([mid_thumb(g) for g in greys])


@pytest.mark.parametrize("chunk", [1, 7, 256])
def test_histograms_over_many_frames_equal_the_per_frame_formula(mids, chunk):
    crops = mids[:, 5:-5, 10:-10]
    want = np.stack([_one_frame_histograms(c) for c in crops])
    got = features._gradient_histograms(crops, chunk=chunk)
    assert got.shape == want.shape == (len(crops), HOG_BINS, HOG_CELLS[1], HOG_CELLS[0])
    assert np.array_equal(got, want)  # the same floats, not merely close
    assert np.ptp(want) > 0.1  # frames with texture: the histograms are not all alike


def test_global_descriptors_of_a_frame_do_not_depend_on_the_frames_beside_it(mids):
    alone = np.concatenate([features.global_descriptors(mids[k : k + 1]) for k in (0, 40, 90)])
    together = features.global_descriptors(mids)[[0, 40, 90]]
    assert np.array_equal(alone, together)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_the_fine_cache_gives_what_is_computed_afresh_and_lives_with_its_array(mids):
    thumbs = np.stack([features.fine_thumb(m) for m in mids])
    cache = features.fine_cache(thumbs)
    assert features.fine_cache(thumbs) is cache  # the same array: the same cache
    assert features.fine_cache(thumbs.copy()) is not cache  # equal values, another array
    for j in (0, 17, len(thumbs) - 1):
        assert np.array_equal(cache.vec(thumbs, j), features.fine_vectors(thumbs[j : j + 1])[0])
        assert np.array_equal(cache.grad(thumbs, j), features.fine_shift_derivatives(thumbs[j]))
        assert cache.vec(thumbs, j) is cache.vec(thumbs, j)  # computed once
    with pytest.raises(ValueError):
        cache.vec(thumbs, 0)[0] = 1.0  # shared: read-only
    key = id(thumbs)
    del thumbs, cache
    assert key not in features._FINE_CACHES  # dropped with its array


def test_matches_are_made_once_inside_remembered_matches_and_are_the_same(greys, monkeypatch):
    a, b, c = (features.orb_features(greys[k]) for k in (0, 6, 12))
    fresh = [features.ratio_matches(x, y) for x, y in ((a, b), (a, c))]
    assert len(fresh[0][0]) >= 20  # consecutive-ish frames of a textured run match
    made = []
    real = features._MATCHER

    class Counting:
        def knnMatch(self, *args, **kw):
            made.append(1)
            return real.knnMatch(*args, **kw)

    monkeypatch.setattr(features, "_MATCHER", Counting())
    with features.remembered_matches():
        for _ in range(3):
            got = [features.ratio_matches(x, y) for x, y in ((a, b), (a, c))]
            checks = [features.verify_pair(x, y) for x, y in ((a, b), (a, c))]
        with features.remembered_matches():  # nested: still the one memory
            features.ratio_matches(a, b)
        features.ratio_matches(a, b)
    assert len(made) == 2  # two pairs, each matched once
    for (qi, ti), (fq, ft) in zip(got, fresh, strict=True):
        assert np.array_equal(qi, fq) and np.array_equal(ti, ft)
    assert checks[0].inliers >= 12
    features.ratio_matches(a, b)
    assert len(made) == 3 and features._MEMO is None  # outside: matched afresh, nothing kept
    for (x, y), kept in zip(((a, b), (a, c)), checks, strict=True):
        again = features.verify_pair(x, y)  # checked afresh: RANSAC's seed is fixed
        assert again.inliers == kept.inliers and again is not kept
        assert (again.similarity is None) == (kept.similarity is None)
        if kept.similarity is not None:
            assert np.array_equal(again.similarity, kept.similarity)


def test_remembered_matches_keep_no_keypoints_alive_and_stay_bounded(greys, monkeypatch):
    a = features.orb_features(greys[0])
    monkeypatch.setattr(features, "_MEMO_MAX", 3)
    with features.remembered_matches():
        others = [features.orb_features(greys[k]) for k in (3, 6, 9, 12)]
        for b in others:
            features.verify_pair(a, b)  # a match and a check each
            assert len(features._MEMO) <= 3  # emptied when full
        gone = weakref.ref(others[-1])
        del others, b
        gc.collect()
        assert gone() is None  # the memory holds no keypoint set alive
        assert features.verify_pair(a, a).inliers > 100  # still checks (the same frame)
