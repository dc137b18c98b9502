"""Geometric timing across lines: where along a reference run is the new camera?

When the new run rides another line through the same scene, appearance matching is biased by
parallax. Geometry is not: at the reference time ``tau`` where the reference camera is level
with the new camera (same distance along the trail), the relative translation between the two
cameras is purely sideways, so its forward component is zero; before ``tau`` the reference
camera is behind, after it ahead, and forward / sideways grows about linearly with the time
difference (``v * (t_ref - tau) / d`` for speed ``v`` and line offset ``d``).

Sign convention (everywhere in this module): the translation is the unit direction from the
NEW camera centre to the REFERENCE camera centre, in the NEW camera's frame (x right, y down,
z forward). So ``tz > 0`` means the reference camera is ahead of the new one (the reference
sample was taken after ``tau``) and the forward ratio rises with reference time.

Everything works on ORB features of the grey work image (``features.WORK_W`` px wide).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np

from .features import OrbFeatures

log = logging.getLogger(__name__)

FOCAL_FRACTION = 0.625  # default focal length / image width (200 px on a 320 px work image)
_MATCHER = cv2.BFMatcher(cv2.NORM_HAMMING)


@dataclass(frozen=True)
class Heading:
    """Relative pose of one new frame against one reference frame.

    ``tx, ty, tz``: unit direction new camera -> reference camera, new camera frame.
    ``inliers``: essential-matrix inliers that passed the pose check; ``h_inliers``: inliers of
    a homography at the same threshold (close to ``inliers`` when there is no parallax to tell
    translation from rotation); ``rotation_deg``: angle of the relative rotation.
    """

    tx: float
    ty: float
    tz: float
    inliers: int
    matches: int
    h_inliers: int
    rotation_deg: float

    @property
    def sideways(self) -> float:
        """Share of the unit translation across the view (``hypot(tx, ty)``)."""
        return math.hypot(self.tx, self.ty)

    @property
    def forward_ratio(self) -> float:
        """Forward / sideways (``tz / hypot(tx, ty)``), capped at +-1e3."""
        return float(np.clip(self.tz / max(self.sideways, 1e-3), -1e3, 1e3))


def camera_matrix(size_wh: tuple[int, int], focal_px: float | None = None) -> np.ndarray:
    """Pinhole K (3x3) for a work image: principal point at the centre, square pixels."""
    w, h = size_wh
    f = FOCAL_FRACTION * w if focal_px is None else focal_px
    return np.array([[f, 0.0, w / 2.0], [0.0, f, h / 2.0], [0.0, 0.0, 1.0]])


def ratio_matches(
    a: OrbFeatures, b: OrbFeatures, ratio: float = 0.8
) -> tuple[np.ndarray, np.ndarray]:
    """Ratio-test ORB matches (as :func:`features.verify_pair`): pixel positions (m, 2) in a, b."""
    if len(a.desc) < 2 or len(b.desc) < 2:
        empty = np.zeros((0, 2), np.float32)
        return empty, empty
    knn = _MATCHER.knnMatch(a.desc, b.desc, k=2)
    good = [m[0] for m in knn if len(m) == 2 and m[0].distance < ratio * m[1].distance]
    qa = np.array([m.queryIdx for m in good], np.int64)
    qb = np.array([m.trainIdx for m in good], np.int64)
    return a.xy[qa].reshape(-1, 2), b.xy[qb].reshape(-1, 2)


def relative_heading(
    a: OrbFeatures,
    b: OrbFeatures,
    size_wh: tuple[int, int],
    focal_px: float | None = None,
    threshold_px: float = 1.0,
    min_matches: int = 20,
) -> Heading | None:
    """Relative pose of new frame ``a`` against reference frame ``b`` (see module docstring).

    Ratio-test matches, essential matrix (USAC MAGSAC, ``threshold_px`` in work-image pixels),
    ``recoverPose``. None when there are fewer than ``min_matches`` matches or pose inliers.
    ``focal_px`` defaults to ``FOCAL_FRACTION`` of the width; a wrong focal length bends the
    ratio's scale but keeps its zero (a purely sideways translation has its epipole at infinity
    for any focal length once the principal point is centred).
    """
    pa, pb = ratio_matches(a, b)
    if len(pa) < min_matches:
        return None
    k = camera_matrix(size_wh, focal_px)
    e, mask = cv2.findEssentialMat(
        pa, pb, k, method=cv2.USAC_MAGSAC, prob=0.999, threshold=threshold_px
    )
    if e is None or e.shape != (3, 3) or mask is None:
        return None
    n, r, t, pose_mask = cv2.recoverPose(e, pa, pb, k, mask=mask.copy())
    if n < min_matches:
        return None
    _, h_mask = cv2.findHomography(pa, pb, cv2.RANSAC, 2.0 * threshold_px, maxIters=500)
    h_inl = 0 if h_mask is None else int(h_mask.sum())
    c = -r.T @ t.ravel()  # reference camera centre in the new camera's frame
    c = c / max(float(np.linalg.norm(c)), 1e-12)
    angle = math.degrees(math.acos(float(np.clip((np.trace(r) - 1.0) / 2.0, -1.0, 1.0))))
    return Heading(float(c[0]), float(c[1]), float(c[2]), int(n), len(pa), h_inl, angle)
