"""Simultaneous cameras with a known answer, for tests and the benchmark.

Sound: a deterministic field recording built in numpy (speech-like formant syllables, freewheel
clicks, tyre roll whose roughness follows a real photograph's texture, impacts, bird chirps),
heard by each camera on its own drifting clock with its own wind noise (gusty brown noise) and
AAC-encoded by PyAV. Pictures: the real-photograph trail of :mod:`mtbsync_core.synthetic`, with
optional flash events integrated over each frame's exposure. Every frame's true master time is
returned, so offsets, drifts, flash times and frame lookups can be checked exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from scipy.signal import butter, lfilter

from ..synthetic import TRAIL_PHOTOS, Trail, build_canvas, photo_dir, render_frame


def _resonate(x: np.ndarray, f_hz: float, bw_hz: float, rate_hz: int) -> np.ndarray:
    r = math.exp(-math.pi * bw_hz / rate_hz)
    th = 2 * math.pi * f_hz / rate_hz
    return lfilter([1 - r], [1, -2 * r * math.cos(th), r * r], x)


def _roughness(n: int, seed: int) -> np.ndarray:
    """A 0..1 terrain roughness of length n from a real photograph's column texture."""
    img = cv2.imread(
        str(photo_dir() / TRAIL_PHOTOS[seed % len(TRAIL_PHOTOS)]), cv2.IMREAD_GRAYSCALE
    )
    g = np.abs(np.diff(img.astype(np.float32), axis=1)).mean(axis=0)
    g = np.tile(g, 8)
    out = np.interp(np.linspace(0, len(g) - 1, n), np.arange(len(g)), g)
    return (out - out.min()) / (np.ptp(out) + 1e-9)


