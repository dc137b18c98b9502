"""Room and outdoor scenes for the sparse-sound audio benchmark (pyroomacoustics image sources).

Each scene: a shoebox room (or a large, nearly absorbing "outdoor" box), a few impulsive sounds at
random places and times over diffuse background noise, and several recorders at known positions.
Every recorder has its own clock (offset, +-200 ppm drift), its own sample rate (8-48 kHz) and is
AAC-encoded with PyAV, then decoded back the way ``sync_cameras`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mtbsync_core.multicam.synth import write_audio
from mtbsync_core.multicam.synth_room import Device, diffuse_noise, random_sources, record

SCENE_RATE_HZ = 16000
RATES_HZ = (8000, 16000, 22050, 44100, 48000)


@dataclass(frozen=True)
class RoomScene:
    """Files of one scene and the truth: device clocks and per-sound arrival times."""

    paths: tuple[Path, ...]
    devices: tuple[Device, ...]
    arrival_s: np.ndarray  # (device, sound) scene time the sound reaches the device
    emit_s: np.ndarray  # (sound,) scene time each sound starts
    outdoor: bool


def _room(outdoor: bool, rng: np.random.Generator):
    import pyroomacoustics as pra

    if outdoor:
        dims = [40.0, 40.0, 20.0]
        return pra.ShoeBox(dims, fs=SCENE_RATE_HZ, materials=pra.Material(0.95), max_order=1), dims
    dims = list(rng.uniform([4, 3.5, 2.5], [12, 9, 4]))
    rt60 = rng.uniform(0.25, 0.9)
    e_abs, max_order = pra.inverse_sabine(rt60, dims)
    room = pra.ShoeBox(
        dims, fs=SCENE_RATE_HZ, materials=pra.Material(e_abs), max_order=min(max_order, 12)
    )
    return room, dims


def make_scene(folder: Path, seed: int, n_devices: int = 3, duration_s: float = 33.0) -> RoomScene:
    """Write ``n_devices`` recordings of one scene into ``folder`` (cached by name)."""
    import pyroomacoustics as pra

    rng = np.random.default_rng(seed)
    outdoor = seed % 3 == 2
    room, dims = _room(outdoor, rng)
    centre = np.asarray(dims) / 2 if not outdoor else np.array([20.0, 20.0, 1.5])
    lo = np.maximum(centre - [3, 3, 1], 0.4)
    hi = np.minimum(centre + [3, 3, 1], np.asarray(dims) - 0.4)
    n_src = int(rng.integers(2, 7))
    src = random_sources(n_src, duration_s + 6, SCENE_RATE_HZ, tuple(hi - lo), seed + 7)  # type: ignore[arg-type]
    for s in src:
        room.add_source(list(np.asarray(s.pos_m) + lo), signal=s.wave, delay=s.t_s)
    mics = rng.uniform(centre - [1.5, 1.5, 0.5], centre + [1.5, 1.5, 0.5], (n_devices, 3))
    room.add_microphone_array(pra.MicrophoneArray(mics.T, SCENE_RATE_HZ))
    room.simulate()
    sig = room.mic_array.signals
    n = int((duration_s + 6) * SCENE_RATE_HZ)
    sig = np.pad(sig, ((0, 0), (0, max(0, n - sig.shape[1]))))[:, :n]
    peak = float(np.abs(sig).max()) + 1e-12
    amb_db = rng.uniform(-46, -34)
    devices, paths = [], []
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n_devices):
        heard = sig[k] / peak * 0.7
        heard = heard + 10 ** (amb_db / 20) * diffuse_noise(
            n, SCENE_RATE_HZ, 100_000 + seed * 16 + k
        )
        dev = Device(
            tuple(float(v) for v in mics[k]),  # type: ignore[arg-type]
            float(rng.uniform(0.2, 4.0)),
            float(rng.uniform(-200, 200)),
            int(RATES_HZ[int(rng.integers(len(RATES_HZ)))]),
            duration_s - float(rng.uniform(0, 2)),
            noise_db=float(rng.uniform(-60, -48)),
            seed=200_000 + seed * 16 + k,
        )
        p = folder / f"s{seed:03d}_d{k}.m4a"
        if not p.exists():
            write_audio(p, record(heard, SCENE_RATE_HZ, dev), dev.rate_hz)
        devices.append(dev)
        paths.append(p)
    delays = np.array(
        [[np.linalg.norm(np.asarray(s.pos_m) + lo - m) / 343.0 for s in src] for m in mics]
    )
    emit = np.array([s.t_s for s in src])
    return RoomScene(tuple(paths), tuple(devices), emit[None, :] + delays, emit, outdoor)
