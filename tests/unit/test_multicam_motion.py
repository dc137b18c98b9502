"""Motion sync of silent cameras: rendered views of one action, encoded with H.264 and decoded."""

from __future__ import annotations

from fractions import Fraction

import pytest

from mtbsync_core.multicam import sync_cameras
from mtbsync_core.multicam.motion import MotionParams, estimate_motion_pair, read_motion
from mtbsync_core.multicam.synth_motion import ViewSpec, make_scene, write_view


@pytest.mark.slow
def test_two_cameras_on_one_shaking_mount_within_a_quarter_frame(tmp_path):
    scene = make_scene(3, 16.0)
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    write_view(a, scene, ViewSpec(0.0, Fraction(30), 12.0, tilt=0.2, shaking=True, seed=3))
    write_view(b, scene, ViewSpec(1.137, Fraction(30), 12.0, tilt=-0.25, shaking=True, seed=13))
    est = estimate_motion_pair(read_motion(a), read_motion(b))
    assert est.status == "ok", est.message
    assert abs(est.offset_s - 1.137) < 0.25 / 30
    # the same through sync_cameras and its joint solve
    res = sync_cameras([a, b], method="motion")
    assert res.cameras[1].method == "motion" and res.cameras[1].status == "ok"
    assert abs(res.cameras[1].offset_s - 1.137) < 0.25 / 30


@pytest.mark.slow
def test_different_scenes_are_ambiguous(tmp_path):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    write_view(a, make_scene(1, 14.0), ViewSpec(0.0, Fraction(30), 12.0, tilt=0.2, seed=1))
    write_view(b, make_scene(51, 14.0), ViewSpec(0.5, Fraction(25), 12.0, tilt=-0.2, seed=2))
    sa, sb = read_motion(a), read_motion(b)
    for prm in (MotionParams(), MotionParams(signal="edges"), MotionParams(signal="weighted")):
        est = estimate_motion_pair(sa, sb, prm=prm)
        assert est.status == "ambiguous", prm.signal
        assert "motion does not agree" in est.message


@pytest.mark.slow
def test_edges_place_two_angles_without_shake_at_two_rates(tmp_path):
    # two fixed cameras, two angles, 25 and 30 fps: the energy's starts and stops place them
    scene = make_scene(310, 20.0)
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    write_view(a, scene, ViewSpec(0.0, Fraction(25), 16.0, tilt=0.2, seed=10))
    write_view(b, scene, ViewSpec(1.71, Fraction(30), 16.0, tilt=-0.25, seed=60))
    est = estimate_motion_pair(read_motion(a), read_motion(b), prm=MotionParams(signal="edges"))
    assert est.status == "ok", est.message
    assert abs(est.offset_s - 1.71) < 0.25 / 30


@pytest.mark.slow
def test_weighted_places_two_angles_without_shake_where_the_shake_is_noise(tmp_path):
    # two fixed cameras at 60 and 30 fps, two angles, no shared shake: the shake channel is each
    # camera's own noise; weighted by its coherence it must not pull the peak off
    scene = make_scene(304, 20.0)
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    write_view(a, scene, ViewSpec(0.0, Fraction(60), 16.0, tilt=0.22, seed=4))
    write_view(b, scene, ViewSpec(1.318, Fraction(30), 16.0, tilt=-0.17, seed=54))
    sa, sb = read_motion(a), read_motion(b)
    est = estimate_motion_pair(sa, sb, prm=MotionParams(signal="weighted"))
    assert est.status == "ok", est.message
    assert abs(est.offset_s - 1.318) < 0.25 / 60
    # the decision is level's: the same status, z and confidence
    lvl = estimate_motion_pair(sa, sb)
    assert (lvl.status, lvl.extra, lvl.confidence) == (est.status, est.extra, est.confidence)


def test_unknown_signal_is_refused():
    with pytest.raises(ValueError, match="'level', 'edges' or 'weighted'"):
        MotionParams(signal="optical-flow")


def test_keyframes_do_not_count_as_motion(tmp_path):
    # a still scene: the encoder's keyframe refresh must not show up as motion
    scene = make_scene(2, 4.0)
    still = ViewSpec(0.0, Fraction(30), 3.0, seed=2)
    path = tmp_path / "still.mp4"
    frozen = type(scene)(
        scene.ground,
        scene.knots_t,
        scene.paths[:, :1].repeat(len(scene.knots_t), 1),
        scene.sprites,
        scene.shake * 0,
    )
    write_view(path, frozen, still)
    sig = read_motion(path)
    assert len(sig.t_s) > 60 and float(sig.energy.max()) < 1.0
