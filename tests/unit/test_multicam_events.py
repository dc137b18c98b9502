"""Sparse sharp sounds over noise: the events path of the audio sync (issue: 'ambiguous' on real rooms)."""

from __future__ import annotations

import numpy as np
import pytest

from mtbsync_core.multicam.audio import estimate_audio_pair, trim_digital_silence
from mtbsync_core.multicam.events import LOW_CONFIDENCE, detect_events, estimate_event_pair
from mtbsync_core.multicam.media import AudioTrack
from mtbsync_core.multicam.synth_room import (
    Device,
    Source,
    impulsive_sound,
    path_delay_s,
    random_sources,
    simple_scene,
)

SCENE_HZ = 16000
BOX_M = (6.0, 5.0, 3.0)


def _pair(
    seed: int, n_src: int = 5, dur_s: float = 33.0, rate_hz: int = 8000, other: int | None = None
):
    """Two devices 1 m apart in one room; ``other`` gives device b a different scene."""
    rng = np.random.default_rng(seed)
    srcs = random_sources(n_src, dur_s + 4, SCENE_HZ, BOX_M, seed)
    da = Device((1.0, 1.0, 1.2), 0.5, rng.uniform(-200, 200), rate_hz, dur_s, seed=seed * 3 + 1)
    db = Device(
        (1.8, 1.6, 1.0),
        0.5 + rng.uniform(-1.5, 1.5),
        rng.uniform(-200, 200),
        rate_hz,
        dur_s,
        seed=seed * 3 + 2,
    )
    a, b = simple_scene(srcs, [da, db], SCENE_HZ, dur_s + 4, ambient_db=-45, seed=seed)
    if other is not None:
        srcs2 = random_sources(n_src, dur_s + 4, SCENE_HZ, BOX_M, other)
        _, b = simple_scene(srcs2, [da, db], SCENE_HZ, dur_s + 4, ambient_db=-45, seed=other)
    ra = 1 + da.drift_ppm * 1e-6
    off, rate = (db.offset_s - da.offset_s) / ra, (1 + db.drift_ppm * 1e-6) / ra
    pd = [(path_delay_s(s, da) - path_delay_s(s, db)) / ra for s in srcs]
    return AudioTrack(a, rate_hz, 0.0), AudioTrack(b, rate_hz, 0.0), (off, rate), pd


@pytest.mark.parametrize("seed", [0, 3, 5, 9])
def test_few_sharp_sounds_at_8khz_are_placed_within_path_difference(seed):
    a, b, (off, rate), pd = _pair(seed)
    est = estimate_audio_pair(a, b)
    assert est.status == "ok", est.message
    # the windows or (mostly) the sharp-sound path; checked where the evidence is
    t = np.asarray(est.extra.get("event_t_s", np.linspace(3, 28, 6)))
    got = est.offset_s + (1 + est.drift_ppm * 1e-6) * t
    clock = off + rate * t
    # the truth is the clock plus each sound's path difference (the devices are 1 m apart)
    assert np.all(got > clock + min(pd) - 0.0015) and np.all(got < clock + max(pd) + 0.0015)


@pytest.mark.parametrize("seed", [0, 1, 2, 4])
def test_unrelated_sparse_recordings_are_ambiguous(seed):
    a, b, _, _ = _pair(seed, other=seed + 500)
    est = estimate_audio_pair(a, b)
    assert est.status == "ambiguous"
    assert "sharp sounds did not match" in est.message


def test_one_shared_sound_is_placed_with_low_confidence_and_says_so():
    src = [
        Source(12.0, (3.0, 2.0, 1.5), impulsive_sound("clap", SCENE_HZ, np.random.default_rng(4)))
    ]
    da = Device((1.0, 1.0, 1.2), 0.0, 0.0, 8000, 30.0, seed=1)
    db = Device((1.5, 1.2, 1.0), 2.5, 80.0, 8000, 26.0, seed=2)
    a, b = simple_scene(src, [da, db], SCENE_HZ, 32.0, ambient_db=-45, seed=3)
    est = estimate_event_pair(AudioTrack(a, 8000, 0.0), AudioTrack(b, 8000, 0.0))
    assert est.status == "ok"
    assert est.confidence == LOW_CONFIDENCE
    assert "one shared sound" in est.message and "drift set to 0" in est.message
    truth = 2.5 + path_delay_s(src[0], da) - path_delay_s(src[0], db)
    assert est.drift_ppm == 0.0
    t_ev = est.extra["event_t_s"][0]
    # the sound's own arrival: master = 2.5 + 80e-6 * t on device b's clock around the event
    assert abs(est.offset_s - (truth + 80e-6 * t_ev)) < 0.001


