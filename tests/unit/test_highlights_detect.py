"""Highlight detectors on signals with a known answer: hand-made traces and synthetic rides."""

from __future__ import annotations

import numpy as np
import pytest

from mtbsync_core.highlights import (
    HighlightParams,
    RunSignals,
    detect_events,
    frame_timeline,
    parse_kinds,
)
from mtbsync_core.highlights.detect import detect_fast, detect_loud
from mtbsync_core.highlights.motion import detect_air, detect_crashes
from mtbsync_core.highlights.signals import G_M_S2
from mtbsync_core.testing.highlights_synth import synth_ride

FS = 200.0


def _imu(acc_g: np.ndarray, gyro_dps: np.ndarray | None = None, **kw) -> RunSignals:
    n = len(acc_g)
    t = np.arange(n) / FS
    gyro = np.zeros((n, 3)) if gyro_dps is None else np.radians(gyro_dps)
    return RunSignals("x.mp4", np.arange(0, n / FS, 1 / 30), t, acc_g * G_M_S2, t, gyro, **kw)


def _riding(seconds: float, seed: int = 0, vib_g: float = 0.25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * FS)
    return np.array([0.0, 0.0, 1.0]) + rng.normal(0, vib_g / np.sqrt(3), (n, 3))


def _jump(acc: np.ndarray, t0: float, airtime: float, landing_g: float = 3.0) -> None:
    s, e = int(t0 * FS), int((t0 + airtime) * FS)
    acc[s - 50 : s] += [0, 0, 0.5]  # the pop on the lip
    acc[s:e] = np.random.default_rng(1).normal(0, 0.05, (e - s, 3))
    acc[e : e + 10] = [0, 0, landing_g]


def test_jump_airtime_and_kind():
    acc = _riding(20)
    _jump(acc, 8.0, 0.6)
    ev = detect_air(_imu(acc), HighlightParams())
    assert len(ev) == 1
    assert ev[0].kind == "jump"
    assert abs(ev[0].start_s - 8.0) < 0.015
    assert abs(ev[0].details["airtime_ms"] - 600) < 15


def test_no_landing_or_short_dip_is_no_jump():
    acc = _riding(20)
    acc[1000:1120] = 0.02  # 0.6 s of free fall, but nothing lands (camera tossed onto grass)
    acc[3000:3020] = 0.02  # 0.1 s dip with a landing: a bump, not air
    acc[3020:3030] = [0, 0, 3.0]
    assert detect_air(_imu(acc), HighlightParams()) == []


def test_drop_without_pop_and_height_loss():
    acc = _riding(20)
    s, e = int(8 * FS), int(8.8 * FS)
    acc[s:e] = 0.03
    acc[e : e + 10] = [0, 0, 3.5]
    tg = np.arange(0, 20, 1 / 18)
    ele = np.where(tg < 8.8, 100.0, 96.0)
    sig = _imu(acc, t_gps_s=tg, speed_m_s=np.full(len(tg), 5.0), ele_m=ele)
    (ev,) = detect_air(sig, HighlightParams())
    assert ev.kind == "drop"
    assert ev.details["height_loss_m"] == pytest.approx(4.0, abs=0.1)


def test_crash_needs_stillness_or_a_turn():
    acc = _riding(30)
    acc[2000:2004] = [0, 0, 8.0]  # a hard hit, ridden through: no crash
    assert detect_crashes(_imu(acc), HighlightParams()) == []
    acc[4000:4004] = [0, 0, 9.0]  # impact, then lying on the side, still
    acc[4100:] = [1.0, 0, 0.0] + np.random.default_rng(2).normal(0, 0.01, (len(acc) - 4100, 3))
    ev = detect_crashes(_imu(acc), HighlightParams())
    assert [e.kind for e in ev] == ["crash"]
    assert abs(ev[0].start_s - 20.0) < 0.02
    assert ev[0].details["turn_deg"] > 80


def test_fast_needs_absolute_and_relative_speed():
    tg = np.arange(0, 120, 1 / 18)
    v = np.where((tg > 50) & (tg < 58), 14.0, 6.0)
    sig = RunSignals("x.mp4", np.arange(0, 120, 1 / 30), t_gps_s=tg, speed_m_s=v)
    (ev,) = detect_fast(sig, HighlightParams())
    assert 49.5 < ev.start_s < 51 and 57 < ev.end_s < 58.5
    slow = RunSignals("x.mp4", np.arange(0, 120, 1 / 30), t_gps_s=tg, speed_m_s=v * 0.6)
    assert detect_fast(slow, HighlightParams()) == []  # its own top speed, but only 30 km/h


def test_loud_shout_over_wind_not_rattles():
    rng = np.random.default_rng(3)
    rate = 8000
    x = rng.normal(0, 0.01, 60 * rate)
    for t in np.arange(2, 58, 1.3):  # chatter rattles, +8 dB
        k = int(t * rate)
        x[k : k + 200] += rng.normal(0, 0.025, 200)
    k = int(30 * rate)
    x[k : k + 4000] += 0.4 * np.sin(np.arange(4000) * 2 * np.pi * 300 / rate)  # a shout, +29 dB
    sig = RunSignals(
        "x.mp4", np.arange(0, 60, 1 / 30), audio=x.astype(np.float32), audio_rate_hz=rate
    )
    (ev,) = detect_loud(sig, HighlightParams())
    assert abs(ev.start_s - 30.0) < 0.03 and abs(ev.end_s - 30.5) < 0.05


def test_synthetic_ride_found_and_quiet_ride_silent():
    ride = synth_ride(200, seed=11, jumps=4, drops=2, crashes=1, fast=1)
    ev = detect_events(ride.signals, kinds="jump,crash,fast,loud")
    air = [e for e in ev if e.kind in ("jump", "drop")]
    truth_air = [t for t in ride.truth if t.kind in ("jump", "drop")]
    assert len(air) == len(truth_air)
    for t, e in zip(truth_air, air, strict=True):
        assert abs((e.end_s - e.start_s) - (t.end_s - t.start_s)) < 0.03
    crashes = [e for e in ev if e.kind == "crash"]
    (tc,) = [t for t in ride.truth if t.kind == "crash"]
    assert len(crashes) == 1 and abs(crashes[0].start_s - tc.start_s) < 0.1
    quiet = synth_ride(200, seed=12, quiet=True)
    assert detect_events(quiet.signals, kinds="jump,crash,fast,loud") == []


def test_frame_timeline_resamples_onto_frames():
    acc = _riding(10, vib_g=0.0)
    acc[600:] *= 2.0  # 2 g from 3 s
    tg = np.arange(0, 10, 0.1)
    sig = _imu(acc, t_gps_s=tg, speed_m_s=tg * 1.5)
    tl = frame_timeline(sig)
    t = tl["t_s"]
    assert len(tl["accel_g"]) == len(t)
    assert np.allclose(tl["accel_g"][t < 2.9], 1.0) and np.allclose(
        tl["accel_g"][(t > 3.05) & (t < 9.9)], 2.0
    )
    inside = t < 9.9
    assert np.allclose(tl["speed_m_s"][inside], t[inside] * 1.5)
    assert np.isnan(tl["audio_db"]).all()


def test_parse_kinds():
    assert parse_kinds("jump,crash") == ("jump", "crash", "drop")
    with pytest.raises(ValueError, match="Unknown highlight kind"):
        parse_kinds("jump,backflip")