def scene_audio(duration_s: float, rate_hz: int = 16000, seed: int = 0) -> np.ndarray:
    """The sound at the scene (float32, peak about 0.5), ``duration_s`` long."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * rate_hz)
    out = np.zeros(n, np.float64)
    t = 0.2
    while t < duration_s - 0.5:  # speech-like syllables in phrases, with pauses
        for _ in range(int(rng.integers(2, 8))):
            dur = rng.uniform(0.08, 0.3)
            k0, k1 = int(t * rate_hz), min(n, int((t + dur) * rate_hz))
            if k1 - k0 < 16:
                break
            f0 = rng.uniform(95, 230)
            pulses = np.zeros(k1 - k0)
            pulses[:: max(1, int(rate_hz / f0))] = 1.0
            v = sum(
                _resonate(pulses, f, 80 + f / 15, rate_hz)
                for f in rng.uniform([300, 900, 2300], [850, 2200, 3200])
            )
            out[k0:k1] += 0.6 * v * np.hanning(k1 - k0)
            t += dur + rng.uniform(0.02, 0.12)
        t += rng.uniform(0.3, 2.5)
    rough = _roughness(n, seed)
    roll = _resonate(rng.standard_normal(n), 700, 900, rate_hz)
    out += 0.05 * roll * (0.2 + rough)
    for _ in range(int(duration_s * 0.8)):  # impacts and chain slaps
        k0 = int(rng.uniform(0, duration_s - 0.3) * rate_hz)
        m = int(rate_hz * rng.uniform(0.05, 0.25))
        burst = rng.standard_normal(m) * np.exp(-np.arange(m) / (m / 6))
        f = rng.uniform(150, 4000)
        out[k0 : k0 + m] += rng.uniform(0.1, 0.6) * _resonate(burst, f, f / 8, rate_hz)
    for _ in range(int(duration_s / 4)):  # freewheel clicks and bird chirps
        k0 = int(rng.uniform(0, duration_s - 1.2) * rate_hz)
        m = int(rate_hz * rng.uniform(0.2, 1.0))
        if rng.random() < 0.5:
            clicks = np.zeros(m)
            clicks[:: max(1, int(rate_hz / rng.uniform(12, 35)))] = 1.0
            out[k0 : k0 + m] += 0.3 * _resonate(clicks, 3000, 500, rate_hz)
        else:
            tt = np.arange(m) / rate_hz
            f = rng.uniform(2000, 4500) + rng.uniform(-1500, 1500) * tt / tt[-1]
            out[k0 : k0 + m] += 0.08 * np.sin(2 * np.pi * np.cumsum(f) / rate_hz) * np.hanning(m)
    return (0.5 * out / (np.abs(out).max() + 1e-9)).astype(np.float32)


def wind_noise(n: int, rate_hz: int, seed: int) -> np.ndarray:
    """Gusty low-frequency noise (unit RMS): leaky-integrated white noise under a slow envelope."""
    rng = np.random.default_rng(seed + 1000)
    brown = lfilter([1.0], [1.0, -0.995], rng.standard_normal(n))
    brown = lfilter([1.0, -1.0], [1.0, -0.9995], brown)  # remove DC drift
    k = max(2, n // max(1, int(rate_hz * 0.7)))
    gust = np.interp(np.arange(n), np.linspace(0, n - 1, k), np.abs(rng.standard_normal(k)) + 0.3)
    w = brown * gust + 0.02 * rng.standard_normal(n) * np.std(brown)
    return (w / (np.std(w) + 1e-12)).astype(np.float32)


def camera_audio(
    scene: np.ndarray,
    scene_rate_hz: int,
    offset_s: float,
    drift_ppm: float,
    duration_s: float,
    rate_hz: int,
    snr_db: float,
    seed: int,
    local_db: float | None = None,
) -> np.ndarray:
    """What a camera records: scene at master time ``offset_s + (1+drift) t``, plus wind at ``snr_db``.

    ``local_db`` adds sounds only this camera hears (its mount rattling, the rider breathing) at
    that level relative to the scene.
    """
    t_cam = np.arange(int(duration_s * rate_hz)) / rate_hz
    pos = (offset_s + (1 + drift_ppm * 1e-6) * t_cam) * scene_rate_hz
    sig = _microphone(
        np.interp(pos, np.arange(len(scene)), scene, left=0.0, right=0.0), rate_hz, seed
    )
    p_sig = float(np.mean(sig**2)) + 1e-12
    wind = wind_noise(len(sig), rate_hz, seed) * math.sqrt(p_sig / 10 ** (snr_db / 10))
    out = sig + wind
    if local_db is not None:
        local = _local_sounds(len(sig), rate_hz, seed)
        out += local * math.sqrt(p_sig * 10 ** (local_db / 10) / (float(np.mean(local**2)) + 1e-12))
    return (0.9 * out / (np.abs(out).max() + 1e-9)).astype(np.float32)


def _local_sounds(n: int, rate_hz: int, seed: int) -> np.ndarray:
    """Rattles and breaths near one camera: decaying resonant bursts and slow noise swells."""
    rng = np.random.default_rng(seed + 77)
    out = np.zeros(n)
    for _ in range(int(n / rate_hz * 3)):  # about three rattles a second
        k0, m = int(rng.uniform(0, n - 1)), int(rate_hz * rng.uniform(0.01, 0.08))
        burst = rng.standard_normal(m) * np.exp(-np.arange(m) / (m / 4))
        f = rng.uniform(800, 3500)
        seg = _resonate(burst, f, f / 6, rate_hz)[: n - k0]
        out[k0 : k0 + len(seg)] += rng.uniform(0.3, 1.0) * seg
    for _ in range(int(n / rate_hz / 3)):  # a breath every few seconds
        k0, m = int(rng.uniform(0, n - 1)), int(rate_hz * rng.uniform(0.4, 1.0))
        seg = (_resonate(rng.standard_normal(m), 1200, 1500, rate_hz) * np.hanning(m))[: n - k0]
        out[k0 : k0 + len(seg)] += 0.5 * seg
    return out


def _microphone(x: np.ndarray, rate_hz: int, seed: int) -> np.ndarray:
    """Each camera's own mic and housing: gain, band limits (causal filters) and a reflection."""
    rng = np.random.default_rng(seed + 31)
    b, a = butter(
        2,
        [rng.uniform(80, 250), min(rng.uniform(3500, 7000), 0.45 * rate_hz)],
        "bandpass",
        fs=rate_hz,
    )
    y = lfilter(b, a, x)
    d = int(rng.uniform(0.004, 0.012) * rate_hz)  # an early reflection off the rider / bike
    y[d:] += rng.uniform(0.15, 0.4) * y[:-d]
    return y * rng.uniform(0.6, 1.4)


def write_audio(path: str | Path, samples: np.ndarray, rate_hz: int, codec: str = "aac") -> None:
    """Encode mono float samples (an .m4a with AAC by default)."""
    with av.open(str(path), "w") as out:
        _mux_audio(out, _audio_stream(out, codec, rate_hz), samples, rate_hz)


