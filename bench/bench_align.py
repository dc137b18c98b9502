"""Run-to-run alignment: accuracy against ground truth, speed against a plain decode, memory.

For every benchmark pair (bench/pairs.py) the reference is indexed and the new run synced at
default settings. Scored on every new frame inside the overlap that has a truth:
``|warp(t_new) - t_ref_true|``. Baselines measured in the same run:

* speed: one plain PyAV decode (threaded, every frame) of both files;
* accuracy: the same pipeline without sub-frame refinement (descriptor DP path + the same fit),
  i.e. the "plain thumbnail + DP prototype".
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np

from bench.pairs import PAIRS, PairSpec, ensure_pair
from mtbsync_core import NoReliableMatchError, SyncParams, sync_runs
from mtbsync_core.align import AlignParams
from mtbsync_core.markers import transfer_markers
from mtbsync_core.model import Marker

TARGETS = {"median_ms": 10.0, "p95_ms": 40.0, "max_ms": 200.0, "ratio": 0.7}


def plain_decode_s(*paths: Path) -> float:
    """Wall time of a plain PyAV decode (threaded, every frame, no conversion) of each file."""
    return plain_decode(*paths)[0]


def cpu_s() -> float:
    """CPU seconds this process has used so far, every thread (user + system)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def plain_decode(*paths: Path) -> tuple[float, float]:
    """(wall s, CPU s) of a plain PyAV decode (threaded, every frame, no conversion) of each file.

    CPU seconds say what the work costs when other work shares the cores (wall time then says
    how the scheduler shared them)."""
    t0, c0 = time.perf_counter(), cpu_s()
    for p in paths:
        with av.open(str(p)) as c:
            st = c.streams.video[0]
            st.thread_type = "AUTO"
            for _ in c.decode(st):
                pass
    return time.perf_counter() - t0, cpu_s() - c0


def score(warp, truth: dict, fps: float) -> dict:
    """Error statistics of ``warp`` on frames inside its overlap with a truth."""
    tn, tr = truth["t_new_s"], truth["t_ref_s"]
    lo, hi = warp.overlap_new_s
    ok = np.isfinite(tr) & (tn >= lo) & (tn <= hi)
    err = np.abs(warp.to_ref(tn[ok]) - tr[ok])
    lead = ~np.isfinite(tr)
    lead_conf = float(np.max(warp.confidence_at(tn[lead]))) if lead.any() else 0.0
    return {
        "frames": int(ok.sum()),
        "median_ms": 1e3 * float(np.median(err)),
        "p95_ms": 1e3 * float(np.percentile(err, 95)),
        "max_ms": 1e3 * float(err.max()),
        "within_1_frame": float(np.mean(err <= 1.0 / fps)),
        "truth_frames_outside_overlap": int((np.isfinite(tr) & ~ok).sum()),
        "lead_in_max_confidence": lead_conf,
    }


def marker_errors_frames(warp, truth: dict, fps: float) -> float:
    """Worst transferred-marker error in new-run frames, markers every 2.5 s of the reference."""
    tn, tr = truth["t_new_s"], truth["t_ref_s"]
    ok = np.isfinite(tr)
    r0, r1 = float(np.nanmin(warp.t_ref_s)), float(np.nanmax(warp.t_ref_s))
    marks = [Marker(f"m{k}", t) for k, t in enumerate(np.arange(np.ceil(r0) + 0.3, r1 - 0.3, 2.5))]
    worst = 0.0
    tr_ok, tn_ok = tr[ok], tn[ok]
    for m in transfer_markers(marks, warp):
        if (
            m.in_overlap
        ):  # first new frame at which the truth reaches the marker (a stop maps to its start)
            k = int(np.searchsorted(tr_ok, m.t_ref_s, side="left"))
            k = min(max(k, 1), len(tr_ok) - 1)
            true_new = float(np.interp(m.t_ref_s, tr_ok[k - 1 : k + 1], tn_ok[k - 1 : k + 1]))
            worst = max(worst, abs(m.t_new_s - true_new) * fps)
    return worst


