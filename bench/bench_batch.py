"""Batch: many runs of one trail against one reference, on a process pool and on Dask.

    python -m bench.bench_batch [--runs 8] [--duration 120] [--height 720] [--workers 2] [--pair long_720p]

Renders (once, into bench/.cache/) a reference and ``--runs`` re-timed runs of ``--duration``
seconds with known truth, then measures in the same run:

* the baseline: every run synced alone, one after the other, with the index built once
  (``sync_runs`` in this process), as the batch's workers sync it (one decoder), and beside it
  at default settings (decoding in stretches on every core);
* the batch on the local process pool with ``--workers`` workers (index built once, scattered
  once): its wall time against the sum of single syncs / workers (bar: <= 1.05; the default
  singles' ratio is printed too: it measures how many cores one sync keeps busy, see
  BENCHMARKS.md);
* the same batch on a Dask LocalCluster of ``--workers`` workers: results identical to the
  local pool (marker times and warps within 1e-9 s) and wall time within 10 % of it;
* split times of every run against the truth (bar: every split within one frame).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
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

from .pairs import CACHE

FPS = Fraction(30)


def _profile(i: int, duration_s: float) -> tuple[WarpProfile, CameraLook]:
    rng = np.random.default_rng(100 + i)
    stops = (
        ((float(rng.uniform(0.3, 0.6) * duration_s), float(rng.uniform(1, 3))),)
        if i % 3 == 2
        else ()
    )
    profile = WarpProfile(
        t_ref_start_s=float(rng.uniform(1.0, 3.0)),
        lead_in_s=float(rng.choice([0.0, 2.0])),
        mean_ratio=float(rng.uniform(0.92, 1.08)),
        wobble=float(rng.uniform(0.05, 0.2)),
        wobble_period_s=float(rng.uniform(8, 20)),
        stops=stops,
    )
    look = CameraLook(gain=float(rng.uniform(0.9, 1.1)), noise_sigma=2.0, seed=200 + i)
    return profile, look


def _render_run(args) -> None:
    d, i, duration_s, size = args
    profile, look = _profile(i, duration_s)
    t_new, t_ref = render_new(
        d / f"run{i:02d}.mp4",
        make_trail("trail"),
        profile,
        RenderSpec(duration_s, FPS, size, look, crf=26),
    )
    np.savez(d / f"run{i:02d}_truth.npz", t_new_s=t_new, t_ref_s=t_ref)


def ensure_season(n_runs: int, duration_s: float, height: int, workers: int) -> Path:
    """Render the reference and the runs once (cached by their parameters)."""
    size = (height * 16 // 9 // 2 * 2, height)
    ref_s = duration_s * 1.15 + 6
    d = CACHE / f"batch_{height}p_{duration_s:g}s"
    d.mkdir(parents=True, exist_ok=True)
    if not (d / "ref.mp4").exists():
        render_reference(d / "ref.mp4", make_trail("trail"), RenderSpec(ref_s, FPS, size))
    todo = [
        (d, i, duration_s, size)
        for i in range(n_runs)
        if not (d / f"run{i:02d}_truth.npz").exists()
    ]
    if todo:
        with ProcessPoolExecutor(workers) as ex:
            list(ex.map(_render_run, todo))
    return d


def _cpu_s() -> float:
    """CPU seconds of this process and of its children that have ended (the pool's workers)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def ensure_copies(pair: str, n_runs: int) -> Path:
    """``n_runs`` hard links of a cached benchmark pair's new run (distinct paths, one file's
    content): the same work per run, for a throughput figure without rendering new runs."""
    from .pairs import ensure_pair, pair_by_name

    src = ensure_pair(pair_by_name(pair))
    d = CACHE / f"batch_copies_{pair}"
    d.mkdir(parents=True, exist_ok=True)
    if not (d / "ref.mp4").exists():
        os.link(src["ref"], d / "ref.mp4")
    z = np.load(src["truth"])
    for i in range(n_runs):
        if not (d / f"run{i:02d}.mp4").exists():
            os.link(src["new"], d / f"run{i:02d}.mp4")
        np.savez(d / f"run{i:02d}_truth.npz", t_new_s=z["t_new_s"], t_ref_s=z["t_ref_s"])
    return d


def _remux_from(src: Path, dst: Path, cut_s: float) -> float:
    """Copy ``src``'s video packets from its first keyframe at or after ``cut_s`` into ``dst``
    (no re-encoding; times start at 0 again). Returns the cut's time in ``src`` (seconds)."""
    import av

    tmp = dst.with_name(dst.name + ".part.mp4")
    with av.open(str(src)) as inp, av.open(str(tmp), "w") as out:
        ist = inp.streams.video[0]
        ost = out.add_stream_from_template(ist)
        tb = ist.time_base
        off = None
        for pkt in inp.demux(ist):
            if pkt.dts is None:
                continue
            if off is None:
                if not (pkt.is_keyframe and pkt.pts * tb >= cut_s):
                    continue
                off = pkt.pts
            pkt.pts -= off
            pkt.dts -= off
            pkt.stream = ost
            out.mux(pkt)
    os.replace(tmp, dst)
    return float(off * tb)


def ensure_trimmed(pair: str, n_runs: int, step_s: float = 1.1) -> Path:
    """``n_runs`` distinct files cut from a cached benchmark pair's new run, run ``i`` starting
    at its first keyframe after ``i * step_s`` (a later start, a shorter run: no file shares its
    bytes or its page-cache pages with another), each with its own truth."""
    from .pairs import ensure_pair, pair_by_name

    src = ensure_pair(pair_by_name(pair))
    d = CACHE / f"batch_trimmed_{pair}"
    d.mkdir(parents=True, exist_ok=True)
    if not (d / "ref.mp4").exists():
        shutil.copyfile(src["ref"], d / "ref.mp4.part")
        os.replace(d / "ref.mp4.part", d / "ref.mp4")
    z = np.load(src["truth"])
    for i in range(n_runs):
        if (d / f"run{i:02d}_truth.npz").exists():
            continue
        cut = _remux_from(src["new"], d / f"run{i:02d}.mp4", i * step_s)
        keep = z["t_new_s"] >= cut - 1e-9
        np.savez(
            d / f"run{i:02d}_truth.npz",
            t_new_s=z["t_new_s"][keep] - cut,
            t_ref_s=z["t_ref_s"][keep],
        )
    return d


def _markers(d: Path, n_runs: int):
    """Nine markers spread over the reference time every run covers (1 s in from its ends)."""
    from mtbsync_core.model import Marker

    lo, hi = -math.inf, math.inf
    for i in range(n_runs):
        t_ref = np.load(d / f"run{i:02d}_truth.npz")["t_ref_s"]
        lo, hi = max(lo, float(np.nanmin(t_ref))), min(hi, float(np.nanmax(t_ref)))
    lo, hi = lo + 1.0, hi - 1.0
    return [Marker(f"m{k}", round(lo + k * (hi - lo) / 8, 3)) for k in range(9)]


def _true_splits(d: Path, i: int, markers) -> np.ndarray:
    z = np.load(d / f"run{i:02d}_truth.npz")
    ok = ~np.isnan(z["t_ref_s"])
    t = np.array([np.interp(m.t_ref_s, z["t_ref_s"][ok], z["t_new_s"][ok]) for m in markers])
    return np.diff(t)


def run(quick: bool = False) -> dict:
    """``make bench``: quick, four distinct 30-s 360p runs; full, eight distinct runs cut from
    the 132-s 720p run of pair long_720p (throughput) and eight distinct re-timed 30-s 360p runs (splits)."""
    if quick:
        return {"season_360p": measure(n_runs=4, duration_s=30.0, height=360)}
    return {
        "trimmed_long_720p": measure(n_runs=8, pair="long_720p"),
        "season_360p": measure(n_runs=8, duration_s=30.0, height=360),
    }


def measure(
    n_runs: int | None = None,
    duration_s: float | None = None,
    height: int | None = None,
    workers: int = 2,
    pair: str | None = None,
    repeats: int = 2,
    links: bool = False,
) -> dict:
    from mtbsync_core.batch import DaskExecutor, LocalExecutor, compute_splits, run_batch
    from mtbsync_core.index import build_index
    from mtbsync_core.pipeline import sync_runs
    from mtbsync_core.video.parallel import sequential

    n_runs = n_runs or 8
    duration_s = duration_s or 120.0
    height = height or 720
    t0 = time.perf_counter()
    if pair and links:
        d = ensure_copies(pair, n_runs)
        print(f"runs: {n_runs} hard links to the new run of pair {pair!r}", flush=True)
    elif pair:
        d = ensure_trimmed(pair, n_runs)
        print(f"runs: {n_runs} distinct files cut from the new run of pair {pair!r}", flush=True)
    else:
        d = ensure_season(n_runs, duration_s, height, workers)
        print(
            f"season: {n_runs} runs x {duration_s:g} s at {height}p ({time.perf_counter() - t0:.0f} s to render/check)",
            flush=True,
        )
    runs = [d / f"run{i:02d}.mp4" for i in range(n_runs)]
    markers = _markers(d, n_runs)
    t0 = time.perf_counter()
    index = build_index(d / "ref.mp4")
    index_s = time.perf_counter() - t0
    # Two baselines, alternated run by run so that load hits both: the single sync as the batch's
    # workers run it (one decoder: `video.parallel.sequential()`, the bar's "single-run sync"
    # with the batch's own per-run work), and the single sync at default settings, which decodes
    # in stretches on every core, so that dividing its sum by the workers counts cores twice.
    singles, singles_cpu, singles_default = [], [], []
    for r in runs:
        t0, c0 = time.perf_counter(), _cpu_s()
        with sequential():
            sync_runs(d / "ref.mp4", r, index=index)
        singles.append(time.perf_counter() - t0)
        singles_cpu.append(_cpu_s() - c0)
        t0 = time.perf_counter()
        sync_runs(d / "ref.mp4", r, index=index)
        singles_default.append(time.perf_counter() - t0)
        print(
            f"  single {r.name}: {singles[-1]:.2f} s one decoder ({singles_cpu[-1]:.1f} CPU s), "
            f"{singles_default[-1]:.2f} s in stretches on every core",
            flush=True,
        )
    out = CACHE / "batch_out"
    walls: dict[str, list[float]] = {"local": [], "dask": []}
    batch_index_s: dict[str, list[float]] = {"local": [], "dask": []}
    busy_all: dict[str, list[float]] = {"local": [], "dask": []}
    cpu_all: dict[str, list[float]] = {"local": [], "dask": []}
    results = {}
    for rep in range(repeats):  # alternated, so that a change in the machine's load hits both
        for kind in ("local", "dask"):
            t_start, c_start = time.perf_counter(), _cpu_s()
            ex = LocalExecutor(workers) if kind == "local" else DaskExecutor(workers=workers)
            ready_s = time.perf_counter() - t_start
            try:
                # as `mtbsync batch` runs: the executor is made, then the reference is indexed
                # (once; timed apart, as the singles use a built index), then the runs
                t0, c0 = time.perf_counter(), _cpu_s()
                batch_index = build_index(d / "ref.mp4")
                batch_index_s[kind].append(time.perf_counter() - t0)
                index_cpu_s = _cpu_s() - c0  # not the batch's: left out of its CPU figure
                t0 = time.perf_counter()
                res = run_batch(
                    d / "ref.mp4",
                    runs,
                    markers,
                    out / kind,
                    executor=ex,
                    index=batch_index,
                    force=True,
                )
                walls[kind].append(time.perf_counter() - t0)
            finally:
                ex.shutdown()
            # Dask's worker processes are ours, reaped at shutdown: their CPU time counts. The
            # pool's workers are the fork server's children, which rusage cannot see: left out.
            if kind == "dask":
                cpu_all[kind].append(_cpu_s() - c_start - index_cpu_s)
            results[kind] = res
            busy_all[kind].append(sum(o.elapsed_s for o in res.outcomes))
            print(
                f"  batch {kind} #{rep + 1}: {walls[kind][-1]:.2f} s with {workers} workers "
                f"(+{ready_s:.2f} s to start the executor, +{batch_index_s[kind][-1]:.2f} s to "
                f"index the reference; {index_s:.2f} s alone), load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    all_walls = walls
    walls = {k: float(np.mean(v)) for k, v in all_walls.items()}
    bound = sum(singles) / workers
    # time the runs took inside the workers: wall against it / workers is the batch's own overhead
    busy = {k: float(np.mean(v)) for k, v in busy_all.items()}
    cpu = {k: float(np.mean(v)) for k, v in cpu_all.items() if v}
    loc, dsk = results["local"], results["dask"]
    max_diff = 0.0
    warp_diff = 0.0
    for a, b in zip(loc.outcomes, dsk.outcomes, strict=True):
        assert a.name == b.name
        diff = np.abs(np.array(a.marker_t_new_s) - np.array(b.marker_t_new_s))
        max_diff = max(max_diff, float(np.nanmax(diff)) if np.isfinite(diff).any() else 0.0)
        wa = json.loads((out / "local" / "runs" / a.name / "warp.json").read_text())
        wb = json.loads((out / "dask" / "runs" / b.name / "warp.json").read_text())
        if len(wa["t_ref_s"]) != len(wb["t_ref_s"]):
            warp_diff = math.inf
        else:
            warp_diff = max(
                warp_diff, float(np.max(np.abs(np.subtract(wa["t_ref_s"], wb["t_ref_s"]))))
            )
    split_err = []
    for i, o in enumerate(loc.outcomes):
        s = compute_splits(
            markers, dict(zip([m.t_ref_s for m in markers], o.marker_t_new_s, strict=True))
        )
        split_err.append(np.abs(np.array(s.split_s) - _true_splits(d, i, markers)) * float(FPS))
    errs = np.concatenate(split_err)
    fig = {
        "runs": n_runs,
        "pair": pair, "hard_links": links,
        "index_in_batch_s": {k: [round(x, 2) for x in v] for k, v in batch_index_s.items()},
        "ratio_local_to_bound_each": [round(w / (sum(singles) / workers), 3) for w in all_walls["local"]],
        "load_average": [round(x, 2) for x in os.getloadavg()], "duration_s": duration_s, "height": height, "workers": workers,
        "cores": os.cpu_count(), "index_build_s": round(index_s, 2),
        "single_syncs_s": [round(s, 2) for s in singles], "sum_single_s": round(sum(singles), 2),
        "batch_local_s": round(walls["local"], 2), "batch_dask_s": round(walls["dask"], 2),
        "batch_walls_s": {k: [round(x, 2) for x in v] for k, v in all_walls.items()},
        "single_cpu_s": round(sum(singles_cpu), 1),
        "batch_cpu_s": {k: round(v, 1) for k, v in cpu.items()},
        "ratio_batch_cpu_to_singles": {k: round(v / sum(singles_cpu), 3) for k, v in cpu.items()},
        "ratio_local_to_bound": round(walls["local"] / bound, 3),
        "single_syncs_default_s": [round(s, 2) for s in singles_default],
        "ratio_local_to_default_singles": round(walls["local"] / (sum(singles_default) / workers), 3),
        "ratio_dask_to_local": round(walls["dask"] / walls["local"], 3),
        "worker_busy_s": {k: round(v, 2) for k, v in busy.items()},
        "ratio_local_to_worker_busy": round(walls["local"] / (busy["local"] / workers), 3),
        "ratio_dask_to_worker_busy": round(walls["dask"] / (busy["dask"] / workers), 3),
        "statuses": [o.status for o in loc.outcomes],
        "dask_vs_local_max_marker_diff_s": max_diff, "dask_vs_local_max_warp_diff_s": warp_diff,
        "split_err_frames_max": round(float(np.nanmax(errs)), 3),
        "split_err_frames_median": round(float(np.nanmedian(errs)), 3),
        "splits_within_1_frame": f"{int(np.sum(errs <= 1.0))}/{int(np.sum(np.isfinite(errs)))}",
    }  # fmt: skip
    print(
        f"  batch local {walls['local']:.1f} s vs sum of singles (one decoder, as in the batch) / "
        f"{workers} = {bound:.1f} s: ratio "
        f"{fig['ratio_local_to_bound']} (bar <= 1.05); Dask {walls['dask']:.1f} s: ratio to local "
        f"{fig['ratio_dask_to_local']} (bar 0.9-1.1); Dask vs local: markers {max_diff:.2g} s, warps "
        f"{warp_diff:.2g} s (bar 1e-9); splits vs truth: max {fig['split_err_frames_max']} frame, "
        f"{fig['splits_within_1_frame']} within 1 frame; index built once in {index_s:.1f} s"
    )
    print(
        f"  against single syncs at default settings (stretch decoding on every core, "
        f"{sum(singles_default):.1f} s in all): ratio {fig['ratio_local_to_default_singles']}; "
        f"a single sync then keeps {sum(singles) / max(sum(singles_default), 1e-9):.2f} cores busy "
        f"for the one-decoder sync's work, and the ratio measures that, not the batch"
    )
    print(
        f"  inside the workers the runs took {busy['local']:.1f} s (local) / {busy['dask']:.1f} s (Dask) "
        f"against {sum(singles):.1f} s alone: wall / (busy / workers) = {fig['ratio_local_to_worker_busy']} "
        f"(local), {fig['ratio_dask_to_worker_busy']} (Dask)"
    )
    print(
        f"  CPU: singles {fig['single_cpu_s']} s; the Dask batch, cluster start to stop, "
        f"{fig['batch_cpu_s']['dask']} s: ratio {fig['ratio_batch_cpu_to_singles']['dask']}"
    )
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--duration", type=float, default=120.0)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--pair",
        help="instead of rendering runs, cut distinct runs from this cached pair's new run, "
        "e.g. long_720p (132 s at 720p; the runs are 124-132 s)",
    )
    ap.add_argument(
        "--links",
        action="store_true",
        help="with --pair: hard links to the one new run instead of distinct files cut from it",
    )
    ap.add_argument("--repeats", type=int, default=2, help="batches on each executor, alternated")
    args = ap.parse_args()
    fig = measure(
        n_runs=args.runs,
        duration_s=args.duration,
        height=args.height,
        workers=args.workers,
        pair=args.pair,
        repeats=args.repeats,
        links=args.links,
    )
    print(json.dumps(fig, indent=1))


if __name__ == "__main__":
    main()
