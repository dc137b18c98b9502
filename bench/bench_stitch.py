"""Stitching: damage recovery with truth, the damage detector per kind, and speed.

Footage: the real GoPro samples in ``../shared/data/gopro/`` (skipped with a reason when
absent). ``karma.mp4`` (HERO5, 854x480) is the footage the detector's thresholds were tuned on;
``max-heromode.mp4`` (GoPro MAX, 848x480) was not looked at while tuning: it is reported beside
as held-out.

Damage: three copies of the footage, each with independent simulated damage
(:mod:`mtbsync_core.testing.damage`) of one kind at 2 %, 10 % and 30 % of frames, plus all kinds
mixed. Copies are lossless (H.264 at qp 0) so that "the output frame is the clean source frame" is
exact; the stitch writes decisions only and the output frame is read from the chosen copy (the
lossless write itself is checked bit for bit by the integration tests).
Measured: the share of output frames identical to the source wherever at least one copy is clean
(bar: >= 99.5 %), and the detector's precision and recall per damage kind over every (copy,
frame) that is present (bar: >= 0.95 each). For ``drop`` the frame is absent; the figure is the
share of dropped frames the stitch knew were absent from that copy.

Speed: three H.264 copies of a 720p recording (karma upscaled to 1280x720 and played forward
and back to the length asked), 10 % mixed damage. Baseline, same run: decoding the three copies
with PyAV (threaded, every frame), which any stitch must do. Ratio = stitch / baseline (bar: <=
1.5), wall and CPU time, for the decisions alone (``--no-video``), the default FFV1 output and
H.264 output. The machine is shared: the baseline is decoded again at the end to show the drift.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import av
import numpy as np

from mtbsync_core.stitch import stitch_recordings
from mtbsync_core.testing.damage import KINDS, damage_copy, read_yuv_frames, write_copy

GOPRO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gopro"
RATES = (0.02, 0.10, 0.30)
SOURCES = {"karma.mp4": "tuned", "max-heromode.mp4": "held-out"}


def _score(frames, copies, res) -> dict:
    # The output frame j is the chosen copy's decoded frame, written losslessly (bit-exactness
    # of that write is checked by tests/integration/test_stitch.py); reading the copies' frames
    # in memory instead of decoding the output keeps this benchmark affordable.
    truths = [c.truth for c in copies]
    ok = total = 0
    tp, fp, fn = Counter(), Counter(), Counter()
    drop_found = drop_total = 0
    for j, n in enumerate(res.frame_number):
        if any(t[n] == "" for t in truths):
            total += 1
            chosen = copies[int(res.source_copy[j])].frames[n]
            ok += bool(chosen is not None and np.array_equal(chosen, frames[n]))
        for ci, t in enumerate(truths):
            if t[n] == "drop":
                drop_total += 1
                drop_found += not res.present[j, ci]
                continue
            pred = bool(res.damaged[j, ci])
            if t[n] and pred:
                tp[t[n]] += 1
            elif t[n]:
                fn[t[n]] += 1
            elif pred:
                fp["clean"] += 1
    return {
        "identical_pct": 100.0 * ok / max(1, total),
        "frames_with_a_clean_copy": total,
        "tp": dict(tp),
        "fn": dict(fn),
        "fp": fp["clean"],
        "drop_found": drop_found,
        "drop_total": drop_total,
    }


def _damage_case(frames, fps, kinds, rate, seed, work: Path) -> dict:
    copies = [damage_copy(frames, kinds, rate, seed=seed * 10 + i) for i in range(3)]
    paths = []
    for i, c in enumerate(copies):
        paths.append(work / f"c{i}.mkv")
        write_copy(paths[-1], c.frames, fps, codec="x264-lossless")
    shutil.rmtree(work / "out", ignore_errors=True)
    res = stitch_recordings(paths, work / "out", codec=None)
    return _score(frames, copies, res)


def _prf(cases: list[dict], kind: str) -> tuple[float, float, int]:
    tp = sum(c["tp"].get(kind, 0) for c in cases)
    fn = sum(c["fn"].get(kind, 0) for c in cases)
    fp = sum(c["fp"] for c in cases)
    return tp / max(1, tp + fp), tp / max(1, tp + fn), tp + fn


def run_damage(quick: bool = False) -> dict:
    n = 90 if quick else 150
    results: dict = {}
    work = Path(tempfile.mkdtemp(prefix="bench-stitch-"))
    try:
        for name, role in SOURCES.items():
            path = GOPRO / name
            if not path.exists():
                print(f"skipping {name}: {path} is absent")
                continue
            frames, fps = read_yuv_frames(path, n)
            print(f"\n{name} ({role}), {len(frames)} frames, 3 lossless copies")
            print(
                f"{'kind':<8} {'rate':>5} {'identical':>10} {'precision':>10} {'recall':>8} {'damaged':>8}"
            )
            per: dict = {}
            for kind in [*[k for k in KINDS], "mixed"]:
                kinds = KINDS if kind == "mixed" else (kind,)
                for rate in RATES:
                    case = _damage_case(frames, fps, kinds, rate, int(rate * 100), work)
                    per[f"{kind}@{rate:.2f}"] = case
                    if kind == "drop":
                        p = r = case["drop_found"] / max(1, case["drop_total"])
                        m = case["drop_total"]
                        p = 1.0 - case["fp"] / max(1, case["fp"] + case["drop_found"])
                    elif kind == "mixed":
                        tp = sum(case["tp"].values())
                        fn = sum(case["fn"].values())
                        p, r, m = tp / max(1, tp + case["fp"]), tp / max(1, tp + fn), tp + fn
                    else:
                        p, r, m = _prf([case], kind)
                    case.update(precision=p, recall=r)
                    print(
                        f"{kind:<8} {rate:>5.2f} {case['identical_pct']:>9.2f}% {p:>10.3f} {r:>8.3f} {m:>8d}"
                    )
            worst = min(c["identical_pct"] for c in per.values())
            print(f"worst identical share: {worst:.2f}% (bar >= 99.5 %)")
            results[name] = {
                "role": role,
                "frames": len(frames),
                "cases": per,
                "worst_identical_pct": worst,
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def _speed_source(seconds: float, work: Path) -> tuple[list[np.ndarray], object]:
    frames, fps = read_yuv_frames(GOPRO / "karma.mp4")
    seq = frames + frames[::-1]
    want = int(seconds * float(fps))
    seq = (seq * (want // len(seq) + 1))[:want]
    out = []
    for f in seq:
        vf = av.VideoFrame.from_ndarray(f, format="yuv420p").reformat(width=1280, height=720)
        out.append(vf.to_ndarray())
    return out, fps


def _decode_all(paths: list[Path]) -> int:
    n = 0
    for p in paths:
        with av.open(str(p)) as c:
            st = c.streams.video[0]
            st.thread_type = "AUTO"
            for _ in c.decode(st):
                n += 1
    return n


def _timed(fn) -> tuple[float, float]:
    """Wall and CPU seconds (this process, every thread) of ``fn()``."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def run_speed(quick: bool = False) -> dict:
    if not (GOPRO / "karma.mp4").exists():
        print("skipping speed: the GoPro sample is absent")
        return {"skipped": "no GoPro sample"}
    seconds = 10.0 if quick else 30.0
    work = Path(tempfile.mkdtemp(prefix="bench-stitch-speed-"))
    try:
        frames, fps = _speed_source(seconds, work)
        paths = []
        for i in range(3):
            c = damage_copy(frames, KINDS, 0.10, seed=100 + i)
            paths.append(work / f"c{i}.mp4")
            write_copy(paths[-1], c.frames, fps, codec="libx264")
        del frames
        out: dict = {"seconds": seconds, "size": "1280x720", "copies": 3}
        base, base_cpu = _timed(lambda: _decode_all(paths))
        out.update(decode_three_s=base, decode_three_cpu_s=base_cpu)
        print(
            f"\nspeed: 3 H.264 copies of {seconds:.0f} s 1280x720: decode {base:.2f} s wall, {base_cpu:.2f} s CPU"
        )
        for codec in (None, "ffv1", "h264"):
            label = codec or "no-video"
            dt, cpu = _timed(
                lambda c=codec, lb=label: stitch_recordings(paths, work / f"out-{lb}", codec=c)
            )
            out[f"stitch_{label}_s"], out[f"stitch_{label}_cpu_s"] = dt, cpu
            out[f"ratio_{label}"], out[f"ratio_{label}_cpu"] = dt / base, cpu / base_cpu
            print(
                f"  stitch -> {label:<8}: {dt:6.2f} s wall = {dt / base:.2f} x the decode; CPU {cpu / base_cpu:.2f} x (bar <= 1.5)"
            )
        again, _ = _timed(lambda: _decode_all(paths))
        out["decode_three_again_s"] = again
        print(f"  decode again (contention check): {again:.2f} s")
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(quick: bool = False) -> dict:
    """Every stitch figure (``python -m bench.run --only stitch``)."""
    return {"damage": run_damage(quick), "speed": run_speed(quick)}


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
