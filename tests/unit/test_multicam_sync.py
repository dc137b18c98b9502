"""sync_cameras end to end on encoded cameras (AAC audio, 25/30/60 fps, drops, VFR) and bad input."""

from __future__ import annotations

from fractions import Fraction

import pytest

from mtbsync_core.errors import AudioMissingError, MulticamError
from mtbsync_core.multicam import sync_cameras
from mtbsync_core.multicam.synth import CamSpec, make_camera_set, standard_specs, true_clock


@pytest.fixture(scope="module")
def cams(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mc_sync")
    return make_camera_set(folder, standard_specs(6.0), seed=2)


def test_audio_sync_three_cameras(cams):
    res = sync_cameras([t.path for t in cams], method="audio")
    assert res.master_id == "helmet" and res.all_ok
    for cam, (off, drift) in zip(res.cameras, true_clock(cams), strict=True):
        assert abs(cam.offset_s - off) < 0.001, cam
        assert abs(cam.drift_ppm - drift) < 40.0  # a 5 s overlap pins drift only loosely
    assert res.camera("chest").is_vfr and "Variable frame rate" in res.camera("chest").message
    assert res.params["dropped_pairs"] == []


def test_flash_sync_three_cameras(cams):
    res = sync_cameras([t.path for t in cams], method="flash", master="bar")
    clock = true_clock(cams, master=1)
    for cam, (off, _) in zip(res.cameras, clock, strict=True):
        assert cam.status == "ok" and cam.method in ("flash", "master")
        assert abs(cam.offset_s - off) < 0.25 / 30 + abs(cam.drift_ppm) * 1e-6 * 6


def test_timecode_without_timecode_fails_cleanly(cams):
    res = sync_cameras([t.path for t in cams], method="timecode")
    assert [c.status for c in res.cameras][1:] == ["failed", "failed"]
    assert "--offset" in res.cameras[1].message
    assert "--method timecode" not in res.cameras[1].message  # never the method that just failed


def test_manual_offsets(cams):
    res = sync_cameras(
        [t.path for t in cams], method="manual", manual_offsets={"bar": 1.25, "chest": -0.5}
    )
    assert res.camera("bar").offset_s == 1.25 and res.camera("bar").method == "manual"
    with pytest.raises(MulticamError, match="chest"):
        sync_cameras([t.path for t in cams], method="manual", manual_offsets={"bar": 1.25})


def test_bad_input(tmp_path, cams):
    with pytest.raises(MulticamError, match="at least two"):
        sync_cameras([cams[0].path])
    with pytest.raises(MulticamError, match="nosuch"):
        sync_cameras([c.path for c in cams], master="nosuch")
    quiet = make_camera_set(
        tmp_path, [CamSpec("mute", 1.5, 0.0, Fraction(30), 5.0, audio=False)], seed=2
    )
    with pytest.raises(AudioMissingError, match="--method flash"):
        sync_cameras([cams[0].path, quiet[0].path], method="audio")
    # auto falls back to the flash for the camera without sound
    res = sync_cameras([cams[0].path, quiet[0].path], method="auto")
    assert res.camera("mute").method == "flash" and res.camera("mute").status == "ok"


def test_no_overlap_is_not_ok(tmp_path):
    specs = [
        CamSpec("early", 0.0, 0.0, Fraction(30), 3.0, seed=1),
        CamSpec("late", 6.0, 0.0, Fraction(30), 3.0, seed=2),
    ]
    truths = make_camera_set(tmp_path, specs, seed=3, flashes=False)
    res = sync_cameras([t.path for t in truths], method="auto")
    assert res.camera("late").status != "ok"


def test_executor_gives_the_same_answer(cams):
    from concurrent.futures import ProcessPoolExecutor

    plain = sync_cameras([t.path for t in cams], method="audio")
    with ProcessPoolExecutor(max_workers=2) as ex:
        pooled = sync_cameras([t.path for t in cams], method="audio", executor=ex)
    for a, b in zip(plain.cameras, pooled.cameras, strict=True):
        assert a.offset_s == b.offset_s and a.drift_ppm == b.drift_ppm and a.status == b.status


def test_sound_recorder_joins_the_cameras(tmp_path):
    """A separate sound recorder (16-bit WAV, its own drifting clock) is placed by its sound."""
    specs = [
        *standard_specs(5.0)[:2],
        CamSpec(
            "zoom", 0.2, 120.0, duration_s=7.0, video=False, snr_db=6.0, seed=9, audio_rate_hz=48000
        ),
    ]
    truths = make_camera_set(tmp_path, specs, seed=3)
    res = sync_cameras([t.path for t in truths], method="auto")
    zoom = res.camera("zoom")
    (off, drift) = true_clock(truths)[2]
    assert zoom.status == "ok" and zoom.method == "audio" and zoom.frame_count == 0
    assert abs(zoom.offset_s - off) < 0.001 and abs(zoom.drift_ppm - drift) < 20
    assert "Sound only" in zoom.message
    from mtbsync_core.multicam import Timeline

    with Timeline(res) as tl:
        assert tl.camera_ids == ["helmet", "bar"]  # nothing to show for the recorder


def test_a_box_per_camera_reaches_that_cameras_flash_search(cams):
    from mtbsync_core.errors import MulticamError

    ids = [t.spec.camera_id for t in cams]
    with pytest.raises(MulticamError, match=str(cams[1].path.name)):
        sync_cameras([t.path for t in cams], method="flash", roi={ids[1]: (5000, 0, 10, 10)})
    res = sync_cameras([t.path for t in cams], method="flash", roi={ids[0]: (0, 0, 10_000, 10_000)})
    assert res.params["roi"] == {ids[0]: [0, 0, 10_000, 10_000]}