def test_silence_and_steady_noise_have_no_events():
    rng = np.random.default_rng(0)
    quiet = AudioTrack((0.01 * rng.standard_normal(8000 * 20)).astype(np.float32), 8000, 0.0)
    assert len(detect_events(quiet).t_s) == 0
    est = estimate_event_pair(quiet, quiet)
    assert est.status == "ambiguous"


def test_digital_silence_at_the_ends_is_trimmed_on_the_clock():
    x = np.concatenate([np.zeros(800), np.ones(1600), np.zeros(400)]).astype(np.float32)
    t = trim_digital_silence(AudioTrack(x, 8000, 1.0))
    assert len(t.samples) == 1600 and t.t0_s == pytest.approx(1.1)


def test_windowed_answer_from_few_windows_needs_the_sharp_sounds_to_confirm_it():
    """Three of 32 coarse windows on one line happen by chance between unrelated rooms: such an
    answer stands only when the sharp-sound path puts the pair on the same clock."""
    from mtbsync_core.multicam.audio import AudioParams, _confirm
    from mtbsync_core.multicam.solve import PairEstimate

    prm = AudioParams()
    extra = {"coarse_windows": 32, "coarse_inliers": 3, "rms_s": 0.0006}
    dense = PairEstimate(0, 1, 2.000, 100.0, 0.05, "ok", "audio", extra=extra)

    def sparse(off_s: float, status: str = "ok", tried: bool = True) -> PairEstimate:
        ev = {"event_t_s": [4.0, 20.0], "path": "events"} if status == "ok" else {}
        if tried:
            ev["stack_z"] = 6.0  # the sounds' best offset was found (placed or not)
        return PairEstimate(0, 1, off_s, 0.0, 0.5, status, "audio", message="sounds", extra=ev)

    same = _confirm(dense, sparse(2.0015), prm)  # within 5 ms at both sounds (drift adds 2 ms)
    assert same.status == "ok" and same.offset_s == dense.offset_s and "confirm" in same.message
    far = _confirm(dense, sparse(2.010), prm)
    assert far.status == "ambiguous" and "elsewhere" in far.message
    none = _confirm(dense, sparse(2.0, "ambiguous", tried=False), prm)  # no sounds to match
    assert none.status == "ambiguous" and "3 of 32 coarse windows" in none.message
    # not placed by the sounds, but their best offset is the windows' clock: it stands
    near = _confirm(dense, sparse(2.0005, "ambiguous"), prm)
    assert near.status == "ok" and "same clock" in near.message
    assert _confirm(dense, sparse(2.3, "ambiguous"), prm).status == "ambiguous"


def test_room_bench_error_counts_the_path_range_of_every_sound_both_heard():
    """The rooms benchmark's error: 0 inside the range of path differences at every shared
    sound; a weaker sound both heard widens that range (lining up on it is a valid answer)."""
    from bench.multicam_rooms import error_beyond_path_s

    truth = (1.0, 1.0 + 100e-6)  # offset, rate
    t_j = np.array([5.0, 20.0])
    pd = np.array([0.001, 0.002])
    clock = lambda t: truth[0] + truth[1] * t  # noqa: E731
    # on the true clock plus 1.5 ms, no drift error: inside the range
    assert error_beyond_path_s(clock(0) + 0.0015, 100.0, truth, t_j, pd) == pytest.approx(0.0)
    # 3 ms below the clock: 4 ms outside [1, 2] ms; a sound both heard at -3 ms takes it in
    got = clock(0) - 0.003
    assert error_beyond_path_s(got, 100.0, truth, t_j, pd) == pytest.approx(0.004)
    assert error_beyond_path_s(got, 100.0, truth, t_j, pd, [-0.003]) == pytest.approx(0.0)
    # no drift found: the error grows with time away from clock 0 (100 ppm * 20 s = 2 ms)
    assert error_beyond_path_s(clock(0) + 0.0015, 0.0, truth, t_j, pd) == pytest.approx(0.0015)


def _pitch_alias(x: np.ndarray, rate_hz: int) -> float:
    """Largest normalised autocorrelation 1.5-20 ms away (a pitch period or more)."""
    ac = np.correlate(x, x, "full")[len(x) - 1 :]
    return float(ac[int(0.0015 * rate_hz) : int(0.02 * rate_hz)].max() / ac[0])