def _audio_stream(out, codec: str, rate_hz: int):
    st = out.add_stream(codec, rate=rate_hz)
    st.layout = "mono"
    st.bit_rate = 64000
    return st


def _mux_audio(out, st, samples: np.ndarray, rate_hz: int) -> None:
    fs = 1024
    for k in range(0, len(samples), fs):
        af = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples[None, k : k + fs]), format="flt", layout="mono"
        )
        af.sample_rate, af.pts, af.time_base = rate_hz, k, Fraction(1, rate_hz)
        for pkt in st.encode(af):
            out.mux(pkt)
    for pkt in st.encode():
        out.mux(pkt)


@dataclass(frozen=True)
class CamSpec:
    """One simulated camera: its clock against the master and its recording quirks."""

    camera_id: str
    offset_s: float  # master time of this camera's first frame
    drift_ppm: float = 0.0
    fps: Fraction = Fraction(30)
    duration_s: float = 4.0
    size: tuple[int, int] = (160, 90)
    drop_frames: tuple[int, ...] = ()
    vfr_jitter: float = 0.0  # relative jitter of frame spacing (VFR when > 0)
    audio: bool = True
    snr_db: float = 0.0
    audio_rate_hz: int = 16000
    audio_lead_s: float = 0.0  # audio starts this long before the first video frame
    gop: int = 15
    seed: int = 0
    exposure: float = 1.0  # share of the frame period the shutter is open
    video: bool = True  # False: a separate sound recorder (a WAV file, no pictures)
    led_box: tuple[int, int, int, int] | None = (
        None  # x, y, w, h of an LED; None: a flash lights all
    )


@dataclass
class CamTruth:
    """Ground truth of a written camera: each frame's camera and master time."""

    path: Path
    spec: CamSpec
    t_cam_s: np.ndarray
    t_master_s: np.ndarray
    flash_on_cam_s: list[float] = field(default_factory=list)


def small_trail(seed: int = 0) -> Trail:
    """A small canvas of the standard photographs for tiny test videos."""
    return Trail(build_canvas(TRAIL_PHOTOS, 180, seed), view_w_px=120.0, speed_px_s=30.0)


def frame_times(spec: CamSpec) -> np.ndarray:
    """Camera times of the frames actually recorded (drops removed, jitter applied)."""
    n = int(spec.duration_s * spec.fps)
    period = 1.0 / float(spec.fps)
    t = np.arange(n) * period
    if spec.vfr_jitter:
        rng = np.random.default_rng(spec.seed + 7)
        steps = period * (1 + spec.vfr_jitter * rng.uniform(-1, 1, n - 1))
        t = np.concatenate([[0.0], np.cumsum(steps)])
    keep = np.ones(n, bool)
    keep[list(spec.drop_frames)] = False
    keep[0] = True
    return np.round(t[keep] * 90000) / 90000


def flash_level(m0: float, m1: float, flashes: Sequence[tuple[float, float]]) -> float:
    """Share of the exposure [m0, m1) (master seconds) during which a flash is on."""
    on = sum(max(0.0, min(m1, b) - max(m0, a)) for a, b in flashes)
    return on / (m1 - m0)


def _light(img: np.ndarray, level: float, box: tuple[int, int, int, int] | None) -> np.ndarray:
    """Add a light cue of ``level`` (0..1 of the exposure) to the whole frame or an LED box."""
    out = img.astype(np.int16)
    x0, y0, w, h = box if box is not None else (0, 0, img.shape[1], img.shape[0])
    out[y0 : y0 + h, x0 : x0 + w] += int(round((110 if box else 150) * level))
    return np.clip(out, 0, 255).astype(np.uint8)


