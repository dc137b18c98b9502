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
    kinds: tuple[str, ...] = ()
    audible_db: np.ndarray | None = None  # (device, sound) early-sound rise over the background


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


def make_scene(
    folder: Path, seed: int, n_devices: int = 3, duration_s: float = 33.0, version: int = 2
) -> RoomScene:
    """Write ``n_devices`` recordings of one scene into ``folder`` (cached by name).

    ``version`` 1 is the first benchmark (a shout of one exact pitch; a sound's rise measured
    over the first 10 s of the room's noise alone). Version 2 (files in ``folder`` + ``_v2``)
    shouts with a voice's pitch glide and jitter (:func:`.synth_room.voiced_shout`) and measures
    a sound's rise over what each recorder hears around it: the room's noise in the 3 s around
    the sound plus the recorder's own self-noise. Every other sound, place and clock is the same.
    """
    import pyroomacoustics as pra

    if version not in (1, 2):
        raise ValueError(f"version must be 1 or 2, not {version}")
    if version == 2:
        folder = folder.with_name(folder.name + "_v2")
    rng = np.random.default_rng(seed)
    outdoor = seed % 3 == 2
    room, dims = _room(outdoor, rng)
    centre = np.asarray(dims) / 2 if not outdoor else np.array([20.0, 20.0, 1.5])
    lo = np.maximum(centre - [3, 3, 1], 0.4)
    hi = np.minimum(centre + [3, 3, 1], np.asarray(dims) - 0.4)
    n_src = int(rng.integers(2, 7))
    shout = "periodic" if version == 1 else "voiced"
    src = random_sources(n_src, duration_s + 6, SCENE_RATE_HZ, tuple(hi - lo), seed + 7, shout)  # type: ignore[arg-type]
    for s in src:
        room.add_source(list(np.asarray(s.pos_m) + lo), signal=s.wave, delay=s.t_s)
    mics = rng.uniform(centre - [1.5, 1.5, 0.5], centre + [1.5, 1.5, 0.5], (n_devices, 3))
    room.add_microphone_array(pra.MicrophoneArray(mics.T, SCENE_RATE_HZ))
    premix = room.simulate(return_premix=True)
    sig = room.mic_array.signals
    n = int((duration_s + 6) * SCENE_RATE_HZ)
    sig = np.pad(sig, ((0, 0), (0, max(0, n - sig.shape[1]))))[:, :n]
    peak = float(np.abs(sig).max()) + 1e-12
    amb_db = rng.uniform(-46, -34)
    devices, paths = [], []
    folder.mkdir(parents=True, exist_ok=True)
    emit = np.array([s.t_s for s in src])
    audible = np.zeros((n_devices, len(src)))
    for k in range(n_devices):
        noise = 10 ** (amb_db / 20) * diffuse_noise(n, SCENE_RATE_HZ, 100_000 + seed * 16 + k)
        heard = sig[k] / peak * 0.7 + noise
        dev = Device(
            tuple(float(v) for v in mics[k]),  # type: ignore[arg-type]
            float(rng.uniform(0.2, 4.0)),
            float(rng.uniform(-200, 200)),
            int(RATES_HZ[int(rng.integers(len(RATES_HZ)))]),
            duration_s - float(rng.uniform(0, 2)),
            noise_db=float(rng.uniform(-60, -48)),
            seed=200_000 + seed * 16 + k,
        )
        for q in range(len(src)):
            early = np.pad(premix[q, k], (0, max(0, n - premix.shape[2])))[:n]
            if version == 1:
                audible[k, q] = _early_rise_db(early / peak * 0.7, noise, float(emit[q]))
            else:
                audible[k, q] = _early_rise_db(
                    early / peak * 0.7, noise, float(emit[q]), _self_noise_power(dev), 1.5
                )
        p = folder / f"s{seed:03d}_d{k}.m4a"
        if not p.exists():
            write_audio(p, record(heard, SCENE_RATE_HZ, dev), dev.rate_hz)
        devices.append(dev)
        paths.append(p)
    delays = np.array(
        [[np.linalg.norm(np.asarray(s.pos_m) + lo - m) / 343.0 for s in src] for m in mics]
    )
    kinds = tuple(s.kind for s in src)
    return RoomScene(
        tuple(paths), tuple(devices), emit[None, :] + delays, emit, outdoor, kinds, audible
    )


