"""CLI start-up: ``mtbsync --help`` and a missing-input error must answer in well under 1 s.

Measured as the median wall time of fresh interpreters, against two baselines timed in the
same run: a bare interpreter (``python -c pass``) and one that imports the engine's heavy
libraries (numpy, scipy, OpenCV, PyAV), which is what the CLI paid before its imports were
made lazy.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "heavy imports (old floor)": [
        sys.executable,
        "-c",
        "import numpy, scipy.optimize, scipy.linalg, cv2, av",
    ],
    "mtbsync --help": [sys.executable, "-m", "mtbsync_core.cli", "--help"],
    "mtbsync sync, missing input": [
        sys.executable,
        "-m",
        "mtbsync_core.cli",
        "sync",
        "--reference",
        "/nonexistent/ref.mp4",
        "--new",
        "/nonexistent/new.mp4",
        "--out",
        "/nonexistent/out",
    ],
}


def _median_s(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, cwd=ROOT, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(quick: bool = False) -> dict:
    """Median seconds per case, and each case's ratio to the bare interpreter."""
    runs = 5 if quick else 11
    got = {name: _median_s(cmd, runs) for name, cmd in CASES.items()}
    base = got["python -c pass (baseline)"]
    out = {}
    for name, s in got.items():
        out[name] = {"median_s": round(s, 4), "x_bare_python": round(s / base, 2)}
        print(f"{name:<32} {s * 1000:7.0f} ms   {s / base:5.2f}x bare python", flush=True)
    ok = got["mtbsync sync, missing input"] < 1.0 and got["mtbsync --help"] < 1.0
    print(f"bar: --help and a missing input under 1 s: {'met' if ok else 'NOT met'}")
    out["bar_met"] = ok
    return out