def write_camera(
    path: str | Path,
    spec: CamSpec,
    scene: np.ndarray | None,
    scene_rate_hz: int,
    trail: Trail,
    flashes: Sequence[tuple[float, float]] = (),
) -> CamTruth:
    """Encode one camera (H.264 + AAC; a 16-bit WAV for a sound recorder) and return its truth."""
    rate = 1 + spec.drift_ppm * 1e-6
    if not spec.video:
        sig = camera_audio(
            scene,
            scene_rate_hz,
            spec.offset_s,
            spec.drift_ppm,
            spec.duration_s,
            spec.audio_rate_hz,
            spec.snr_db,
            spec.seed,
        )
        write_audio(path, sig, spec.audio_rate_hz, codec="pcm_s16le")
        return CamTruth(Path(path), spec, np.zeros(0), np.zeros(0))
    t_cam = frame_times(spec)
    t_master = spec.offset_s + rate * t_cam
    period = 1.0 / float(spec.fps)
    tb = Fraction(1, 90000)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=spec.fps)
        vs.width, vs.height = spec.size
        vs.pix_fmt = "yuv420p"
        vs.codec_context.time_base = tb
        vs.options = {
            "crf": "20",
            "preset": "veryfast",
            "g": str(spec.gop),
            "keyint_min": str(spec.gop),
            "bf": "0",
            "x264-params": "scenecut=0",
        }
        ast = (
            _audio_stream(out, "aac", spec.audio_rate_hz)
            if spec.audio and scene is not None
            else None
        )
        v0 = round(spec.audio_lead_s * 90000)
        for k, tc in enumerate(t_cam):
            img = render_frame(trail, trail.ref_distance(t_master[k]) % trail.length_px, spec.size)
            lvl = flash_level(t_master[k], t_master[k] + rate * period * spec.exposure, flashes)
            if lvl > 0:
                img = _light(img, lvl, spec.led_box)
            vf = av.VideoFrame.from_ndarray(img, format="bgr24")
            vf.pts, vf.time_base = v0 + round(tc * 90000), tb
            for pkt in vs.encode(vf):
                out.mux(pkt)
        for pkt in vs.encode():
            out.mux(pkt)
        if ast is not None:
            dur = spec.duration_s + spec.audio_lead_s
            sig = camera_audio(
                scene,
                scene_rate_hz,
                spec.offset_s - rate * spec.audio_lead_s,
                spec.drift_ppm,
                dur,
                spec.audio_rate_hz,
                spec.snr_db,
                spec.seed,
            )
            _mux_audio(out, ast, sig, spec.audio_rate_hz)
    on = [(a - spec.offset_s) / rate for a, _ in flashes]
    return CamTruth(Path(path), spec, t_cam, t_master, on)


def flash_schedule(start_s: float, end_s: float, seed: int = 0) -> list[tuple[float, float]]:
    """Irregular flashes (0.15-0.4 s on, 0.8-2.5 s apart) between ``start_s`` and ``end_s``."""
    rng = np.random.default_rng(seed + 55)
    out, t = [], start_s + rng.uniform(0.3, 0.8)
    while t < end_s - 0.6:
        d = rng.uniform(0.15, 0.4)
        out.append((t, t + d))
        t += d + rng.uniform(0.8, 2.5)
    return out


def standard_specs(duration_s: float = 6.0) -> list[CamSpec]:
    """Three small cameras: 30 fps master, 25 fps with drift and drops and an audio lead, 60 fps VFR."""
    return [
        CamSpec("helmet", 1.0, 0.0, Fraction(30), duration_s, seed=1, snr_db=0.0),
        CamSpec(
            "bar",
            2.3,
            400.0,
            Fraction(25),
            duration_s - 1.0,
            seed=2,
            snr_db=-5.0,
            drop_frames=(10, 11, 40),
            audio_lead_s=0.3,
        ),
        CamSpec(
            "chest",
            0.5,
            -300.0,
            Fraction(60),
            duration_s,
            seed=3,
            vfr_jitter=0.2,
            audio_rate_hz=48000,
        ),
    ]


def make_camera_set(
    folder: str | Path, specs: Sequence[CamSpec], seed: int = 0, flashes: bool = True
) -> list[CamTruth]:
    """Write ``specs`` as ``folder/<camera_id>.mp4`` sharing one scene (sound, trail, flashes)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    end = max(s.offset_s + s.duration_s * 1.001 + s.audio_lead_s for s in specs) + 1.0
    scene = scene_audio(end, 16000, seed)
    fl = flash_schedule(0.0, end, seed) if flashes else []
    trail = small_trail(seed)
    return [
        write_camera(
            folder / f"{s.camera_id}{'.mp4' if s.video else '.wav'}", s, scene, 16000, trail, fl
        )
        for s in specs
    ]


def true_clock(truths: Sequence[CamTruth], master: int = 0) -> list[tuple[float, float]]:
    """(offset_s, drift_ppm) of each camera against ``truths[master]``, exactly."""
    m = truths[master].spec
    rm = 1 + m.drift_ppm * 1e-6
    out = []
    for t in truths:
        r = 1 + t.spec.drift_ppm * 1e-6
        out.append(((t.spec.offset_s - m.offset_s) / rm, (r / rm - 1) * 1e6))
    return out