def _self_noise_power(dev: Device, band_hz: tuple[float, float] = (150.0, 3800.0)) -> float:
    """Mean square of a recorder's white self-noise inside ``band_hz`` (it spans 0..rate / 2)."""
    nyq = dev.rate_hz / 2
    share = max(0.0, min(band_hz[1], nyq) - band_hz[0]) / nyq
    return 10 ** (dev.noise_db / 10) * share


def _early_rise_db(
    alone: np.ndarray,
    noise: np.ndarray,
    emit_s: float,
    self_power: float = 0.0,
    around_s: float | None = None,
) -> float:
    """Loudest 8 ms of a sound's first 0.3 s at a device over the background's mean (band, dB).

    The background is the room's noise over its first 10 s (``around_s`` None, version 1) or
    within ``around_s`` of the sound, plus ``self_power`` (the recorder's own noise in the band).
    """
    from scipy.signal import butter, sosfiltfilt

    sos = butter(4, [150, 3800], btype="band", fs=SCENE_RATE_HZ, output="sos")
    k0 = int(emit_s * SCENE_RATE_HZ)
    seg = sosfiltfilt(sos, alone[k0 : k0 + int(0.35 * SCENE_RATE_HZ)])
    hop = int(0.008 * SCENE_RATE_HZ)
    m = len(seg) // hop
    if m == 0:
        return -np.inf
    e = (seg[: m * hop].reshape(m, hop) ** 2).mean(1).max()
    if around_s is None:
        ambient = noise[: 10 * SCENE_RATE_HZ]
    else:
        a = int(around_s * SCENE_RATE_HZ)
        ambient = noise[max(0, k0 - a) : k0 + a]
    bg = float(np.mean(sosfiltfilt(sos, ambient) ** 2)) + self_power
    return float(10 * np.log10(e / bg + 1e-12))


def pair_truth(sc: RoomScene, i: int, j: int, edge_s: float = 0.5, min_db: float = -np.inf):
    """Device ``j`` on device ``i``'s clock: (offset, rate), the shared sounds' arrival times on
    ``j``'s clock and their path differences (i minus j, seconds of ``i``'s clock).

    A sound is shared when it reaches both devices while they record (``edge_s`` from the ends)
    and its early sound rises ``min_db`` over the background at both.
    """
    di, dj = sc.devices[i], sc.devices[j]
    ri, rj = 1 + di.drift_ppm * 1e-6, 1 + dj.drift_ppm * 1e-6
    ai = (sc.arrival_s[i] - di.offset_s) / ri
    aj = (sc.arrival_s[j] - dj.offset_s) / rj
    shared = (
        (ai > edge_s)
        & (ai < di.duration_s - edge_s)
        & (aj > edge_s)
        & (aj < dj.duration_s - edge_s)
    )
    if sc.audible_db is not None:
        shared &= (sc.audible_db[i] >= min_db) & (sc.audible_db[j] >= min_db)
    pd = (sc.arrival_s[i] - sc.arrival_s[j]) / ri
    return ((dj.offset_s - di.offset_s) / ri, rj / ri), aj[shared], pd[shared]


def error_beyond_path_s(
    est_offset_s: float, est_drift_ppm: float, truth, t_j: np.ndarray, pd, pd_heard=None
):
    """Worst distance, over the shared sounds, of the found clock from the true clock plus the
    range of the sounds' path differences (0 when it lies inside that range at every sound).

    ``pd_heard``: path differences of further sounds both devices hear (weaker than the shared
    ones); they widen the range, as lining up on any sound both heard is a valid answer.
    """
    (off, rate) = truth
    got = est_offset_s + (1 + est_drift_ppm * 1e-6) * t_j
    clock = off + rate * t_j
    every = np.concatenate([np.ravel(pd), np.ravel([] if pd_heard is None else pd_heard)])
    lo, hi = clock + float(np.min(every)), clock + float(np.max(every))
    return float(np.max(np.maximum(0.0, np.maximum(lo - got, got - hi))))


