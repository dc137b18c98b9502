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

from mtbsync_core.synthetic import CameraLook, RenderSpec, WarpProfile, make_trail, render_new, render_reference

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


PAIRS: tuple[PairSpec, ...] = (
    PairSpec("offset", 40, 30, (640, 360), Fraction(30), Fraction(30),
             WarpProfile(t_ref_start_s=6.0), what="pure offset, same camera"),
    PairSpec("nonlinear_25fps", 40, 34, (640, 360), Fraction(30), Fraction(25),
             WarpProfile(t_ref_start_s=3.0, mean_ratio=0.95, wobble=0.3, wobble_period_s=9.0),
             CameraLook(gain=1.25, bias=-10, colour=(0.9, 1.0, 1.15), noise_sigma=5, seed=2),
             what="+-30 % speed changes, 30->25 fps, brighter, colour cast, noise"),
    PairSpec("stop_leadin_60fps", 40, 36, (640, 360), Fraction(30), Fraction(60),
             WarpProfile(t_ref_start_s=2.0, lead_in_s=5.0, mean_ratio=1.1, wobble=0.15, stops=((16.0, 4.0),)),
             CameraLook(crop=1.08, rotation_deg=2.0, shake_px=2.0, gain=0.85, seed=3), new_crf=30,
             what="5 s unrelated lead-in, 4 s stop, 60 fps, crop, roll, shake, heavy re-encode"),
    PairSpec("long_720p", 150, 132, (1280, 720), Fraction(30), Fraction(30),
             WarpProfile(t_ref_start_s=4.0, lead_in_s=4.0, mean_ratio=1.05, wobble=0.25, wobble_period_s=15.0,
                         stops=((60.0, 3.0),)),
             CameraLook(gain=1.1, colour=(1.0, 0.95, 1.1), noise_sigma=3, crop=1.05, rotation_deg=1.5,
                        shake_px=1.5, seed=4), new_crf=26,
             what="2+ min 720p: lead-in, stop, nonlinear speed, look changes"),
    PairSpec("unrelated", 30, 30, (640, 360), Fraction(30), Fraction(30), WarpProfile(), unrelated=True,
             what="two different trails: must say no_match"),
)


def pair_by_name(name: str) -> PairSpec:
    """The pair called ``name``."""
    for p in PAIRS:
        if p.name == name:
            return p
    raise KeyError(name)


def ensure_pair(spec: PairSpec, cache: Path = CACHE) -> dict[str, Path]:
    """Render the pair if it is not cached; return paths of ref.mp4, new.mp4, truth.npz."""
    d = cache / spec.name
    paths = {"ref": d / "ref.mp4", "new": d / "new.mp4", "truth": d / "truth.npz"}
    stamp = d / "spec.json"
    desc = json.dumps(asdict(spec), default=str, sort_keys=True)
    if stamp.exists() and stamp.read_text() == desc and all(p.exists() for p in paths.values()):
        return paths
    d.mkdir(parents=True, exist_ok=True)
    trail = make_trail("trail")
    render_reference(paths["ref"], trail, RenderSpec(spec.ref_s, spec.ref_fps, spec.size))
    new_trail = make_trail("other") if spec.unrelated else trail
    t_new, t_ref = render_new(paths["new"], new_trail, spec.profile,
                              RenderSpec(spec.new_s, spec.new_fps, spec.size, spec.look, crf=spec.new_crf))
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