def test_voiced_shout_is_not_one_exact_pitch_and_leaves_the_other_sounds_alone():
    """The rooms benchmark's version 2 shout: a voice's pitch glides and jitters, so a pitch
    period away matches less well than with the old exact pulse train; choosing it changes no
    other sound, time or place of a scene."""
    old, new = [], []
    for s in range(12):
        old.append(
            _pitch_alias(impulsive_sound("shout", SCENE_HZ, np.random.default_rng(s)), SCENE_HZ)
        )
        x = impulsive_sound("shout", SCENE_HZ, np.random.default_rng(s), "voiced")
        new.append(_pitch_alias(x, SCENE_HZ))
        assert np.max(np.abs(x)) == pytest.approx(1.0) and 0.25 <= len(x) / SCENE_HZ <= 0.6
    assert min(old) > 0.98 and np.median(new) < min(old) - 0.02
    a = random_sources(8, 40.0, SCENE_HZ, BOX_M, 11)
    b = random_sources(8, 40.0, SCENE_HZ, BOX_M, 11, shout="voiced")
    assert "shout" in [s.kind for s in a]
    for sa, sb in zip(a, b, strict=True):
        assert (sa.t_s, sa.pos_m, sa.kind) == (sb.t_s, sb.pos_m, sb.kind)
        if sa.kind != "shout":
            np.testing.assert_array_equal(sa.wave, sb.wave)
    with pytest.raises(ValueError, match="shout must be"):
        impulsive_sound("shout", SCENE_HZ, np.random.default_rng(0), "sung")


def test_room_bench_rise_counts_the_recorders_own_noise_and_the_noise_around_the_sound():
    """Version 2 of the rooms benchmark: a sound's rise is over what the recorder hears around
    it (room noise near the sound plus its self-noise), not over the room's first 10 s."""
    from bench.multicam_rooms import SCENE_RATE_HZ, _early_rise_db, _self_noise_power

    rng = np.random.default_rng(0)
    n = 30 * SCENE_RATE_HZ
    noise = 1e-3 * rng.standard_normal(n)
    noise[15 * SCENE_RATE_HZ :] *= 4.0  # the room gets 12 dB louder after 15 s
    alone = np.zeros(n)
    k0 = 20 * SCENE_RATE_HZ
    alone[k0 : k0 + 320] = 0.05 * rng.standard_normal(320)
    first_10s = _early_rise_db(alone, noise, 20.0)
    around = _early_rise_db(alone, noise, 20.0, 0.0, 1.5)
    assert first_10s - around == pytest.approx(12.0, abs=0.5)
    dev = Device((0.0, 0.0, 0.0), 0.0, 0.0, 8000, 30.0, noise_db=-50.0)
    # white self-noise at 8 kHz: 3650 of 4000 Hz fall in the 150-3800 Hz band
    assert _self_noise_power(dev) == pytest.approx(1e-5 * 3650 / 4000)
    wide = Device((0.0, 0.0, 0.0), 0.0, 0.0, 48000, 30.0, noise_db=-50.0)
    assert _self_noise_power(wide) == pytest.approx(1e-5 * 3650 / 24000)
    noisier = _early_rise_db(alone, noise, 20.0, 10 * _self_noise_power(dev), 1.5)
    assert noisier < around - 3.0


def test_a_sound_with_a_reflection_nearly_as_strong_may_only_join_a_sound_that_is_unique():
    """``companion_unique``: a second sound whose own curve peaks nearly as high elsewhere (a
    reflection) may support the line beside a sound that is unique; alone, or when every sound
    must be unique (1.3), not."""
    from mtbsync_core.multicam.events import EventParams, _support

    sr, w = 8000, 336
    zs = np.zeros((2, 2 * w + 1))
    zs[0, w] = 20.0  # sound 1: a clear peak on the line
    zs[1, w], zs[1, w + 40] = 8.0, 7.0  # sound 2: on the line, a reflection 5 ms later
    ts = np.array([5.0, 15.0])
    kw = dict(ts=ts, w=w, sr=sr, d0=1.0, k_c=w, drift=0.0, t_mid=10.0)
    assert len(_support(zs=zs, prm=EventParams(companion_unique=1.3), **kw)) == 1
    both = _support(zs=zs, prm=EventParams(companion_unique=1.0), **kw)
    assert len(both) == 2 and np.allclose(both[:, 1], 1.0)
    alone = _support(
        zs=zs[1:],
        ts=ts[1:],
        **{k: v for k, v in kw.items() if k != "ts"},
        prm=EventParams(companion_unique=1.0),
    )
    assert len(alone) == 0