def bench_pair(spec: PairSpec, prior=None, refine: bool = True, baseline: bool = True) -> dict:
    """Index + sync one pair at default settings; accuracy, timing, and the plain-decode ratio."""
    paths = ensure_pair(spec)
    truth = dict(np.load(paths["truth"]))
    out: dict = {"pair": spec.name, "what": spec.what}
    if baseline:
        out["plain_decode_s"], out["plain_decode_cpu_s"] = plain_decode(paths["ref"], paths["new"])
    params = SyncParams() if refine else SyncParams(align=AlignParams(refine=False))
    c0 = cpu_s()
    t0 = time.perf_counter()  # index + sync as `mtbsync sync` does it: the index built alongside
    try:
        res = sync_runs(paths["ref"], paths["new"], params=params, prior=prior)
    except NoReliableMatchError as err:
        out.update(status="no_match", message=str(err), sync_s=time.perf_counter() - t0)
        out["index_s"] = err.report["timings_s"].get("index", 0.0)
        out["sync_s"] -= out["index_s"]
        return out
    t2 = time.perf_counter()
    out["cpu_s"] = cpu_s() - c0
    index_s = float(res.report["timings_s"].get("index", 0.0))  # overlaps the new run's decode
    out.update(
        status=res.report["status"],
        index_s=index_s,
        sync_s=t2 - t0 - index_s,
        timings_s=res.report["timings_s"],
    )
    if baseline:
        out["ratio"] = (t2 - t0) / out["plain_decode_s"]
        out["cpu_ratio"] = out["cpu_s"] / out["plain_decode_cpu_s"]
    out["total_s"] = t2 - t0
    fps = float(spec.new_fps)
    out.update(score(res.warp, truth, fps))
    out["marker_max_frames"] = marker_errors_frames(res.warp, truth, fps)
    return out


