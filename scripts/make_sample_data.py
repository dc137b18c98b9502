"""Regenerate sample_data/ reproducibly: python scripts/make_sample_data.py [--out sample_data]

Two short runs of one synthetic trail made of real photographs (scikit-image's bundled
pictures), a marker list for the reference run, and the ground truth. See sample_data/PROVENANCE.md.
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
    make_trail,
    render_new,
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
    Marker("berm", 14.6, "yellow", "late apex"),
    Marker("jump", 18.3, "red", "tabletop"),
    Marker("finish", 20.2, "green", "last corner before the line"),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "sample_data"))
    out = Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    trail = make_trail("trail")
    render_reference(out / "ref.mp4", trail, RenderSpec(REF_S, Fraction(30), SIZE, crf=31))
    t_new, t_ref = render_new(
        out / "new.mp4",
        trail,
        PROFILE,
        RenderSpec(NEW_S, Fraction(30000, 1001), SIZE, LOOK, crf=31),
    )
    write_markers_csv(MARKERS, out / "ref_markers.csv", force=True)
    ok = ~np.isnan(t_ref)
    truth = {
        "profile": {k: v for k, v in PROFILE.__dict__.items()},
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
