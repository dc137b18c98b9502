"""Per-frame descriptors: a global one for whole-run similarity, a fine one for sub-frame
refinement, and ORB keypoints for geometric verification.

All work on small grey images (the decoder hands over luma scaled to ``WORK_W`` pixels wide).
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

WORK_W = 320  # decode width: ORB runs at this size
MID_SIZE = (128, 72)  # kept per sample: fine thumbnails are made from it, after mount compensation
FINE_SIZE = (64, 36)  # fine thumbnail (w, h), blurred, for sub-frame refinement
FINE_CENTRE = 0.8  # refinement compares the central 80 % (borders may be empty after compensation)
PATCH_SIZE = (32, 18)  # patch-normalised thumbnail (w, h), half of the global descriptor
PATCH_K = 5  # its local normalisation window (px of the thumbnail)
HOG_SIZE = (64, 32)  # gradient histogram image (w, h), the other half
HOG_CELLS = (8, 4)  # cells across, down (8 x 8 px each)
HOG_BINS = 8  # unsigned orientation bins
CENTRE = 0.85  # the global descriptor looks at the central 85 % (robust to crop and roll)
ROW_CENTRE = 0.8  # row profiles average the central 80 % of each row (borders may be empty)
ROW_BLUR_PX = 1.0  # mid thumbnails are blurred this much (px) before their row profiles
ROW_LOG_OFFSET = 8.0  # row profiles see log(grey + this): shading and gain become offsets
ROW_HIGHPASS_ROWS = (
    3.0  # what varies slower than this (Gaussian sigma, rows) down the profile is dropped
)


def _normalise(v: np.ndarray) -> np.ndarray:
    """Zero-mean, unit-norm rows (float32): invariant to brightness gain and offset."""
    v = v.astype(np.float32).reshape(v.shape[0], -1) if v.ndim > 2 else v.astype(np.float32)
    v = v - v.mean(axis=1, keepdims=True)
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.maximum(n, 1e-6)


def mid_thumb(grey: np.ndarray) -> np.ndarray:
    """The ``MID_SIZE`` uint8 thumbnail of a grey work image."""
    return cv2.resize(grey, MID_SIZE, interpolation=cv2.INTER_AREA)


def compensate_mid(mid: np.ndarray, mount: np.ndarray) -> np.ndarray:
    """A mid thumbnail resampled into another camera's geometry (2x3 ``mount``, mid pixels)."""
    return cv2.warpAffine(
        mid, mount, MID_SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def fine_thumb(mid: np.ndarray, mount: np.ndarray | None = None) -> np.ndarray:
    """A blurred ``FINE_SIZE`` uint8 thumbnail from a mid thumbnail.

    ``mount`` (2x3, in mid-thumbnail pixels) first resamples the image into another camera's
    geometry (see :func:`compensate_mid`).
    """
    if mount is not None:
        mid = compensate_mid(mid, mount)
    small = cv2.resize(mid, FINE_SIZE, interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small, (0, 0), 1.0)


def _patch_normalised(crop: np.ndarray) -> np.ndarray:
    """SeqSLAM's patch normalisation: each pixel of a ``PATCH_SIZE`` thumbnail against the mean
    and spread of its ``PATCH_K`` x ``PATCH_K`` neighbourhood (local, not global, contrast)."""
    small = cv2.resize(crop.astype(np.float32), PATCH_SIZE, interpolation=cv2.INTER_AREA)
    k = (PATCH_K, PATCH_K)
    mu = cv2.blur(small, k, borderType=cv2.BORDER_REFLECT)
    var = cv2.blur(small * small, k, borderType=cv2.BORDER_REFLECT) - mu * mu
    return (small - mu) / (np.sqrt(np.maximum(var, 0.0)) + 2.0)


def _gradient_histograms(crops: np.ndarray, chunk: int = 256) -> np.ndarray:
    """HOG-like cells of each crop (n, h, w): unsigned gradient orientation histograms
    (``HOG_BINS`` bins, soft binning) on a ``HOG_SIZE`` image in ``HOG_CELLS`` cells, each cell
    L2-normalised, square-rooted; (n, HOG_BINS, cells down, cells across) float32.

    Worked in chunks of ``chunk`` crops (numpy over many frames at once). Each pixel adds to two
    different bins, so every histogram entry is set once: written directly, not accumulated."""
    out = []
    for a in range(0, len(crops), chunk):
        imgs = np.stack(
            [
                cv2.resize(c.astype(np.float32), HOG_SIZE, interpolation=cv2.INTER_AREA)
                for c in crops[a : a + chunk]
            ]
        )
        gx = np.stack([cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3) for img in imgs])
        gy = np.stack([cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3) for img in imgs])
        mag = np.hypot(gx, gy)
        pos = (np.arctan2(gy, gx) % np.pi) * (HOG_BINS / np.pi)
        floor = np.floor(pos)
        b0 = floor.astype(np.int8) % HOG_BINS
        b1 = (b0 + 1) % HOG_BINS
        frac = pos - floor
        lower, upper = mag * (1 - frac), mag * frac
        n, h, w = imgs.shape
        hist = np.zeros((n, HOG_BINS, h, w), np.float32)
        for b in range(HOG_BINS):
            np.copyto(hist[:, b], lower, where=b0 == b)
            np.copyto(hist[:, b], upper, where=b1 == b)
        cw, ch = HOG_CELLS
        cells = hist.reshape(n, HOG_BINS, ch, h // ch, cw, w // cw).sum(axis=(3, 5))
        cells /= np.linalg.norm(cells, axis=1, keepdims=True) + 1e-3
        out.append(np.sqrt(cells))
    return np.concatenate(out) if out else np.zeros((0, HOG_BINS, *HOG_CELLS[::-1]), np.float32)


def global_descriptors(mids: np.ndarray) -> np.ndarray:
    """Global descriptors (n, d) of mid thumbnails (n, h, w): unit-norm rows.

    Two halves that survive changes of light and season, each zero-mean and unit-norm, so the
    cosine of two descriptors is the mean of the halves' correlations: a patch-normalised
    thumbnail (SeqSLAM) and gradient orientation histograms (HOG-like). Both look at the
    central ``CENTRE`` of the frame (robust to crop and roll).
    """
    n, h, w = mids.shape
    mh, mw = round(h * (1 - CENTRE) / 2), round(w * (1 - CENTRE) / 2)
    crops = mids[:, mh : h - mh, mw : w - mw]
    patch = _normalise(np.stack([_patch_normalised(c) for c in crops]).reshape(n, -1))
    hog = _normalise(_gradient_histograms(crops).reshape(n, -1))
    return np.concatenate([patch, hog], axis=1) / np.float32(np.sqrt(2.0))


def row_profiles(mids: np.ndarray) -> np.ndarray:
    """(n, 3 (h - 1)) unit-norm row profiles of grey mid thumbnails (n, h, w): the along-track
    descriptor of :mod:`.along`, which a sideways move of the camera barely changes.

    Over the central ``ROW_CENTRE`` of the width of the blurred, log-brightness image: each
    row's mean, the mean absolute and the mean signed difference to the next row. Each part is
    high-passed down the picture (what varies slower than ``ROW_HIGHPASS_ROWS`` rows is removed:
    haze, a shadow band across the ground, a sky that is brighter or darker), then made zero-mean
    and unit-norm. In the log image a brightness gain or a shadow's darkening is an offset, which
    the differences do not see."""
    f = mids.astype(np.float32)
    n, h, w = f.shape
    if ROW_BLUR_PX > 0:
        f = np.stack([cv2.GaussianBlur(x, (0, 0), ROW_BLUR_PX) for x in f])
    f = np.log(f + np.float32(ROW_LOG_OFFSET)) * np.float32(40.0)
    mw = round(w * (1 - ROW_CENTRE) / 2)
    c = f[:, :, mw : w - mw]
    down = np.diff(c, axis=1)
    parts = [c.mean(axis=2)[:, 1:], np.abs(down).mean(axis=2), down.mean(axis=2)]
    k = cv2.getGaussianKernel(2 * int(np.ceil(3 * ROW_HIGHPASS_ROWS)) + 1, ROW_HIGHPASS_ROWS)
    one = np.ones((1, 1), np.float64)
    out = []
    for p in parts:
        p = np.ascontiguousarray(p, np.float32)
        p = p - cv2.sepFilter2D(p, -1, k, one, borderType=cv2.BORDER_REFLECT_101)
        out.append(_normalise(p))
    return np.concatenate(out, axis=1) / np.float32(np.sqrt(len(out)))


def fine_vectors(thumbs: np.ndarray) -> np.ndarray:
    """Normalised vectors of the central part of fine thumbnails, (n, d), for refinement."""
    n, h, w = thumbs.shape
    mh, mw = round(h * (1 - FINE_CENTRE) / 2), round(w * (1 - FINE_CENTRE) / 2)
    return _normalise(thumbs[:, mh : h - mh, mw : w - mw].reshape(n, -1))


def fine_shift_derivatives(thumb: np.ndarray) -> np.ndarray:
    """(2, d): how :func:`fine_vectors` of ``thumb`` changes when the picture moves one pixel
    right and one pixel down (central differences, in the same normalisation)."""
    return fine_similarity_derivatives(thumb)[:2]


def fine_similarity_derivatives(thumb: np.ndarray) -> np.ndarray:
    """(4, d): how :func:`fine_vectors` of ``thumb`` changes when the picture moves one pixel
    right, one pixel down, grows by one part in one (about the thumbnail's centre) and turns by
    one radian: the small view changes a mount error or a shaking camera makes."""
    f = thumb.astype(np.float32)
    h, w = f.shape
    mh, mw = round(h * (1 - FINE_CENTRE) / 2), round(w * (1 - FINE_CENTRE) / 2)
    c = f[mh : h - mh, mw : w - mw]
    norm = max(float(np.linalg.norm(c - c.mean())), 1e-6)
    gx = -0.5 * (f[mh : h - mh, mw + 1 : w - mw + 1] - f[mh : h - mh, mw - 1 : w - mw - 1])
    gy = -0.5 * (f[mh + 1 : h - mh + 1, mw : w - mw] - f[mh - 1 : h - mh - 1, mw : w - mw])
    yy, xx = np.mgrid[mh : h - mh, mw : w - mw].astype(np.float32)
    xx -= (w - 1) / 2
    yy -= (h - 1) / 2
    moves = (gx, gy, xx * gx + yy * gy, xx * gy - yy * gx)
    return np.stack([(g - g.mean()).ravel() / norm for g in moves]).astype(np.float32)


class FineCache:
    """:func:`fine_vectors` and :func:`fine_shift_derivatives` of one array of reference fine
    thumbnails, each sample's computed once and kept: a sync refines along the same reference
    many times (every mount round, the shake pass), and these do not change between them."""

    def __init__(self) -> None:
        self._vecs: dict[int, np.ndarray] = {}
        self._grads: dict[int, np.ndarray] = {}

    def vec(self, thumbs: np.ndarray, j: int) -> np.ndarray:
        """The fine vector of ``thumbs[j]``."""
        v = self._vecs.get(j)
        if v is None:
            v = self._vecs[j] = fine_vectors(thumbs[j : j + 1])[0]
            v.flags.writeable = False  # shared by every caller
        return v

    def grad(self, thumbs: np.ndarray, j: int) -> np.ndarray:
        """The shift derivatives of ``thumbs[j]``."""
        g = self._grads.get(j)
        if g is None:
            g = self._grads[j] = fine_shift_derivatives(thumbs[j])
            g.flags.writeable = False
        return g


_FINE_CACHES: dict[int, tuple[weakref.ref, FineCache]] = {}
_FINE_LOCK = threading.Lock()


def fine_cache(thumbs: np.ndarray) -> FineCache:
    """The :class:`FineCache` of the array ``thumbs`` (the same object: a reference's
    ``Keyframes.thumbs``), made on first use and dropped with the array."""
    key = id(thumbs)
    with _FINE_LOCK:
        hit = _FINE_CACHES.get(key)
        if hit is not None and hit[0]() is thumbs:
            return hit[1]
        cache = FineCache()
        _FINE_CACHES[key] = (weakref.ref(thumbs, lambda _, k=key: _FINE_CACHES.pop(k, None)), cache)
        return cache


def texture_score(grey: np.ndarray) -> float:
    """Mean gradient magnitude: near 0 for a flat, black or lens-covered frame."""
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.mean(np.abs(gx)) + np.mean(np.abs(gy)))


