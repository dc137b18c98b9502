"""Highlights: detection accuracy against known events, and the speed of a 10-minute run.

Truth: :mod:`mtbsync_core.testing.highlights_synth` rides (200 Hz accelerometer and gyro with
chatter, braking bumps, rock strikes and stops; 18 Hz GPS; 8 kHz audio with wind, rattles,
thumps and shouts) placed under the frame clock of the real GoPro file ``max-heromode.mp4``
(its frame intervals repeated). Seeds 0-9 (rides) and 50-54 (quiet rides) were used while
setting the defaults; seeds 1000-1019 and 1500-1509 were not, and are reported beside them.

Baseline, in the same run: a naive free-fall detector (raw |a| < 0.45 g for >= 0.15 s, no
smoothing, no bridging, no landing check, edges at the raw samples).

Speed: a 10-minute MP4 made by repeating the real GoPro footage's packets (stream copy) with the
synthetic ride's audio encoded as AAC; timed: frame times (demux) + audio decode + detection on
the ride's telemetry, against a baseline of reading every packet of the same file once. GPMF
parsing is timed on the real file and scaled to 10 minutes (no GPMF writer here).
"""

from __future__ import annotations

import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from mtbsync_core.highlights import HighlightParams, highlights_from_signals
from mtbsync_core.highlights.labels import Interval, score_events
from mtbsync_core.highlights.motion import runs_of
from mtbsync_core.highlights.signals import accel_g
from mtbsync_core.testing.highlights_synth import synth_ride

GOPRO = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "gopro" / "max-heromode.mp4"
)
TUNE, HELD = tuple(range(10)), tuple(range(1000, 1020))
QUIET_TUNE, QUIET_HELD = tuple(range(50, 55)), tuple(range(1500, 1510))
KINDS = "jump,crash,fast,loud"


def _frame_clock(duration_s: float) -> np.ndarray | None:
    """The real footage's frame times repeated to ``duration_s`` (None without the file)."""
    if not GOPRO.is_file():
        print(f"  ({GOPRO} absent: a plain 29.97 fps clock is used)")
        return None
    from mtbsync_core.multicam import read_pts_table

    d = np.diff(read_pts_table(GOPRO).t_s)
    reps = int(duration_s / d.sum()) + 1
    return np.concatenate([[0.0], np.cumsum(np.tile(d, reps))])[: int(duration_s / d.mean())]


def _naive_air(sig) -> list[Interval]:
    t, a = accel_g(sig)
    out = []
    for s, e in runs_of(a < 0.45):
        if t[e - 1] - t[s] >= 0.15:
            out.append(Interval("air", float(t[s]), float(t[e - 1])))
    return out


def _air(items) -> list[Interval]:
    return [Interval("air", e.start_s, e.end_s) for e in items if e.kind in ("jump", "drop")]


def _shift(items, off: float) -> list[Interval]:
    return [Interval(x.kind, x.start_s + off, x.end_s + off) for x in items]


def _accuracy(seeds, clock, duration_s: float) -> dict:
    labels, found, naive, all_truth, all_found = [], [], [], [], []
    loud_hit = loud_n = loud_found = loud_true = 0
    for seed in seeds:
        ride = synth_ride(
            duration_s, seed, frame_t_s=clock[clock < duration_s] if clock is not None else None
        )
        res = highlights_from_signals(ride.signals, kinds=KINDS)
        off = seed * 10_000.0  # one timeline for all rides so matches cannot cross rides
        all_truth += _shift(ride.truth, off)
        all_found += _shift(res.events, off)
        labels += _shift(_air(ride.truth), off)
        found += _shift(_air(res.events), off)
        naive += _shift(_naive_air(ride.signals), off)
        loud = [e for e in res.events if e.kind == "loud"]
        loud_n += len(ride.loud_s)
        loud_hit += sum(
            any(e.start_s - 0.15 <= t <= e.end_s + 0.15 for e in loud) for t in ride.loud_s
        )
        loud_found += len(loud)
        loud_true += sum(
            any(e.start_s - 0.15 <= t <= e.end_s + 0.15 for t in ride.loud_s) for e in loud
        )
    air = score_events(labels, found, ["air"])["air"]
    base = score_events(labels, naive, ["air"])["air"]
    per = score_events(all_truth, all_found, ["jump", "drop", "crash", "fast"])
    return {
        "rides": len(seeds),
        "air": air.__dict__,
        "air_baseline": base.__dict__,
        "loud": {
            "sounds": loud_n,
            "recall": loud_hit / max(loud_n, 1),
            "found": loud_found,
            "precision": loud_true / max(loud_found, 1),
        },
        **{k: v.__dict__ for k, v in per.items()},
    }


