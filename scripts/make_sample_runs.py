"""Regenerate the second and third sample runs reproducibly: python scripts/make_sample_runs.py

``sample_data/run2.mp4`` and ``run3.mp4`` are two more laps of the sample trail (the same
synthetic trail of real photographs as ``ref.mp4``, see ``make_sample_data.py``), ridden at other
paces, so a batch and the Runs page have something to compare. Both start before the first
reference marker and end after the last, so every split time exists. Their truth (each marker's
time on each run) goes to ``sample_data/runs_truth.json``. Fixed seeds: same code, same files.
"""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from pathlib import Path

import numpy as np

from mtbsync_core.markers import read_markers_csv
from mtbsync_core.synthetic import CameraLook, RenderSpec, WarpProfile, make_trail, render_new

SIZE = (640, 360)
#: name -> (profile, duration_s, fps, look): a quick lap, and a slower one with a short stop.
RUNS = {
    "run2": (
        WarpProfile(t_ref_start_s=0.4, mean_ratio=1.08, wobble=0.12, wobble_period_s=7.0),
        19.5,
        Fraction(30),
        CameraLook(gain=0.92, bias=6, colour=(1.05, 1.0, 0.95), noise_sigma=2.0, seed=21),
    ),
    "run3": (
        WarpProfile(
            t_ref_start_s=0.2,
            lead_in_s=1.0,
            mean_ratio=0.93,
            wobble=0.15,
            wobble_period_s=9.0,
            stops=((12.0, 1.0),),
        ),
        24.5,
        Fraction(30000, 1001),
        CameraLook(gain=1.05, bias=-4, noise_sigma=2.5, crop=1.02, rotation_deg=0.5, seed=31),
    ),
}


def make_runs(out: Path) -> dict:
    """Render run2.mp4 and run3.mp4 into ``out`` (which holds ref_markers.csv); return the truth."""
    markers = read_markers_csv(out / "ref_markers.csv")
    trail = make_trail("trail")  # the sample reference's trail
    truth: dict = {}
    for name, (profile, duration_s, fps, look) in RUNS.items():
        t_new, t_ref = render_new(
            out / f"{name}.mp4", trail, profile, RenderSpec(duration_s, fps, SIZE, look, crf=31)
        )
        ok = ~np.isnan(t_ref)
        truth[name] = {
            "profile": dict(profile.__dict__),
            "fps": str(fps),
            "markers_t_new_s": {
                m.name: (
                    float(np.interp(m.t_ref_s, t_ref[ok], t_new[ok]))
                    if t_ref[ok][0] <= m.t_ref_s <= t_ref[ok][-1]
                    else None
                )
                for m in markers
            },
        }
    (out / "runs_truth.json").write_text(json.dumps(truth, indent=2, default=list) + "\n")
    return truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "sample_data"))
    truth = make_runs(Path(ap.parse_args().out))
    print("wrote", sorted(truth), "and runs_truth.json")


if __name__ == "__main__":
    main()