def _whole_gcc_offset(a, b) -> float:
    """The baseline: one GCC-PHAT over both whole tracks, its peak (ref-minus-cam seconds)."""
    from scipy import fft as sfft

    x, y = a.samples.astype(np.float64), b.samples.astype(np.float64)
    n = sfft.next_fast_len(len(x) + len(y))
    cross = sfft.rfft(x, n) * np.conj(sfft.rfft(y, n))
    r = sfft.irfft(cross / (np.abs(cross) + 1e-12), n)
    k = int(np.argmax(r))
    return a.t0_s + (k if k < len(x) else k - n) / a.rate_hz - b.t0_s


def bench_rooms(
    seeds: range, folder: Path, min_db: float = 10.0, heard_db: float = 3.0, version: int = 2
) -> dict:
    """Sparse-sound pairs (3 devices a scene) and unrelated pairs across scenes.

    A pair counts when at least one sound is shared and audible (``min_db`` over the background
    at both devices); its error is :func:`error_beyond_path_s` over those sounds (strict).
    Beside it, the error when the range of path differences also takes the sounds that rise
    ``heard_db`` over the background at both devices (any sound both heard is a valid anchor).
    """
    from mtbsync_core.multicam.audio import estimate_audio_pair
    from mtbsync_core.multicam.media import decode_audio

    errs, errs_heard, base_errs, n_amb, n_pairs, n_unrel, n_unrel_amb = [], [], [], 0, 0, 0, 0
    low, scenes = 0, [make_scene(folder, s, version=version) for s in seeds]
    for k, sc in enumerate(scenes):
        tracks = [decode_audio(p) for p in sc.paths]
        for i, j in ((0, 1), (0, 2), (1, 2)):
            truth, t_j, pd = pair_truth(sc, i, j, min_db=min_db)
            if not len(t_j):
                continue
            pd_heard = pair_truth(sc, i, j, min_db=heard_db)[2]
            n_pairs += 1
            est = estimate_audio_pair(tracks[i], tracks[j])
            base = _whole_gcc_offset(tracks[i], tracks[j])
            base_errs.append(error_beyond_path_s(base, 0.0, truth, t_j, pd))
            if est.status != "ok":
                n_amb += 1
                continue
            low += est.confidence <= 0.25
            errs.append(error_beyond_path_s(est.offset_s, est.drift_ppm, truth, t_j, pd))
            errs_heard.append(
                error_beyond_path_s(est.offset_s, est.drift_ppm, truth, t_j, pd, pd_heard)
            )
        other = decode_audio(scenes[(k + 1) % len(scenes)].paths[1])
        n_unrel += 1
        n_unrel_amb += estimate_audio_pair(tracks[0], other).status == "ambiguous"
    e = np.asarray(errs) * 1e3
    return {
        "scenes": len(scenes),
        "pairs_with_shared_sound": n_pairs,
        "ok": len(errs),
        "ok_low_confidence": int(low),
        "ambiguous": n_amb,
        "within_1ms": int(np.sum(e <= 1.0)),
        "share_within_1ms": float(np.sum(e <= 1.0) / max(n_pairs, 1)),
        "wrong_over_1ms": int(np.sum(e > 1.0)),
        "wrong_over_5ms": int(np.sum(e > 5.0)),
        "err_ms_median_ok": float(np.median(e)) if len(e) else float("nan"),
        "within_1ms_heard_range": int(np.sum(np.asarray(errs_heard) <= 1e-3)),
        "baseline_share_within_1ms": float(np.mean(np.asarray(base_errs) <= 1e-3)),
        "unrelated": n_unrel,
        "unrelated_ambiguous": n_unrel_amb,
    }