def _quiet(seeds, clock, duration_s: float) -> dict:
    counts, naive = {}, 0
    for seed in seeds:
        ride = synth_ride(
            duration_s,
            seed,
            quiet=True,
            frame_t_s=clock[clock < duration_s] if clock is not None else None,
        )
        res = highlights_from_signals(ride.signals, kinds=KINDS)
        counts[seed] = [f"{e.kind}@{e.start_s:.1f}s ({e.reason})" for e in res.events]
        naive += len(_naive_air(ride.signals))
    return {
        "rides": len(seeds),
        "events": sum(len(v) for v in counts.values()),
        "found": counts,
        "baseline_air_events": naive,
    }


def _long_file(dst: Path, audio: np.ndarray, rate_hz: int, duration_s: float) -> None:
    """The real footage's video packets repeated to ``duration_s`` plus ``audio`` as 48 kHz AAC."""
    with av.open(str(GOPRO)) as ic, av.open(str(dst), "w") as oc:
        vs = ic.streams.video[0]
        ov = oc.add_stream_from_template(vs)
        pkts = [p for p in ic.demux(vs) if p.pts is not None and p.size]

        span = round(read_span(pkts, vs))
        loops = int(duration_s / float(span * vs.time_base)) + 1
        for k in range(loops):
            for p in pkts:
                q = av.Packet(bytes(p))
                q.pts, q.dts, q.is_keyframe = (
                    p.pts + k * span,
                    (p.dts if p.dts is not None else p.pts) + k * span,
                    p.is_keyframe,
                )
                q.time_base, q.stream = vs.time_base, ov
                oc.mux(q)

    # audio in a second pass: PyAV wants every stream added before the first mux
    _add_audio(dst, audio, rate_hz)


def read_span(pkts, vs) -> float:
    pts = sorted(p.pts for p in pkts)
    return pts[-1] - pts[0] + float(np.median(np.diff(pts)))