@dataclass(frozen=True)
class OrbFeatures:
    """Keypoint positions (k, 2) float32 in work-image pixels and ORB descriptors (k, 32) uint8."""

    xy: np.ndarray
    desc: np.ndarray


_ORB = None


def orb_features(grey: np.ndarray, n_features: int = 600) -> OrbFeatures:
    """ORB keypoints of a grey work image."""
    global _ORB
    if _ORB is None:
        _ORB = cv2.ORB_create(
            nfeatures=n_features, fastThreshold=12, edgeThreshold=15, patchSize=21
        )
    kps, desc = _ORB.detectAndCompute(grey, None)
    if desc is None or not kps:
        return OrbFeatures(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))
    return OrbFeatures(np.array([k.pt for k in kps], np.float32), desc)


_MATCHER = cv2.BFMatcher(cv2.NORM_HAMMING)


@dataclass(frozen=True)
class PairCheck:
    """Geometric verification of one frame pair: RANSAC inliers and, if enough, the similarity
    transform (2x3, work-image pixels of ``a`` -> ``b``) fitted to the inliers."""

    inliers: int
    similarity: np.ndarray | None = None


#: Matches and checks already made inside :func:`remembered_matches`, by the ids of the two
#: keypoint sets and the parameters: (weakref a, weakref b, result). The weak references tell a
#: reused id from the set it belonged to, and keep nothing alive; syncs that overlap (threads)
#: share the memory, which is emptied whenever it holds ``_MEMO_MAX`` results.
_MEMO: dict[tuple, tuple[weakref.ref, weakref.ref, Any]] | None = None
_MEMO_MAX = 4096
_MEMO_USERS = 0
_MEMO_LOCK = threading.Lock()


