"""Benchmark pairs with ground truth: real photographs flown as runs by known monotone warps.

Each pair is generated once into ``bench/.cache/`` (deterministic: same seeds, same files).
``truth.npz`` holds, for every frame of the new run, its time and the true reference time
(NaN in an unrelated lead-in).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from mtbsync_core.synthetic import (
    CameraLook,
    RenderSpec,
    WarpProfile,
    make_trail,
    render_new,
    render_reference,
)

CACHE = Path(__file__).resolve().parent / ".cache"


@dataclass(frozen=True)
class PairSpec:
    """A reference run and a new run of the same trail (or of an unrelated one)."""

    name: str
    ref_s: float
    new_s: float
    size: tuple[int, int]
    ref_fps: Fraction
    new_fps: Fraction
    profile: WarpProfile
    look: CameraLook = field(default_factory=CameraLook)
    new_crf: int = 23
    unrelated: bool = False
    what: str = ""
    gop: int = 8  # frames between keyframes, as GoPro HERO cameras write at 30 fps


PAIRS: tuple[PairSpec, ...] = (
    PairSpec(
        "offset",
        40,
        30,
        (640, 360),
        Fraction(30),
        Fraction(30),
        WarpProfile(t_ref_start_s=6.0),
        what="pure offset, same camera",
    ),
    PairSpec(
        "nonlinear_25fps",
        40,
        34,
        (640, 360),
        Fraction(30),
        Fraction(25),
        WarpProfile(t_ref_start_s=3.0, mean_ratio=0.95, wobble=0.3, wobble_period_s=9.0),
        CameraLook(gain=1.25, bias=-10, colour=(0.9, 1.0, 1.15), noise_sigma=5, seed=2),
        what="+-30 % speed changes, 30->25 fps, brighter, colour cast, noise",
    ),
    PairSpec(
        "stop_leadin_60fps",
        40,
        36,
        (640, 360),
        Fraction(30),
        Fraction(60),
        WarpProfile(
            t_ref_start_s=2.0, lead_in_s=5.0, mean_ratio=1.1, wobble=0.15, stops=((16.0, 4.0),)
        ),
        CameraLook(crop=1.08, rotation_deg=2.0, shake_px=2.0, gain=0.85, seed=3),
        new_crf=30,
        what="5 s unrelated lead-in, 4 s stop, 60 fps, crop, roll, shake, heavy re-encode",
    ),
    PairSpec(
        "long_720p",
        150,
        132,
        (1280, 720),
        Fraction(30),
        Fraction(30),
        WarpProfile(
            t_ref_start_s=4.0,
            lead_in_s=4.0,
            mean_ratio=1.05,
            wobble=0.25,
            wobble_period_s=15.0,
            stops=((60.0, 3.0),),
        ),
        CameraLook(
            gain=1.1,
            colour=(1.0, 0.95, 1.1),
            noise_sigma=3,
            crop=1.05,
            rotation_deg=1.5,
            shake_px=1.5,
            seed=4,
        ),
        new_crf=26,
        what="2+ min 720p: lead-in, stop, nonlinear speed, look changes",
    ),
    PairSpec(
        "unrelated",
        30,
        30,
        (640, 360),
        Fraction(30),
        Fraction(30),
        WarpProfile(),
        unrelated=True,
        what="two different trails: must say no_match",
    ),
)


SHARED_GOPRO = Path(__file__).resolve().parents[2] / "shared" / "data" / "gopro"

#: Real footage: a GoPro HERO5 clip (12 s, 854x480, 29.97 fps) as the reference; the new run is
#: made of its own decoded frames picked by a known warp (so the truth is exact), re-encoded at
#: 25 fps with a brightness and colour change and noise.
REAL_PAIR = PairSpec(
    "real_gopro_karma",
    12.0,
    9.0,
    (854, 480),
    Fraction(30000, 1001),
    Fraction(25),
    WarpProfile(
        t_ref_start_s=1.2, mean_ratio=1.0, wobble=0.25, wobble_period_s=5.0, stops=((4.0, 1.0),)
    ),
    CameraLook(gain=1.2, bias=-12, colour=(1.0, 0.95, 1.1), noise_sigma=3, seed=9),
    new_crf=26,
    what="real GoPro footage (karma.mp4) re-timed by a known warp with a stop, 25 fps, look change",
    gop=13,
)


def ensure_real_pair(spec: PairSpec = REAL_PAIR, cache: Path = CACHE) -> dict[str, Path] | None:
    """The real-footage pair, or None when ../shared/data/gopro/karma.mp4 is not there."""
    src = SHARED_GOPRO / "karma.mp4"
    if not src.exists():
        return None
    import av
    import cv2

    from mtbsync_core.synthetic import RenderSpec, encode_frames

    d = cache / spec.name
    paths = {"ref": src, "new": d / "new.mp4", "truth": d / "truth.npz"}
    if paths["new"].exists() and paths["truth"].exists():
        return paths
    d.mkdir(parents=True, exist_ok=True)
    with av.open(str(src)) as c:
        frames = [(float(f.time), f.to_ndarray(format="bgr24")) for f in c.decode(video=0)]
    t_frames = np.array([t for t, _ in frames]) - frames[0][0]
    n = int(spec.new_s * spec.new_fps)
    t_new = np.arange(n) / float(spec.new_fps)
    wanted = spec.profile.truth(t_new)
    k = np.clip(np.searchsorted(t_frames, wanted - 0.5 / 29.97), 0, len(frames) - 1)
    t_ref = t_frames[k]  # the exact time of the reference frame shown
    rng = np.random.default_rng(spec.look.seed)
    look = spec.look

    def frame(i: int) -> np.ndarray:
        f = (
            frames[k[i]][1].astype(np.float32) * look.gain * np.asarray(look.colour, np.float32)
            + look.bias
        )
        f += look.noise_sigma * rng.standard_normal(f.shape, dtype=np.float32)
        return cv2.resize(np.clip(f, 0, 255).astype(np.uint8), spec.size)

    encode_frames(
        paths["new"],
        frame,
        n,
        RenderSpec(spec.new_s, spec.new_fps, spec.size, crf=spec.new_crf, gop=spec.gop),
    )
    np.savez(paths["truth"], t_new_s=t_new, t_ref_s=t_ref)
    return paths


def pair_by_name(name: str) -> PairSpec:
    """The pair called ``name``."""
    for p in (*PAIRS, REAL_PAIR):
        if p.name == name:
            return p
    raise KeyError(name)


def ensure_pair(spec: PairSpec, cache: Path = CACHE) -> dict[str, Path]:
    """Render the pair if it is not cached; return paths of ref.mp4, new.mp4, truth.npz."""
    if spec.name == REAL_PAIR.name:
        paths = ensure_real_pair(spec, cache)
        if paths is None:
            raise FileNotFoundError(f"real footage not found: {SHARED_GOPRO / 'karma.mp4'}")
        return paths
    d = cache / spec.name
    paths = {"ref": d / "ref.mp4", "new": d / "new.mp4", "truth": d / "truth.npz"}
    stamp = d / "spec.json"
    desc = json.dumps(asdict(spec), default=str, sort_keys=True)
    if stamp.exists() and stamp.read_text() == desc and all(p.exists() for p in paths.values()):
        return paths
    d.mkdir(parents=True, exist_ok=True)
    trail = make_trail("trail")
    render_reference(
        paths["ref"], trail, RenderSpec(spec.ref_s, spec.ref_fps, spec.size, gop=spec.gop)
    )
    new_trail = make_trail("other") if spec.unrelated else trail
    t_new, t_ref = render_new(
        paths["new"],
        new_trail,
        spec.profile,
        RenderSpec(spec.new_s, spec.new_fps, spec.size, spec.look, crf=spec.new_crf, gop=spec.gop),
    )
    if spec.unrelated:
        t_ref = np.full_like(t_new, np.nan)
    np.savez(paths["truth"], t_new_s=t_new, t_ref_s=t_ref)
    stamp.write_text(desc)
    return paths


if __name__ == "__main__":  # render every pair: python -m bench.pairs
    import sys

    for p in PAIRS:
        if len(sys.argv) == 1 or p.name in sys.argv[1:]:
            print(p.name, ensure_pair(p))