def _add_audio(dst: Path, audio: np.ndarray, rate_hz: int) -> None:
    tmp = dst.with_name("with_audio.mp4")
    with av.open(str(dst)) as ic, av.open(str(tmp), "w") as oc:
        vs = ic.streams.video[0]
        ov = oc.add_stream_from_template(vs)
        oa = oc.add_stream("aac", rate=48000)
        oa.layout = "mono"
        for p in ic.demux(vs):
            if p.size:
                p.stream = ov
                oc.mux(p)
        up = np.repeat(audio, 48000 // rate_hz).astype(np.float32)
        for s in range(0, len(up), 1024):
            fr = av.AudioFrame.from_ndarray(up[None, s : s + 1024], format="flt", layout="mono")
            fr.sample_rate, fr.pts, fr.time_base = 48000, s, Fraction(1, 48000)
            for p in oa.encode(fr):
                oc.mux(p)
        for p in oa.encode():
            oc.mux(p)
    tmp.replace(dst)


def _speed(duration_s: float = 600.0) -> dict:
    from dataclasses import replace

    from mtbsync_core.gps.read import read_imu, read_track
    from mtbsync_core.highlights.signals import load_signals

    if not GOPRO.is_file():
        return {"skipped": f"{GOPRO} absent"}
    k = max(1, round(duration_s / 300))
    ride = synth_ride(duration_s, 7, jumps=3 * k, drops=k, crashes=k, fast=k)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ten_minutes.mp4"
        _long_file(path, ride.signals.audio, ride.signals.audio_rate_hz, duration_s)
        t0 = time.perf_counter()
        with av.open(str(path)) as c:
            n_pkts = sum(1 for _ in c.demux())
        base = time.perf_counter() - t0
        t0 = time.perf_counter()
        sig = load_signals(path)  # frame times (demux) + audio decode; no GPMF in this file
        s = ride.signals
        sig = replace(
            s, path=str(path), frame_t_s=sig.frame_t_s, audio=sig.audio, audio_t0_s=sig.audio_t0_s
        )
        res = highlights_from_signals(sig, kinds=KINDS)
        total = time.perf_counter() - t0
    t0 = time.perf_counter()
    read_imu(GOPRO)
    read_track(GOPRO)
    gpmf_s = (time.perf_counter() - t0) * duration_s / 10.5
    return {
        "video_s": round(float(sig.frame_t_s[-1]), 1),
        "packets": n_pkts,
        "baseline_read_all_packets_s": round(base, 3),
        "highlights_s": round(total, 3),
        "gpmf_parse_scaled_s": round(gpmf_s, 3),
        "total_s": round(total + gpmf_s, 3),
        "ratio_vs_baseline": round((total + gpmf_s) / base, 2),
        "events": len(res.events),
    }


def _print_acc(name: str, acc: dict) -> None:
    a, b = acc["air"], acc["air_baseline"]
    print(f"  {name}: {acc['rides']} rides")
    print(
        f"    jumps+drops  recall {a['recall']:.3f}  precision {a['precision']:.3f}  airtime err median "
        f"{a['duration_err_median_s'] * 1000:.1f} ms  ({a['true_pos']}/{a['n_labels']}, {a['n_detected']} found)"
    )
    print(
        f"    baseline     recall {b['recall']:.3f}  precision {b['precision']:.3f}  airtime err median "
        f"{b['duration_err_median_s'] * 1000:.1f} ms  ({b['n_detected']} found)"
    )
    ld = acc["loud"]
    print(
        f"    loud (landings, crash noise, shouts): recall {ld['recall']:.3f} of {ld['sounds']} sounds, "
        f"precision {ld['precision']:.3f} of {ld['found']} found"
    )
    for k in ("jump", "drop", "crash", "fast"):
        s = acc[k]
        print(
            f"    {k:<6} (kind must match) recall {s['recall']:.3f}  precision {s['precision']:.3f}  "
            f"start err median {s['start_err_median_s'] * 1000:.0f} ms"
        )


def run(quick: bool = False, tune_only: bool = False) -> dict:
    """Accuracy on tuning and held-out rides, quiet rides, and the 10-minute speed figure."""
    dur = 300.0
    clock = _frame_clock(dur)
    out: dict = {"params": HighlightParams().__dict__}
    tune, held = (TUNE[:3], HELD[:5]) if quick else (TUNE, HELD)
    qt, qh = (QUIET_TUNE[:2], QUIET_HELD[:3]) if quick else (QUIET_TUNE, QUIET_HELD)
    if tune_only:
        held, qh = (), ()
    out["tune"] = _accuracy(tune, clock, dur)
    _print_acc("tuning seeds", out["tune"])
    if held:
        out["held_out"] = _accuracy(held, clock, dur)
        _print_acc("held-out seeds", out["held_out"])
    out["quiet_tune"] = _quiet(qt, clock, dur)
    if qh:
        out["quiet_held_out"] = _quiet(qh, clock, dur)
    for k in ("quiet_tune", "quiet_held_out")[: 2 if qh else 1]:
        q = out[k]
        print(
            f"  {k}: {q['events']} events in {q['rides']} quiet rides of {dur:.0f} s (baseline: "
            f"{q['baseline_air_events']} free falls) "
            + "; ".join(f"seed {s}: {v}" for s, v in q["found"].items() if v)
        )
    out["speed"] = _speed(60.0 if quick else 600.0)
    sp = out["speed"]
    if "skipped" not in sp:
        print(
            f"  speed: {sp['video_s']:.0f} s run: highlights {sp['highlights_s']:.2f} s + GPMF parse "
            f"(scaled) {sp['gpmf_parse_scaled_s']:.2f} s = {sp['total_s']:.2f} s; baseline (read every "
            f"packet once) {sp['baseline_read_all_packets_s']:.2f} s; ratio {sp['ratio_vs_baseline']:.1f}x"
        )
    return out