@contextlib.contextmanager
def remembered_matches() -> Iterator[None]:
    """Within this block :func:`ratio_matches` matches, and :func:`verify_pair` checks, each
    pair of keypoint sets once: a sync checks many pairs again (each mount round, the shake
    pass, the another-line check), and brute-force matching gives the same matches every time.
    Forgotten when the last block ends."""
    global _MEMO, _MEMO_USERS
    with _MEMO_LOCK:
        _MEMO_USERS += 1
        if _MEMO is None:
            _MEMO = {}
    try:
        yield
    finally:
        with _MEMO_LOCK:
            _MEMO_USERS -= 1
            if _MEMO_USERS == 0:
                _MEMO = None


def _remembered(key: tuple, a: OrbFeatures, b: OrbFeatures) -> Any:
    """The result kept for ``key`` if it was made for these very ``a`` and ``b``, else None."""
    memo = _MEMO
    hit = memo.get(key) if memo is not None else None
    if hit is not None and hit[0]() is a and hit[1]() is b:
        return hit[2]
    return None


def _remember(key: tuple, a: OrbFeatures, b: OrbFeatures, result: Any) -> None:
    memo = _MEMO
    if memo is None:
        return
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = (weakref.ref(a), weakref.ref(b), result)


def ratio_matches(
    a: OrbFeatures, b: OrbFeatures, ratio: float = 0.8
) -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``a`` and into ``b`` of ``a``'s nearest matches in ``b`` that pass the ratio
    test (nearest closer than ``ratio`` times the second nearest), in ``a``'s order."""
    key = (id(a), id(b), ratio)
    hit = _remembered(key, a, b)
    if hit is not None:
        return hit
    knn = _MATCHER.knnMatch(a.desc, b.desc, k=2)
    good = [m[0] for m in knn if len(m) == 2 and m[0].distance < ratio * m[1].distance]
    out = (
        np.array([m.queryIdx for m in good], np.int64),
        np.array([m.trainIdx for m in good], np.int64),
    )
    _remember(key, a, b, out)
    return out


