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
    ref, ref_orbs, ref_mids = sample_run(runs.ref, SampleParams(), keep_mid=True, with_rows=True)
    new, new_orbs, new_mids = sample_run(
        runs.offset.path,
        SampleParams(mode="all", max_rate_hz=10.0, orb_rate_hz=1.0),
        keep_mid=True,
    )
    return ref, ref_orbs, new, new_orbs, ref_mids, new_mids


def test_row_profiles_ignore_a_sideways_move_but_not_a_move_forward(sampled):
    ref, mids = sampled[0], sampled[4]
    thumb = mids[len(ref.t_s) // 2]
    h, w = thumb.shape
    sideways = cv2.warpAffine(
        thumb, np.float32([[1, 0, 4], [0, 1, 0]]), (w, h), borderMode=cv2.BORDER_REPLICATE
    )
    zoom = cv2.warpAffine(  # 8 % larger about the middle: what moving forward does
        thumb,
        cv2.getRotationMatrix2D((w / 2, h / 2), 0, 1.08),
        (w, h),
        borderMode=cv2.BORDER_REPLICATE,
    )
    p = row_profiles(np.stack([thumb, sideways, zoom]))
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(p[0], ref.rows[len(ref.t_s) // 2], atol=1e-5)  # kept by sampling
    assert p[0] @ p[1] > 0.95  # 2 px of a 128 px thumbnail sideways
    assert p[0] @ p[2] < p[0] @ p[1] - 0.03


def test_row_profiles_see_through_evening_light(sampled):
    """Another time of day: a darker picture, darker still towards the ground (a low sun), hazy
    towards the horizon. The profiles stay near the same place's (log brightness makes the light
    an offset, the high-pass drops what varies slowly down the picture), clearly nearer than to
    the place 8 % further on. The profiles before this change (plain brightness) gave 0.45-0.93
    here on the parallax generator's frames, often below the move forward."""
    ref, mids = sampled[0], sampled[4]
    for k in np.linspace(5, len(ref.t_s) - 5, 4).astype(int):
        thumb = mids[k]
        h, w = thumb.shape
        rows = np.arange(h, dtype=np.float32)[:, None]
        light = 0.75 - 0.35 * rows / h
        haze = 0.25 * np.clip(1.0 - rows / (0.5 * h), 0.0, 1.0)
        f = thumb.astype(np.float32) * light
        evening = np.clip(f * (1 - haze) + 170.0 * haze, 0, 255).astype(np.uint8)
        zoom = cv2.warpAffine(
            thumb,
            cv2.getRotationMatrix2D((w / 2, h / 2), 0, 1.08),
            (w, h),
            borderMode=cv2.BORDER_REPLICATE,
        )
        p = row_profiles(np.stack([thumb, evening, zoom]))
        assert p[0] @ p[1] > 0.9, (k, p[0] @ p[1])
        assert p[0] @ p[1] > p[0] @ p[2] + 0.1, (k, p[0] @ p[1], p[0] @ p[2])


def test_a_flat_scene_shows_no_lateral_parallax(sampled):
    ref, ref_orbs, new, new_orbs = sampled[:4]
    path = coarse_path(new, ref)
    ratio, spread_px, pairs = lateral_parallax(
        new_orbs, ref_orbs, ref.t_s, path.i_new, path.t_ref_s
    )
    assert pairs >= 5
    assert ratio < 1.4 and spread_px < 1.5  # the defaults that switch placement by row profiles


def test_row_profiles_bring_a_path_that_is_off_back_to_the_truth(sampled):
    ref, _, new, _, _, new_mids = sampled
    path = coarse_path(new, ref)
    t_new = new.t_s[path.i_new]
    off = path.t_ref_s + 0.3  # a coarse path 300 ms late all along
    t, sim = along_track_times(new_mids[path.i_new], ref.rows, ref.t_s, off, t_new, 0.5)
    assert np.all(np.diff(t) >= 0) and len(sim) == len(t)
    err = np.abs(t - (t_new + OFFSET_S))
    assert np.median(err) <= 1 / 30, f"median {1e3 * np.median(err):.0f} ms"
