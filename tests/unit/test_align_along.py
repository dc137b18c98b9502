"""Along-track placement (another line through a scene with depth) on real encoded runs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mtbsync_core.align import coarse_path
from mtbsync_core.along import along_track_times, lateral_parallax, row_profiles
from mtbsync_core.sampling import SampleParams, sample_run

OFFSET_S = 3.0  # runs.offset starts 3 s into the reference at the same pace


@pytest.fixture(scope="module")
def sampled(runs):
    ref, ref_orbs, _ = sample_run(runs.ref, SampleParams())
    new, new_orbs, _ = sample_run(
        runs.offset.path, SampleParams(mode="all", max_rate_hz=10.0, orb_rate_hz=1.0)
    )
    return ref, ref_orbs, new, new_orbs


def test_row_profiles_ignore_a_sideways_move_but_not_a_move_forward(sampled):
    ref = sampled[0]
    thumb = ref.thumbs[len(ref.t_s) // 2]
    h, w = thumb.shape
    sideways = cv2.warpAffine(
        thumb, np.float32([[1, 0, 2], [0, 1, 0]]), (w, h), borderMode=cv2.BORDER_REPLICATE
    )
    zoom = cv2.warpAffine(  # 8 % larger about the middle: what moving forward does
        thumb,
        cv2.getRotationMatrix2D((w / 2, h / 2), 0, 1.08),
        (w, h),
        borderMode=cv2.BORDER_REPLICATE,
    )
    p = row_profiles(np.stack([thumb, sideways, zoom]))
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    assert p[0] @ p[1] > 0.95  # 2 px of a 64 px thumbnail sideways
    assert p[0] @ p[2] < p[0] @ p[1] - 0.03


def test_a_flat_scene_shows_no_lateral_parallax(sampled):
    ref, ref_orbs, new, new_orbs = sampled
    path = coarse_path(new, ref)
    ratio, spread_px, pairs = lateral_parallax(
        new_orbs, ref_orbs, ref.t_s, path.i_new, path.t_ref_s
    )
    assert pairs >= 5
    assert ratio < 1.4 and spread_px < 1.5  # the defaults that switch placement by row profiles


def test_row_profiles_bring_a_path_that_is_off_back_to_the_truth(sampled):
    ref, _, new, _ = sampled
    path = coarse_path(new, ref)
    t_new = new.t_s[path.i_new]
    off = path.t_ref_s + 0.3  # a coarse path 300 ms late all along
    t, sim = along_track_times(new.thumbs[path.i_new], ref.thumbs, ref.t_s, off, t_new, 0.5)
    assert np.all(np.diff(t) >= 0) and len(sim) == len(t)
    err = np.abs(t - (t_new + OFFSET_S))
    assert np.median(err) <= 1 / 30, f"median {1e3 * np.median(err):.0f} ms"
