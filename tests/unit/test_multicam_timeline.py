"""Timeline: nearest frame by PTS for 25/30/60 fps, dropped frames and VFR; sequential ranges."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from mtbsync_core.multicam.io import CameraSync, MulticamResult
from mtbsync_core.multicam.media import read_pts_table
from mtbsync_core.multicam.synth import make_camera_set, standard_specs, true_clock
from mtbsync_core.multicam.timeline import Timeline


@pytest.fixture(scope="module")
def cams(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mc_timeline")
    truths = make_camera_set(folder, standard_specs(4.0), seed=1, flashes=False)
    clock = true_clock(truths)
    syncs = []
    for tr, (off, drift) in zip(truths, clock, strict=True):
        syncs.append(CameraSync(str(tr.path), tr.spec.camera_id, off, drift, 1.0, "manual", "ok"))
    result = MulticamResult(tuple(syncs), truths[0].spec.camera_id, "manual")
    decoded = {}
    for tr in truths:
        with av.open(str(tr.path)) as c:
            decoded[tr.spec.camera_id] = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return truths, result, decoded


def _truth_master(tr, master):
    return (tr.t_master_s - master.spec.offset_s) / (1 + master.spec.drift_ppm * 1e-6)


def test_pts_table_matches_written_frames(cams):
    truths, _, _ = cams
    for tr in truths:
        tab = read_pts_table(tr.path)
        assert len(tab.t_s) == len(tr.t_cam_s)
        assert np.abs(tab.t_s - tr.t_cam_s).max() < 1e-4
    assert read_pts_table(truths[1].path).dropped_frames == 3
    assert read_pts_table(truths[2].path).is_vfr
    assert not read_pts_table(truths[0].path).is_vfr


def test_frame_at_returns_true_nearest_frames(cams):
    truths, result, decoded = cams
    rng = np.random.default_rng(0)
    with Timeline(result) as tl:
        wrong = checked = 0
        for t in rng.uniform(-0.5, 5.0, 60):
            frames = tl.frame_at(float(t))
            assert set(frames) == {"helmet", "bar", "chest"}
            for tr in truths:
                cid = tr.spec.camera_id
                tm = _truth_master(tr, truths[0])
                k = int(np.argmin(np.abs(tm - t)))
                half = 0.5 * np.median(np.diff(tm))
                f = frames[cid]
                assert f.valid == (abs(tm[k] - t) <= half + 1e-9)
                if f.valid:
                    checked += 1
                    wrong += f.frame_idx != k
                    assert abs(f.residual_s - (tm[k] - t)) < 1e-6
                    assert np.array_equal(f.image, decoded[cid][k])
        assert wrong == 0 and checked > 100


def test_frames_between_decodes_sequentially(cams):
    truths, result, decoded = cams
    with Timeline(result, policy="partial", min_cameras=2) as tl:
        got = list(tl.frames_between(1.5, 3.5))
        assert len(got) == len(tl.grid(1.5, 3.5))
        for t, frames in got:
            for tr in truths:
                f = frames[tr.spec.camera_id]
                if f.valid:
                    tm = _truth_master(tr, truths[0])
                    assert f.frame_idx == int(np.argmin(np.abs(tm - t)))
                    assert np.array_equal(f.image, decoded[tr.spec.camera_id][f.frame_idx])
        assert all(r.seeks <= 1 for r in tl._readers.values())


def test_missing_camera_policies(cams):
    _, result, _ = cams
    with Timeline(result, policy="skip") as tl:
        a, b = tl.common_span_s()
        skip = [t for t, _ in tl.frames_between(a - 1.0, b, fps=10, decode=False)]
        assert all(a - 0.02 <= t for t in skip)  # times before every camera runs are skipped
    with Timeline(result, policy="partial", min_cameras=1) as tl:
        part = [t for t, _ in tl.frames_between(a - 1.0, b, fps=10, decode=False)]
        assert len(part) > len(skip)
    with pytest.raises(ValueError):
        Timeline(result, policy="interpolate")


def test_dropped_frame_is_invalid_at_its_time(cams):
    truths, result, _ = cams
    bar = truths[1]
    period = 1 / float(bar.spec.fps)
    master = truths[0]
    # frames 10 and 11 of "bar" were dropped: the middle of that gap has no frame within half a period
    t_cam_gap = 10.5 * period
    t_master = (
        bar.spec.offset_s + (1 + bar.spec.drift_ppm * 1e-6) * t_cam_gap - master.spec.offset_s
    )
    with Timeline(result) as tl:
        f = tl.nearest("bar", t_master)
        assert not f.valid and abs(f.residual_s) > 0.5 * period


GOPRO = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gopro"


def test_real_gopro_lookup_matches_sequential_decode():
    """Real GoPro H.264 (29.97 fps, GOPs of 8): random lookups return the exact frame by PTS."""
    src = GOPRO / "karma.mp4"
    if not src.exists():
        pytest.skip(f"real GoPro sample not found at {src}")
    with av.open(str(src)) as c:
        seq = [(f.pts, f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]
    cam = CameraSync(str(src), "karma", 10.0, 0.0, 1.0, "master", "ok")
    with Timeline(MulticamResult((cam,), "karma", "manual")) as tl:
        tab = tl.tables["karma"]
        assert [p for p, _ in seq] == tab.pts.tolist()
        for t in np.random.default_rng(3).uniform(10.0, 10.0 + tab.duration_s, 25):
            f = tl.frame_at(float(t))["karma"]
            k = int(np.argmin(np.abs(tab.t_s + 10.0 - t)))
            assert f.valid and f.frame_idx == k
            assert np.array_equal(f.image, seq[k][1])
