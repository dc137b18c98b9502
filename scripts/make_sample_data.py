"""Regenerate sample_data/ reproducibly: python scripts/make_sample_data.py [--out sample_data]

Two short runs of one synthetic trail made of real photographs (scikit-image's bundled
pictures), a marker list for the reference run, and the ground truth. The new run has what review
is for: a stretch where a glove covers the lens (the rider rides on, the camera sees nothing of
the trail) with a marker inside it. See sample_data/PROVENANCE.md.
"""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from pathlib import Path

import numpy as np

from mtbsync_core.markers import write_markers_csv
from mtbsync_core.model import Marker
from mtbsync_core.synthetic import (
    CameraLook,
    RenderSpec,
    WarpProfile,
    encode_frames,
    make_trail,
    render_frame,
    render_reference,
)

REF_S, NEW_S, SIZE = 24.0, 24.0, (640, 360)
PROFILE = WarpProfile(
    t_ref_start_s=2.0,
    lead_in_s=2.0,
    mean_ratio=0.95,
    wobble=0.2,
    wobble_period_s=8.0,
    stops=((11.0, 2.0),),
)
LOOK = CameraLook(
    gain=1.15,
    bias=-8,
    colour=(0.95, 1.0, 1.1),
    noise_sigma=3.0,
    crop=1.04,
    rotation_deg=1.0,
    seed=7,
)
MARKERS = (
    Marker("start gate", 1.0, "blue", "before the new run starts"),
    Marker("rock garden", 4.5, "red", "line left of the big rock"),
    Marker("drop", 8.2, "red", ""),
    Marker("split 1", 11.0, "green", "timing split"),
    Marker("rock slab", 13.3, "purple", "under the glove: the camera saw nothing here"),
    Marker("berm", 14.6, "yellow", "late apex"),
    Marker("jump", 18.3, "red", "tabletop"),
    Marker("finish", 20.2, "green", "last corner before the line"),
)
#: New-run seconds in which a glove covers the lens (the fade in and out included).
COVERED_NEW_S = (15.0, 17.0)
FADE_S = 0.25


def covered_share(t_s: float) -> float:
    """How much of the picture the glove hides at new time ``t_s`` (0..1)."""
    a, b = COVERED_NEW_S
    return float(np.clip(min(t_s - a, b - t_s) / FADE_S, 0.0, 1.0))


def glove(size: tuple[int, int], t_s: float, rng: np.random.Generator) -> np.ndarray:
    """A dark, soft, slowly moving glove filling the frame (BGR)."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wave = np.sin(xx / w * 3.0 + 1.3 * t_s) + np.cos(yy / h * 2.0 - 0.7 * t_s)
    base = 26.0 + 6.0 * wave
    img = np.stack([base * 0.8, base * 0.9, base * 1.15], -1)
    img += rng.normal(0.0, 2.0, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def render_new_covered(path: Path, trail, profile: WarpProfile, spec: RenderSpec):
    """The new run as ``render_new`` draws it, with the glove over COVERED_NEW_S."""
    n = int(spec.duration_s * spec.fps)
    t_new = np.arange(n) / float(spec.fps)
    t_ref = profile.truth(t_new)
    rng = np.random.default_rng(spec.look.seed)
    lead = make_trail("other")

    def frame(i: int) -> np.ndarray:
        if np.isnan(t_ref[i]):
            img = render_frame(lead, lead.speed_px_s * t_new[i], spec.size, spec.look, rng=rng)
        else:
            img = render_frame(trail, trail.ref_distance(t_ref[i]), spec.size, spec.look, rng=rng)
        k = covered_share(t_new[i])
        if k > 0:
            g = glove(spec.size, t_new[i], rng).astype(np.float32)
            img = np.clip((1 - k) * img.astype(np.float32) + k * g, 0, 255).astype(np.uint8)
        return img

    encode_frames(path, frame, n, spec)
    return t_new, t_ref


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "sample_data"))
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    trail = make_trail("trail")
    render_reference(out / "ref.mp4", trail, RenderSpec(REF_S, Fraction(30), SIZE, crf=31))
    t_new, t_ref = render_new_covered(
        out / "new.mp4",
        trail,
        PROFILE,
        RenderSpec(NEW_S, Fraction(30000, 1001), SIZE, LOOK, crf=31),
    )
    write_markers_csv(MARKERS, out / "ref_markers.csv", force=True)
    ok = ~np.isnan(t_ref)
    truth = {
        "profile": {k: v for k, v in PROFILE.__dict__.items()},
        "covered_new_s": list(COVERED_NEW_S),
        "markers_t_new_s": {
            m.name: (
                float(np.interp(m.t_ref_s, t_ref[ok], t_new[ok]))
                if t_ref[ok][0] <= m.t_ref_s <= t_ref[ok][-1]
                else None
            )
            for m in MARKERS
        },
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=2, default=list) + "\n")
    print("wrote", sorted(p.name for p in out.iterdir()))


if __name__ == "__main__":
    main()