def verify_pair(
    a: OrbFeatures, b: OrbFeatures, ratio: float = 0.8, reproj_px: float = 4.0
) -> PairCheck:
    """Match ORB features (ratio test), fit a homography with RANSAC, count inliers.

    Inside :func:`remembered_matches` a pair is checked once (RANSAC and LMedS draw from
    OpenCV's fixed seed: the same pair gives the same check)."""
    key = (id(a), id(b), ratio, reproj_px)
    hit = _remembered(key, a, b)
    if hit is not None:
        return hit
    check = _verify_pair(a, b, ratio, reproj_px)
    _remember(key, a, b, check)
    return check


def _verify_pair(a: OrbFeatures, b: OrbFeatures, ratio: float, reproj_px: float) -> PairCheck:
    if len(a.desc) < 8 or len(b.desc) < 8:
        return PairCheck(0)
    qi, ti = ratio_matches(a, b, ratio)
    if len(qi) < 8:
        return PairCheck(0)
    src = a.xy[qi]
    dst = b.xy[ti]
    _, mask = cv2.findHomography(src, dst, cv2.RANSAC, reproj_px, maxIters=500, confidence=0.99)
    if mask is None:
        return PairCheck(0)
    inl = mask.ravel().astype(bool)
    sim = None
    if inl.sum() >= 12:
        sim, _ = cv2.estimateAffinePartial2D(src[inl], dst[inl], method=cv2.LMEDS)
    return PairCheck(int(inl.sum()), sim)


#: Threads for frame-pair checks (0: every core). 1 by default: on the idle 2-core machine the
#: threaded checks were not faster (long_720p 0.729 of a plain decode against 0.686, 3 runs).
CHECK_THREADS = 1


def check_threads() -> int:
    """Threads :func:`verify_pairs` uses by default (:data:`CHECK_THREADS`, 0 = every core)."""
    return CHECK_THREADS or available_cores()


def verify_pairs(
    pairs: Sequence[tuple[OrbFeatures, OrbFeatures]], workers: int | None = None
) -> Iterator[PairCheck]:
    """:func:`verify_pair` on each pair, in order, on ``workers`` threads (default:
    :func:`check_threads`).

    Matching and RANSAC run in OpenCV without Python's lock and with their own fixed random
    seed, so the checks are the ones a loop gives, on every core."""
    workers = workers or check_threads()
    if workers < 2 or len(pairs) < 8:
        return (verify_pair(a, b) for a, b in pairs)
    return _threaded_map(lambda ab: verify_pair(*ab), pairs, workers)


def _threaded_map(fn, items, workers: int) -> Iterator:
    pool = ThreadPoolExecutor(workers, thread_name_prefix="mtbsync-verify")
    try:
        yield from pool.map(fn, items)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
