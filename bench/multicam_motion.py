"""Motion sync benchmark: silent cameras rendered watching one action, H.264-encoded.

Pairs at 25 / 30 / 60 fps (mixed), each camera its own angle (perspective warp), start and
sensor noise, a known offset; half of them on one shaking mount. Error in frames of the
faster camera; bar: within 1/4 frame. Different scenes must come out ``ambiguous``.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

RATES = (25, 30, 60)


def bench_motion(
    n_pairs: int, folder: Path, seed0: int = 300, prefix: str = "m", signal: str = "level"
) -> dict:
    """Accuracy on shared-scene pairs and the ``ambiguous`` share on different scenes.

    ``seed0`` picks the scenes (300: the set the methods were tuned on; 400: held out), ``prefix``
    names their cached files, ``signal`` is :class:`MotionParams`'s (``level`` is the default).
    """
    from mtbsync_core.multicam.motion import MotionParams, estimate_motion_pair, read_motion

    prm = MotionParams(signal=signal)
    from mtbsync_core.multicam.synth_motion import ViewSpec, make_scene, write_view

    folder.mkdir(parents=True, exist_ok=True)
    errs, ok, rows, amb = [], 0, [], 0
    for k in range(n_pairs):
        rng = np.random.default_rng(seed0 + k)
        fa, fb = (int(v) for v in rng.choice(RATES, 2))
        shaking, off = bool(k % 2), float(rng.uniform(0.2, 2.5))
        scene = make_scene(seed0 + k, 20.0)
        pa, pb, pc = (folder / f"{prefix}{k:02d}_{s}.mp4" for s in "abc")
        va = ViewSpec(0.0, Fraction(fa), 16.0, rng.uniform(-0.3, 0.3), shaking=shaking, seed=k)
        vb = ViewSpec(off, Fraction(fb), 16.0, rng.uniform(-0.3, 0.3), shaking=shaking, seed=k + 50)
        if not pa.exists():
            write_view(pa, scene, va)
            write_view(pb, scene, vb)
            other = ViewSpec(off, Fraction(fb), 16.0, 0.1, shaking=shaking, seed=k + 90)
            write_view(pc, make_scene(seed0 + 600 + k, 20.0), other)
        ma, mb, mc = read_motion(pa), read_motion(pb), read_motion(pc)
        est = estimate_motion_pair(ma, mb, prm=prm)
        frames = abs(est.offset_s - off) * max(fa, fb)
        rows.append((fa, fb, shaking, est.status, round(frames, 3)))
        if est.status == "ok":
            ok += 1
            errs.append(frames)
        amb += estimate_motion_pair(ma, mc, prm=prm).status == "ambiguous"
    e = np.asarray(errs)
    return {
        "pairs": n_pairs,
        "ok": ok,
        "within_quarter_frame": int(np.sum(e <= 0.25)),
        "err_frames_median": float(np.median(e)) if len(e) else float("nan"),
        "err_frames_max": float(e.max()) if len(e) else float("nan"),
        "different_scenes": n_pairs,
        "different_scenes_ambiguous": amb,
        "cases": rows,
    }
