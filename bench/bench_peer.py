"""Side by side with the peer, ``mtbsync`` 0.10.16 from PyPI, at its default settings.

Opt-in (``python -m bench.run --only peer``): it takes minutes per pair. The peer runs from its
own virtual environment, ``bench/.cache/peer-venv`` (make it with
``python -m bench.bench_peer --install``), and needs ``ffmpeg``/``ffprobe`` on the PATH (Debian:
``apt-get install ffmpeg``). Nothing in mtbsync depends on it. Its time map (a straight line,
``t_ref = a * t_new + b``) is scored against the same ground truth as ours.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.bench_align import bench_pair
from bench.pairs import CACHE, ensure_pair, pair_by_name

PEER_VENV = CACHE / "peer-venv"
PEER = PEER_VENV / "bin" / "mtbsync"
PAIRS = ("offset", "nonlinear_25fps")


def install() -> None:
    """Create the peer's own venv and install mtbsync 0.10.16 into it."""
    subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run(
        [str(PEER_VENV / "bin" / "pip"), "install", "-q", "mtbsync==0.10.16"], check=True
    )


def _peer_warp(
    ref: Path, new: Path, work: Path, timeout_s: float
) -> tuple[dict | None, float, str]:
    t0 = time.perf_counter()
    try:
        subprocess.run(
            [str(PEER), "index", "--reference", str(ref), "--out", str(work / "idx.npz")],
            check=True,
            capture_output=True,
            timeout=timeout_s,
            cwd=work,
        )
        subprocess.run(
            [
                str(PEER),
                "sync",
                "--reference",
                str(ref),
                "--new",
                str(new),
                "--index",
                str(work / "idx.npz"),
                "--out",
                str(work / "pairs.csv"),
            ],
            check=True,
            capture_output=True,
            timeout=timeout_s,
            cwd=work,
        )
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - t0, f"timed out after {timeout_s:.0f} s"
    except subprocess.CalledProcessError as err:
        return None, time.perf_counter() - t0, (err.stderr or b"").decode()[-200:]
    dt = time.perf_counter() - t0
    tw = work / "timewarp.json"
    if not tw.exists():
        return None, dt, "no timewarp.json written"
    d = json.loads(tw.read_text())
    return (
        (d if d.get("ok") else None),
        dt,
        "" if d.get("ok") else "time map rejected by its own gate",
    )


def run(quick: bool = False, timeout_s: float = 1800.0) -> dict:
    """Both tools on the same pairs; prints accuracy and time of each."""
    if not PEER.exists() or shutil.which("ffprobe") is None:
        why = (
            "no peer venv (python -m bench.bench_peer --install)"
            if not PEER.exists()
            else "no ffprobe on PATH"
        )
        print(f"peer comparison skipped: {why}")
        return {"skipped": why}
    rows = []
    for name in PAIRS[:1] if quick else PAIRS:
        spec = pair_by_name(name)
        paths = ensure_pair(spec)
        ours = bench_pair(spec, baseline=False)
        with tempfile.TemporaryDirectory() as tmp:
            warp, peer_s, note = _peer_warp(paths["ref"], paths["new"], Path(tmp), timeout_s)
        row = {
            "pair": name,
            "ours_s": ours["index_s"] + ours["sync_s"],
            "ours_median_ms": ours["median_ms"],
            "ours_p95_ms": ours["p95_ms"],
            "peer_s": peer_s,
            "peer_note": note,
        }
        if warp is not None:
            z = np.load(paths["truth"])
            ok = np.isfinite(z["t_ref_s"])
            err = np.abs(
                warp["params"]["a"] * z["t_new_s"][ok] + warp["params"]["b"] - z["t_ref_s"][ok]
            )
            row.update(
                peer_median_ms=1e3 * float(np.median(err)),
                peer_p95_ms=1e3 * float(np.percentile(err, 95)),
                peer_within_1_frame=float(np.mean(err <= 1 / float(spec.new_fps))),
            )
        rows.append(row)
        peer = (
            f"median {row['peer_median_ms']:.1f} ms, p95 {row['peer_p95_ms']:.1f} ms"
            if "peer_median_ms" in row
            else f"no time map ({note})"
        )
        print(
            f"{name:<18} mtbsync_core: median {row['ours_median_ms']:.1f} ms, p95 {row['ours_p95_ms']:.1f} ms in "
            f"{row['ours_s']:.1f} s | peer 0.10.16: {peer} in {peer_s:.0f} s ({peer_s / row['ours_s']:.0f}x)"
        )
    return {"pairs": rows}


if __name__ == "__main__":
    if "--install" in sys.argv:
        install()
    else:
        run(quick="--quick" in sys.argv)
