"""Sparse sharp sounds heard by separate devices, with a known answer (tests and benchmark).

A scene is a few impulsive sounds (clap, beep, shout, dropped bike, knock) at known times and
positions over diffuse background noise. Each device hears them through its own room response
(a direct path delayed by distance plus a decaying reflection tail; the benchmark uses
pyroomacoustics' image-source rooms instead), adds its own self-noise, and records on its own
clock (offset, drift) at its own sample rate. The truth of a pair is the clock offset; the
acoustic path difference of each shared sound is returned beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

SPEED_OF_SOUND_M_S = 343.0
KINDS = ("clap", "beep", "shout", "drop", "knock")


def _res(x: np.ndarray, f_hz: float, bw_hz: float, rate_hz: int) -> np.ndarray:
    r = math.exp(-math.pi * bw_hz / rate_hz)
    th = 2 * math.pi * f_hz / rate_hz
    return lfilter([1 - r], [1, -2 * r * math.cos(th), r * r], x)


def impulsive_sound(
    kind: str, rate_hz: int, rng: np.random.Generator, shout: str = "periodic"
) -> np.ndarray:
    """One short sound of ``kind`` (unit peak), as a source emits it.

    ``shout``: ``"periodic"`` (the first benchmark's shout: a pulse train of one exact pitch under
    a Hann window) or ``"voiced"`` (see :func:`voiced_shout`). Both draw the same two numbers
    from ``rng``, so the other sounds of a scene stay the same whichever is chosen.
    """
    if kind == "shout" and shout == "voiced":
        n_s = float(rng.uniform(0.25, 0.6))
        x = voiced_shout(n_s, rate_hz, np.random.default_rng(int(rng.uniform(0, 2**31))))
        return x / (np.max(np.abs(x)) + 1e-12)
    if kind == "shout" and shout != "periodic":
        raise ValueError(f"shout must be 'periodic' or 'voiced', not {shout!r}")
    if kind == "clap":
        n = int(0.04 * rate_hz)
        x = rng.standard_normal(n) * np.exp(-np.arange(n) / (0.006 * rate_hz))
        x = _res(x, rng.uniform(900, 2200), 900, rate_hz)
    elif kind == "beep":
        n = int(rng.uniform(0.1, 0.25) * rate_hz)
        t = np.arange(n) / rate_hz
        f = rng.uniform(800, min(3000, 0.4 * rate_hz))
        x = np.sin(2 * np.pi * f * t) * np.minimum(1, np.minimum(t, t[-1] - t) / 0.004)
    elif kind == "shout":
        n = int(rng.uniform(0.2, 0.4) * rate_hz)
        pulses = np.zeros(n)
        pulses[:: max(1, int(rate_hz / rng.uniform(120, 260)))] = 1.0
        x = sum(_res(pulses, f, 90 + f / 12, rate_hz) for f in (700, 1200, 2600))
        x = x * np.hanning(n)
    elif kind == "drop":
        n = int(0.35 * rate_hz)
        x = np.zeros(n)
        for k, t_b in enumerate((0.0, rng.uniform(0.08, 0.14), rng.uniform(0.2, 0.28))):
            m = n - int(t_b * rate_hz)
            hit = rng.standard_normal(m) * np.exp(-np.arange(m) / (0.02 * rate_hz)) / (k + 1)
            x[n - m :] += sum(_res(hit, f, f / 20, rate_hz) for f in rng.uniform(200, 3000, 3))
    elif kind == "knock":
        n = int(0.08 * rate_hz)
        x = _res(
            rng.standard_normal(n) * np.exp(-np.arange(n) / (0.01 * rate_hz)), 400, 150, rate_hz
        )
    else:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    return x / (np.max(np.abs(x)) + 1e-12)


def voiced_shout(length_s: float, rate_hz: int, rng: np.random.Generator) -> np.ndarray:
    """A shouted vowel (unit peak): glottal pulses through three formants, as a voice makes it.

    Unlike an exact pulse train, a voice's pitch is not constant: a shouted word glides (here
    from 150-400 Hz, raised as in shouting, by x0.75-1.1 over the word), each period jitters
    by about 1 % and each pulse's strength by about 10 % (normal voices: local jitter 0.2-1 %,
    shimmer 0.3-1 dB), the source falls off with frequency (-6 dB/octave above the pitch), and
    the word starts within 20-60 ms and fades over its last 80-150 ms.
    """
    n = int(length_s * rate_hz)
    f0 = rng.uniform(150, 400)
    glide = rng.uniform(0.75, 1.1)
    pulses = np.zeros(n)
    t = 0.0
    while t < n:
        pulses[int(t)] = 1.0 + 0.1 * rng.standard_normal()
        f = f0 * glide ** (t / n)
        t += rate_hz / f * (1 + 0.01 * rng.standard_normal())
    pulses = lfilter([1.0], [1.0, -0.9], pulses)  # a glottal source's spectral tilt
    formants = (rng.uniform(650, 900), rng.uniform(1100, 1600), rng.uniform(2400, 2900))
    x = sum(_res(pulses, f, 90 + f / 12, rate_hz) for f in formants)
    k = np.arange(n) / rate_hz
    attack, release = rng.uniform(0.02, 0.06), rng.uniform(0.08, 0.15)
    env = np.clip(k / attack, 0, 1) * np.clip((length_s - k) / release, 0, 1)
    return x * np.sin(0.5 * np.pi * env) ** 2


@dataclass(frozen=True)
class Source:
    """One sound at scene time ``t_s`` from position ``pos_m`` (x, y, z metres)."""

    t_s: float
    pos_m: tuple[float, float, float]
    wave: np.ndarray  # at the scene rate
    kind: str = ""


@dataclass(frozen=True)
class Device:
    """A recorder at ``pos_m`` with its own clock: scene = offset_s + (1 + drift_ppm e-6) * own."""

    pos_m: tuple[float, float, float]
    offset_s: float
    drift_ppm: float
    rate_hz: int
    duration_s: float
    noise_db: float = -50.0  # self-noise level relative to a unit-peak sound at 1 m
    seed: int = 0


def random_sources(
    n: int,
    duration_s: float,
    rate_hz: int,
    box_m: tuple[float, float, float],
    seed: int,
    shout: str = "periodic",
) -> list[Source]:
    """``n`` sounds of random kinds, times (at least 0.6 s apart) and positions in a box
    (``shout``: see :func:`impulsive_sound`)."""
    rng = np.random.default_rng(seed)
    times: list[float] = []
    while len(times) < n:
        t = float(rng.uniform(0.5, duration_s - 0.6))
        if all(abs(t - q) > 0.6 for q in times):
            times.append(t)
    out = []
    for t in sorted(times):
        pos = tuple(float(v) for v in rng.uniform(0.3, np.asarray(box_m) - 0.3))
        kind = KINDS[int(rng.integers(len(KINDS)))]
        wave = impulsive_sound(kind, rate_hz, rng, shout)
        out.append(Source(t, pos, wave * rng.uniform(0.4, 1.0), kind))  # type: ignore[arg-type]
    return out


def path_delay_s(src: Source, dev: Device) -> float:
    """Seconds from the source to the device."""
    return float(np.linalg.norm(np.subtract(src.pos_m, dev.pos_m))) / SPEED_OF_SOUND_M_S


def simple_room_ir(dist_m: float, rate_hz: int, rt60_s: float, seed: int) -> np.ndarray:
    """Direct path (1/r, delayed) plus a decaying diffuse reflection tail starting 3 ms later."""
    rng = np.random.default_rng(seed)
    d = dist_m / SPEED_OF_SOUND_M_S * rate_hz
    n = int(d + rt60_s * rate_hz) + 4
    h = np.zeros(n)
    k = int(d)
    h[k], h[k + 1] = (1 - (d - k)) / max(dist_m, 0.3), (d - k) / max(dist_m, 0.3)
    k0 = k + int(0.003 * rate_hz)
    tail = rng.standard_normal(n - k0) * np.exp(-6.9 * np.arange(n - k0) / (rt60_s * rate_hz))
    h[k0:] += 0.4 / max(dist_m, 0.3) * tail * math.sqrt(1 / max(rt60_s * rate_hz, 1) * 20)
    return h


def diffuse_noise(n: int, rate_hz: int, seed: int) -> np.ndarray:
    """Room / outdoor background: pinkish noise with a slow level wander (unit RMS)."""
    rng = np.random.default_rng(seed)
    x = lfilter([1.0], [1.0, -0.97], rng.standard_normal(n))
    x += 0.3 * lfilter([1.0], [1.0, -0.5], rng.standard_normal(n))
    env = np.interp(np.arange(n), np.linspace(0, n, 12), 1 + 0.3 * rng.standard_normal(12))
    x = x * np.clip(env, 0.3, None)
    return x / (np.std(x) + 1e-12)


def record(heard: np.ndarray, scene_rate_hz: int, dev: Device) -> np.ndarray:
    """What ``dev`` writes: the scene-rate signal ``heard`` sampled on the device's own clock."""
    n = int(dev.duration_s * dev.rate_hz)
    own_t = np.arange(n) / dev.rate_hz
    scene_t = dev.offset_s + (1 + dev.drift_ppm * 1e-6) * own_t
    # band-limit before sampling below the scene rate (an anti-alias filter of the device)
    if dev.rate_hz < scene_rate_hz:
        from scipy.signal import butter, sosfiltfilt

        sos = butter(8, 0.45 * dev.rate_hz, fs=scene_rate_hz, output="sos")
        heard = sosfiltfilt(sos, heard)
    out = np.interp(scene_t * scene_rate_hz, np.arange(len(heard)), heard, left=0.0, right=0.0)
    rng = np.random.default_rng(dev.seed)
    return (out + 10 ** (dev.noise_db / 20) * rng.standard_normal(n)).astype(np.float32)


def simple_scene(
    sources: list[Source],
    devices: list[Device],
    scene_rate_hz: int,
    duration_s: float,
    ambient_db: float = -32.0,
    rt60_s: float = 0.3,
    seed: int = 0,
) -> list[np.ndarray]:
    """Each device's recording of ``sources`` in a simple room (numpy reverb), own clock and rate.

    The ambient background is diffuse: each device hears its own realisation of it.
    """
    n = int(duration_s * scene_rate_hz)
    outs = []
    for d_idx, dev in enumerate(devices):
        heard = np.zeros(n)
        for s_idx, src in enumerate(sources):
            dist = float(np.linalg.norm(np.subtract(src.pos_m, dev.pos_m)))
            ir = simple_room_ir(dist, scene_rate_hz, rt60_s, seed * 1000 + 31 * d_idx + s_idx)
            y = np.convolve(src.wave, ir)
            k0 = int(src.t_s * scene_rate_hz)
            m = min(len(y), n - k0)
            if m > 0:
                heard[k0 : k0 + m] += y[:m]
        heard += 10 ** (ambient_db / 20) * diffuse_noise(n, scene_rate_hz, seed * 7 + d_idx + 1)
        outs.append(record(heard, scene_rate_hz, dev))
    return outs