def _peak_rss_mb(spec_expr: str) -> tuple[float, float]:
    """(peak RSS after imports, peak RSS after index + sync), MB, of a fresh process syncing ``spec_expr``.

    Read from /proc/self/status VmHWM (ru_maxrss would carry the parent's peak across fork).
    """
    code = (
        "from bench.bench_align import MEMORY_SHORT, vm_hwm_mb; from bench.pairs import pair_by_name, ensure_pair; "
        f"from mtbsync_core import sync_runs; p = ensure_pair({spec_expr}); a = vm_hwm_mb(); "
        "sync_runs(p['ref'], p['new']); print(a, vm_hwm_mb())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    a, b = out.stdout.strip().splitlines()[-1].split()
    return float(a), float(b)


def vm_hwm_mb() -> float:
    """This process's peak resident memory in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


MEMORY_SHORT = PairSpec(
    "long_720p_40s",
    40,
    36,
    (1280, 720),
    PAIRS[3].ref_fps,
    PAIRS[3].new_fps,
    dataclasses.replace(PAIRS[3].profile, stops=((20.0, 3.0),)),
    PAIRS[3].look,
    PAIRS[3].new_crf,
    what="the 720p pair cut to 40 s: for cost and memory against duration",
)


def run(quick: bool = False) -> dict:
    """The alignment benchmark; prints a table and returns the figures."""
    names = (
        ("offset", "nonlinear_25fps", "stop_leadin_60fps", "unrelated")
        if quick
        else tuple(p.name for p in PAIRS)
    )
    rows = []
    for spec in PAIRS:
        if spec.name in names:
            rows.append(bench_pair(spec))
    print("\n== run-to-run alignment (default settings; errors on frames inside the overlap) ==")
    print(
        f"{'pair':<20}{'status':<15}{'median ms':>10}{'p95 ms':>9}{'max ms':>9}{'<=1 frame':>10}{'marker fr':>10}"
        f"{'index+sync s':>13}{'plain dec s':>12}{'ratio':>7}{'CPU ratio':>10}"
    )
    for r in rows:
        if "median_ms" in r:
            print(
                f"{r['pair']:<20}{r['status']:<15}{r['median_ms']:>10.1f}{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}"
                f"{r['within_1_frame']:>10.1%}{r['marker_max_frames']:>10.2f}{r['index_s'] + r['sync_s']:>13.2f}"
                f"{r['plain_decode_s']:>12.2f}{r['ratio']:>7.2f}{r['cpu_ratio']:>10.2f}"
            )
        else:
            print(f"{r['pair']:<20}{r['status']:<15}  {r.get('message', '')[:90]}")
    result: dict = {"pairs": rows, "targets": TARGETS}
    ablation = []
    for spec in PAIRS:
        if spec.name in names and not spec.unrelated:
            ablation.append(bench_pair(spec, refine=False, baseline=False))
    print("\n-- baseline: same pipeline without sub-frame refinement (thumbnail DP path + fit) --")
    for a, r in zip(ablation, [r for r in rows if r["pair"] != "unrelated"], strict=True):
        if "median_ms" in a and "median_ms" in r:
            print(
                f"{a['pair']:<20} median {a['median_ms']:6.1f} -> {r['median_ms']:5.1f} ms   p95 {a['p95_ms']:6.1f} -> "
                f"{r['p95_ms']:5.1f} ms   max {a['max_ms']:6.1f} -> {r['max_ms']:5.1f} ms"
            )
    result["no_refinement"] = ablation
    if not quick:
        result["gps_vs_vision"] = _gps_vs_vision()
        result["scaling"] = _scaling(rows)
    return result


def _gps_vs_vision() -> dict:
    from bench.bench_gps import NEW_UTC, REF_UTC
    from mtbsync_core.gps import prior_from_tracks
    from mtbsync_core.gps.synthetic_track import tracks_for_pair
    from mtbsync_core.synthetic import make_trail

    spec = next(p for p in PAIRS if p.name == "long_720p")
    vision = bench_pair(spec, baseline=False)
    tracks = tracks_for_pair(
        make_trail("trail"),
        spec.profile,
        ref_duration_s=spec.ref_s,
        new_duration_s=spec.new_s,
        noise_m=3.0,
        seed=0,
        ref_start_utc=REF_UTC,
        new_start_utc=NEW_UTC,
    )
    t0 = time.perf_counter()  # matching the tracks counts as sync time; making them does not
    prior = prior_from_tracks(
        *tracks,
        ref_clock_offset_s=REF_UTC,
        new_clock_offset_s=NEW_UTC,
        video_duration_ref_s=spec.ref_s,
        video_duration_new_s=spec.new_s,
    )
    prior_s = time.perf_counter() - t0
    with_gps = bench_pair(spec, prior=prior, baseline=False)
    with_gps["sync_s"] += prior_s
    with_gps["prior_s"] = prior_s
    print("\n-- 2-minute pair: GPS prior (1 Hz, 3 m noise) + vision vs vision alone --")
    for label, r in (("vision", vision), ("gps+vision", with_gps)):
        print(
            f"{label:<12} median {r['median_ms']:5.1f} ms  p95 {r['p95_ms']:5.1f} ms  max {r['max_ms']:6.1f} ms  "
            f"sync {r['sync_s']:5.2f} s (index {r['index_s']:.2f} s)"
        )
    return {"vision": vision, "gps_vision": with_gps}


def _scaling(rows: list[dict]) -> dict:
    long = next(r for r in rows if r["pair"] == "long_720p")
    short = bench_pair(MEMORY_SHORT)
    mem_short = _peak_rss_mb("MEMORY_SHORT")
    mem_long = _peak_rss_mb("pair_by_name('long_720p')")
    dur_s, dur_l = MEMORY_SHORT.ref_s + MEMORY_SHORT.new_s, 150 + 132
    per_s_short = (short["index_s"] + short["sync_s"]) / dur_s
    per_s_long = (long["index_s"] + long["sync_s"]) / dur_l
    print("\n-- cost and memory against duration (720p) --")
    for label, r, per_s, (m0, m1) in (
        ("40 s pair ", short, per_s_short, mem_short),
        ("150 s pair", long, per_s_long, mem_long),
    ):
        print(
            f"{label}: {r['index_s'] + r['sync_s']:.2f} s ({1e3 * per_s:.1f} ms per video second); peak RSS {m1:.0f} MB, "
            f"{m1 - m0:.0f} MB above the imports"
        )
    return {
        "short": short,
        "ms_per_video_s_short": 1e3 * per_s_short,
        "ms_per_video_s_long": 1e3 * per_s_long,
        "peak_rss_mb_short": mem_short,
        "peak_rss_mb_long": mem_long,
    }


def _speed_paths(name: str) -> dict[str, Path]:
    if name in {p.name for p in PAIRS}:
        return ensure_pair(next(p for p in PAIRS if p.name == name))
    from bench.pairs_world import ensure_world_pair

    return ensure_world_pair(name)


@contextlib.contextmanager
def _decoding(variant: str):
    """``sequential``: one frame-threaded decoder a file, checks one at a time; ``threaded``: that
    and the frame-pair checks on every core; ``stretches`` (sync's default since the third
    session): each file sampled in stretches on every core (mtbsync_core.video.parallel)."""
    from mtbsync_core import features
    from mtbsync_core.video import parallel

    saved = (parallel.ENABLED, features.CHECK_THREADS)
    parallel.ENABLED = variant == "stretches"
    if variant == "threaded":
        features.CHECK_THREADS = 0
    try:
        yield
    finally:
        parallel.ENABLED, features.CHECK_THREADS = saved


def speed_ab(
    names: tuple[str, ...] = ("long_720p", "long_gop_x264"),
    repeats: int = 3,
    variants: tuple[str, ...] = ("sequential", "threaded", "stretches"),
) -> list[dict]:
    """Index+sync / plain decode for each decoding variant (see :func:`_decoding`), in the same
    run as its baseline, ``repeats`` times (variants in rotating order); the warps must be
    identical across variants (the variants change where work runs, not what it computes)."""
    rows = []
    for name in names:
        paths = _speed_paths(name)
        if paths is None:
            continue
        first = None
        for rep in range(repeats):
            load = os.getloadavg()[0]
            plain, plain_cpu = plain_decode(paths["ref"], paths["new"])
            row = {"pair": name, "repeat": rep + 1, "load_1min": round(load, 1), "plain_s": plain}
            row["plain_cpu_s"] = plain_cpu
            k = rep % len(variants)
            for v in variants[k:] + variants[:k]:
                with _decoding(v):
                    t0, c0 = time.perf_counter(), cpu_s()
                    res = sync_runs(paths["ref"], paths["new"])
                    row[f"{v}_s"] = time.perf_counter() - t0
                    row[f"{v}_cpu_s"] = cpu_s() - c0
                row[f"{v}_ratio"] = row[f"{v}_s"] / plain
                row[f"{v}_cpu_ratio"] = row[f"{v}_cpu_s"] / plain_cpu
                warp = (res.warp.t_new_s, res.warp.t_ref_s, res.warp.confidence)
                first = first or warp
                row[f"{v}_identical"] = all(
                    np.array_equal(a, b) for a, b in zip(first, warp, strict=True)
                )
            rows.append(row)
            print(
                f"{name} #{rep + 1} (load {load:.1f}): plain decode {plain:.2f} s "
                f"({plain_cpu:.2f} CPU s); "
                + "; ".join(
                    f"{v} {row[f'{v}_s']:.2f} s = {row[f'{v}_ratio']:.3f}"
                    f" (CPU {row[f'{v}_cpu_s']:.2f} s = {row[f'{v}_cpu_ratio']:.3f})"
                    + ("" if row[f"{v}_identical"] else " (warp DIFFERS)")
                    for v in variants
                ),
                flush=True,
            )
    return rows


if __name__ == "__main__":
    if "--speed-ab" in sys.argv:  # python -m bench.bench_align --speed-ab [repeats]
        extra = [a for a in sys.argv[1:] if a.isdigit()]
        speed_ab(repeats=int(extra[0]) if extra else 3)
    else:
        print(json.dumps(run(quick="--quick" in sys.argv), indent=1, default=str)[:2000])
