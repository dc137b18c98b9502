"""Synthetic ride telemetry and audio with known jumps, drops, crashes and fast stretches.

Used by the highlights tests and ``bench/bench_highlights.py``. Everything is drawn from one seed:

* accelerometer at ~200 Hz (timing jitter), gyroscope at the same rate, GPS at 18 Hz, audio at
  8 kHz; the camera's orientation wanders (head turns), the rider pumps and pedals (0.5-3 Hz);
* trail chatter: 8-40 Hz vibration whose strength changes from section to section (up to 0.55 g
  per axis on rough ground), sensor noise, sharp rock strikes up to 6 g that are ridden through;
* braking bumps: trains of wheel hits with rebound, |a| briefly under 0.45 g (at most ~0.13 s);
* stops: standing with the bike, never within 4 s of a hit;
* jumps: a pop on the lip (+0.3..0.7 g for 0.2-0.3 s), free fall (the body still moves, 0.05-0.2 g,
  and up to two 10-30 ms knocks of 0.4-0.8 g), a landing of 2-5 g; drops roll off without a pop and lose height in the GPS;
* crashes: an impact of 5-12 g, 1-2 s of tumbling, then the camera lies still in a new
  orientation (or keeps moving a little but turned over);
* audio: wind noise that follows speed, rattles of chatter (+4..10 dB), landing thumps, crash
  noise and shouts (+22..32 dB over the wind).

``quiet=True`` gives riding with chatter, bumps, hits and stops but no event at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..highlights.signals import G_M_S2, RunSignals

ACCL_HZ = 200.0
GPS_HZ = 18.0
AUDIO_HZ = 8000


@dataclass(frozen=True)
class TruthEvent:
    """A known event: ``kind`` from ``start_s`` to ``end_s`` (airtime = end - start for air)."""

    kind: str  # jump | drop | crash | fast
    start_s: float
    end_s: float


@dataclass(frozen=True)
class SyntheticRide:
    """Signals of a ride and what really happened in it."""

    signals: RunSignals
    truth: tuple[TruthEvent, ...]
    loud_s: tuple[float, ...]  # times of sounds meant to be loud (landings, crashes, shouts)


def _band_noise(rng, n: int, lo_hz: float, hi_hz: float, fs: float, dims: int = 3) -> np.ndarray:
    """Unit-variance band-limited noise (FFT mask), ``(n, dims)``."""
    spec = np.fft.rfft(rng.standard_normal((n, dims)), axis=0)
    f = np.fft.rfftfreq(n, 1 / fs)
    spec[(f < lo_hz) | (f > hi_hz)] = 0
    x = np.fft.irfft(spec, n, axis=0)
    return x / max(float(x.std()), 1e-12)


def _place(
    rng, duration_s: float, kinds: list[str], gap_s: float = 18.0
) -> list[tuple[str, float]]:
    """Event kinds at random times at least ``gap_s`` apart, away from the ends."""
    slots = np.arange(8.0, duration_s - 12.0, gap_s)
    if len(slots) < len(kinds):
        raise ValueError(f"{duration_s} s is too short for {len(kinds)} events")
    chosen = np.sort(rng.choice(len(slots), len(kinds), replace=False))
    order = rng.permutation(kinds)
    return [
        (str(k), float(slots[c] + rng.uniform(0, gap_s - 10)))
        for k, c in zip(order, chosen, strict=True)
    ]


def _smooth_step(t: np.ndarray, t0: float, width_s: float) -> np.ndarray:
    return 0.5 * (1 + np.tanh((t - t0) / (width_s / 4)))


class _Ride:
    """Builds the signals in place; one method per ingredient."""

    def __init__(self, duration_s: float, seed: int, frame_t_s: np.ndarray | None) -> None:
        self.rng = np.random.default_rng(seed)
        self.dur = duration_s
        n = int(duration_s * ACCL_HZ)
        self.t = np.arange(n) / ACCL_HZ + self.rng.normal(0, 0.0004, n)
        self.t.sort()
        rng = self.rng
        # orientation: gravity direction wandering around "down" in camera axes (~+-25 deg)
        tilt = _band_noise(rng, n, 0.02, 0.4, ACCL_HZ) * 0.25
        down = np.array([0.0, 0.0, 1.0]) + tilt * np.array([1, 1, 0])
        self.down = down / np.linalg.norm(down, axis=1, keepdims=True)
        self.acc = self.down * 1.0  # in g
        self.acc += _band_noise(rng, n, 0.5, 3.0, ACCL_HZ) * 0.12  # pumping, pedalling
        rough = np.repeat(rng.uniform(0.08, 0.55, int(duration_s / 6) + 2), int(6 * ACCL_HZ))[:n]
        rough = np.convolve(rough, np.ones(200) / 200, mode="same")
        self.acc += _band_noise(rng, n, 8.0, 40.0, ACCL_HZ) * rough[:, None] / np.sqrt(3)
        self.acc += rng.normal(0, 0.02, (n, 3))
        self.gyro = _band_noise(rng, n, 0.1, 3.0, ACCL_HZ) * np.radians(35)
        self.gyro += _band_noise(rng, n, 8.0, 40.0, ACCL_HZ) * np.radians(12) * rough[:, None]
        self.speed = 3.0 + 2.5 * (1 + np.sin(np.arange(n) / ACCL_HZ / 23.0 + rng.uniform(0, 6))) / 2
        self.ele = 500.0 - np.cumsum(self.speed) / ACCL_HZ * 0.08
        self.frame_t = frame_t_s
        self.truth: list[TruthEvent] = []
        self.sounds: list[tuple[float, float, float, str]] = []  # (t, dur, dB over wind, kind)
        self.busy: list[tuple[float, float]] = []

    def idx(self, t0: float, t1: float) -> slice:
        return slice(int(np.searchsorted(self.t, t0)), int(np.searchsorted(self.t, t1)))

    def free(self, t0: float, t1: float) -> bool:
        return all(t1 < a or t0 > b for a, b in self.busy)

    def hit(self, t0: float, peak_g: float, dur_s: float = 0.08) -> None:
        """A wheel hit: a half-sine compression of ``peak_g`` along gravity, then a rebound of 30 %."""
        s = self.idx(t0, t0 + dur_s * 2.5)
        tt = self.t[s] - t0
        pulse = np.where(
            tt < dur_s,
            peak_g * np.sin(np.pi * np.minimum(tt / dur_s, 1.0)),  # compression
            -0.3 * peak_g * np.sin(np.pi * (tt - dur_s) / (1.5 * dur_s)),  # rebound
        )
        self.acc[s] += self.down[s] * pulse[:, None]

    def braking_bumps(self, t0: float) -> None:
        n = int(self.rng.integers(5, 12))
        for k in range(n):
            tk = t0 + k * self.rng.uniform(0.3, 0.5)
            # compression then rebound: |a| dips well under 0.45 g for 30-110 ms
            self.hit(tk, self.rng.uniform(0.8, 1.6), 0.07)
            s = self.idx(tk + 0.09, tk + 0.09 + self.rng.uniform(0.03, 0.08))
            self.acc[s] = self.acc[s] * self.rng.uniform(0.1, 0.35)
            self.sounds.append((tk, 0.03, self.rng.uniform(4, 10), "rattle"))
        self.speed[self.idx(t0, t0 + n * 0.4)] *= 0.8
        self.busy.append((t0 - 1, t0 + n * 0.5 + 1))

    def stop(self, t0: float, dur_s: float) -> None:
        s = self.idx(t0, t0 + dur_s)
        self.acc[s] = self.down[s] + self.rng.normal(0, 0.04, (s.stop - s.start, 3))
        self.gyro[s] = self.rng.normal(0, np.radians(8), (s.stop - s.start, 3))
        self.speed[s] = 0.0
        self.busy.append((t0 - 4, t0 + dur_s + 1))

    def air(self, t0: float, airtime: float, pop: bool) -> None:
        rng = self.rng
        if pop:
            s = self.idx(t0 - rng.uniform(0.2, 0.3), t0)
            self.acc[s] += self.down[s] * rng.uniform(0.3, 0.7)
        s = self.idx(t0 - 0.03, t0 + airtime + 0.03)
        tt = self.t[s]
        w = _smooth_step(tt, t0, 0.02) * (1 - _smooth_step(tt, t0 + airtime, 0.01))
        body = _band_noise(rng, s.stop - s.start, 0.5, 4.0, ACCL_HZ) * rng.uniform(0.04, 0.12)
        body += rng.normal(0, 0.03, body.shape)
        self.acc[s] = self.acc[s] * (1 - w[:, None]) + body * w[:, None]
        for tk in rng.uniform(t0 + 0.05, t0 + airtime - 0.08, int(rng.integers(0, 3))):
            k = self.idx(tk, tk + rng.uniform(0.01, 0.03))  # a knee or pedal knock in the air
            self.acc[k] += self.down[k] * rng.uniform(0.4, 0.8)
        landing = rng.uniform(2.0, 5.0)
        self.hit(t0 + airtime, landing, 0.06)
        self.sounds.append((t0 + airtime, 0.08, rng.uniform(22, 30), "thump"))
        if rng.random() < 0.4:
            self.sounds.append(
                (t0 + airtime + 0.2, rng.uniform(0.5, 1.2), rng.uniform(22, 28), "shout")
            )
        if not pop:
            fall = 0.5 * 9.81 * airtime**2 + rng.uniform(0.5, 1.0)
            self.ele[self.idx(t0 + airtime, self.dur)] -= fall
        self.truth.append(TruthEvent("jump" if pop else "drop", t0, t0 + airtime))
        self.busy.append((t0 - 2, t0 + airtime + 2))

    def crash(self, t0: float) -> None:
        rng = self.rng
        self.hit(t0, rng.uniform(5.0, 12.0), 0.05)
        tumble = rng.uniform(1.0, 2.0)
        s = self.idx(t0 + 0.15, t0 + tumble)
        n = s.stop - s.start
        self.acc[s] += _band_noise(rng, n, 1.0, 15.0, ACCL_HZ) * rng.uniform(1.0, 2.5)
        self.gyro[s] += _band_noise(rng, n, 0.5, 8.0, ACCL_HZ) * np.radians(rng.uniform(300, 800))
        lie = rng.uniform(6.0, 15.0)
        s = self.idx(t0 + tumble, t0 + tumble + lie)
        n = s.stop - s.start
        ang = np.radians(rng.uniform(60, 150))
        new_down = np.array([np.sin(ang), 0.0, np.cos(ang)])
        moving = rng.random() < 0.3
        noise = 0.2 if moving else 0.02
        self.acc[s] = new_down + rng.normal(0, noise, (n, 3))
        self.gyro[s] = rng.normal(0, np.radians(40 if moving else 2), (n, 3))
        self.speed[self.idx(t0, t0 + tumble + lie)] = 0.0
        self.sounds.append((t0, 0.15, rng.uniform(26, 32), "crash"))
        self.sounds.append((t0 + tumble, rng.uniform(0.6, 1.5), rng.uniform(22, 28), "shout"))
        self.truth.append(TruthEvent("crash", t0, t0 + tumble))
        self.busy.append((t0 - 2, t0 + tumble + lie + 4))

    def fast(self, t0: float, dur_s: float) -> None:
        s = self.idx(t0 - 2, t0 + dur_s + 2)
        tt = self.t[s]
        top = self.rng.uniform(12.0, 16.0)
        ramp = _smooth_step(tt, t0, 2.0) * (1 - _smooth_step(tt, t0 + dur_s, 2.0))
        self.speed[s] = self.speed[s] * (1 - ramp) + top * ramp
        self.truth.append(TruthEvent("fast", t0, t0 + dur_s))
        self.busy.append((t0 - 3, t0 + dur_s + 3))

    def hazards(self, quiet: bool) -> None:
        """Bumps, stops and rock strikes in the time the events left free."""
        rng = self.rng
        for t0 in np.arange(5.0, self.dur - 8.0, rng.uniform(12, 20)):
            t0 = float(t0 + rng.uniform(0, 4))
            if self.free(t0, t0 + 6):
                self.braking_bumps(t0)
        for t0 in np.arange(20.0, self.dur - 20.0, 70.0):
            t0 = float(t0 + rng.uniform(0, 30))
            if self.free(t0 - 4, t0 + 12):
                self.stop(t0, rng.uniform(4, 10))
        for t0 in rng.uniform(2, self.dur - 3, int(self.dur / 8)):
            if self.free(t0 - 4, t0 + 4):
                self.hit(float(t0), rng.uniform(2.5, 6.0), 0.04)
                self.sounds.append((float(t0), 0.04, rng.uniform(6, 12), "rattle"))
                self.busy.append((float(t0) - 4.5, float(t0) + 4.5))

    def audio(self) -> np.ndarray:
        rng = self.rng
        n = int(self.dur * AUDIO_HZ)
        ta = np.arange(n) / AUDIO_HZ
        wind = _band_noise(rng, n, 20, 900, AUDIO_HZ, 1)[:, 0]
        speed = np.interp(ta, self.t, self.speed)
        gain = (
            0.01
            * (0.4 + speed / 8)
            * 10 ** (_band_noise(rng, n // 80, 0.01, 0.3, 100, 1)[:, 0] * 3 / 20).repeat(80)[:n]
        )
        x = wind * gain
        for t0, d, db, kind in self.sounds:
            s = slice(int(t0 * AUDIO_HZ), min(n, int((t0 + d) * AUDIO_HZ)))
            m = s.stop - s.start
            if m <= 0:
                continue
            tt = np.arange(m) / AUDIO_HZ
            if kind == "shout":
                f0 = rng.uniform(220, 420) * (1 + 0.1 * np.sin(2 * np.pi * 3 * tt))
                ph = 2 * np.pi * np.cumsum(f0) / AUDIO_HZ
                y = sum(np.sin(k * ph) / k for k in range(1, 6))
                y *= np.minimum(1, np.minimum(tt, tt[-1] - tt) / 0.05)
            elif kind == "thump":
                y = np.sin(2 * np.pi * rng.uniform(60, 120) * tt) * np.exp(-tt / (d / 3))
                y += rng.standard_normal(m) * np.exp(-tt / 0.01)
            else:
                y = rng.standard_normal(m) * np.exp(-tt / max(d / 2, 0.005))
            y *= (
                np.sqrt(np.mean(x[s] ** 2) + 1e-12)
                * 10 ** (db / 20)
                / max(float(np.sqrt(np.mean(y**2))), 1e-9)
            )
            x[s] += y
        return np.clip(x, -1, 1).astype(np.float32)

    def signals(self, path: str) -> RunSignals:
        rng = self.rng
        frame_t = self.frame_t if self.frame_t is not None else np.arange(0, self.dur, 1001 / 30000)
        tg = np.arange(0, self.dur, 1 / GPS_HZ)
        speed = np.interp(tg, self.t, self.speed) + rng.normal(0, 0.2, len(tg))
        ele = (
            np.interp(tg, self.t, self.ele)
            + np.cumsum(rng.normal(0, 0.02, len(tg)))
            + rng.normal(0, 0.3, len(tg))
        )
        return RunSignals(
            path=path,
            frame_t_s=np.asarray(frame_t, np.float64),
            t_accl_s=self.t,
            accl_m_s2=self.acc * G_M_S2,
            t_gyro_s=self.t,
            gyro_rad_s=self.gyro,
            t_gps_s=tg,
            speed_m_s=np.maximum(speed, 0),
            ele_m=ele,
            audio=self.audio(),
            audio_rate_hz=AUDIO_HZ,
        )


def synth_ride(
    duration_s: float = 300.0,
    seed: int = 0,
    *,
    jumps: int = 6,
    drops: int = 3,
    crashes: int = 2,
    fast: int = 2,
    quiet: bool = False,
    frame_t_s: np.ndarray | None = None,
    path: str = "synthetic.mp4",
) -> SyntheticRide:
    """A ride of ``duration_s`` with the given numbers of events (none when ``quiet``).

    Jump airtimes are drawn in 0.2-1.5 s, drops in 0.3-1.2 s. ``frame_t_s`` puts the signals
    under a real video's frame clock (default: 29.97 fps from 0).
    """
    ride = _Ride(duration_s, seed, frame_t_s)
    rng = ride.rng
    kinds = (
        [] if quiet else ["jump"] * jumps + ["drop"] * drops + ["crash"] * crashes + ["fast"] * fast
    )
    for kind, t0 in _place(rng, duration_s, kinds) if kinds else []:
        if kind == "jump":
            ride.air(t0, float(rng.uniform(0.2, 1.5)), pop=True)
        elif kind == "drop":
            ride.air(t0, float(rng.uniform(0.3, 1.2)), pop=False)
        elif kind == "crash":
            ride.crash(t0)
        else:
            ride.fast(t0, float(rng.uniform(5, 9)))
    ride.hazards(quiet)
    loud = tuple(sorted(t for t, _, _, k in ride.sounds if k != "rattle"))
    truth = tuple(sorted(ride.truth, key=lambda e: e.start_s))
    return SyntheticRide(ride.signals(path), truth, loud)
