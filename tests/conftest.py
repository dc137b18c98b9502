"""Shared fixtures: small real runs with a known warp, encoded once per session.

Each run is rendered from real photographs by :mod:`mtbsync_core.synthetic` and encoded with
H.264, so the truth ``t_new -> t_ref`` is known for every frame. Kept small (320x180, <= 14 s).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# A test run must not land or fail on a random draw: property tests replay the same examples
# every run (Hypothesis' advice for CI), wherever `make test` runs. HYPOTHESIS_EXPLORE=1 lets
# them search new ones (what a developer does before changing a tested function).
settings.register_profile("ci", derandomize=True, print_blob=True)
if not os.environ.get("HYPOTHESIS_EXPLORE"):
    settings.load_profile("ci")

RUN_SIZE = (320, 180)


@dataclass(frozen=True)
class Run:
    """An encoded new run and its truth (``t_ref_s`` NaN where the footage is unrelated)."""

    path: Path
    t_new_s: np.ndarray
    t_ref_s: np.ndarray


@dataclass(frozen=True)
class Runs:
    """A reference run, new runs of the same trail, and an unrelated video."""

    ref: Path
    offset: Run  # starts 3 s into the reference, same pace
    leadin_stop: Run  # 2 s of unrelated footage, joins at t_ref 1 s, stops 2 s at t_new 5 s
    other: Path  # a different trail (other photographs)


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Encode the runs once for the session (about 2 s of CPU)."""
    from mtbsync_core.synthetic import (
        RenderSpec,
        WarpProfile,
        make_trail,
        render_new,
        render_reference,
    )

    d = tmp_path_factory.mktemp("runs")
    trail = make_trail("trail")
    other = make_trail("other")
    spec = RenderSpec(duration_s=14.0, fps=Fraction(30), size=RUN_SIZE)
    render_reference(d / "ref.mp4", trail, spec)
    t_new, t_ref = render_new(
        d / "offset.mp4",
        trail,
        WarpProfile(t_ref_start_s=3.0),
        RenderSpec(duration_s=8.0, fps=Fraction(30), size=RUN_SIZE),
        other=other,
    )
    offset = Run(d / "offset.mp4", t_new, t_ref)
    profile = WarpProfile(t_ref_start_s=1.0, lead_in_s=2.0, stops=((5.0, 2.0),))
    t_new, t_ref = render_new(
        d / "leadin_stop.mp4",
        trail,
        profile,
        RenderSpec(duration_s=10.0, fps=Fraction(30), size=RUN_SIZE),
        other=other,
    )
    leadin_stop = Run(d / "leadin_stop.mp4", t_new, t_ref)
    render_reference(
        d / "other.mp4", other, RenderSpec(duration_s=6.0, fps=Fraction(30), size=RUN_SIZE)
    )
    return Runs(d / "ref.mp4", offset, leadin_stop, d / "other.mp4")
