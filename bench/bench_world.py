"""World benchmark (issue "Alignment on real repeated runs"): every pair of bench/pairs_world.py
indexed and synced at default settings, scored against its exact truth and the issue's bars.

    python -m bench.bench_world [names or groups...]    # all pairs by default
    python -m bench.bench_world pace_band_s=0.3 real_season   # AlignParams overrides (opt-ins)
    python -m bench.run --only world

Per pair: the decision (ok / low_confidence / no_match), the share of new frames with a truth
that the warp places within 1 and 2 frames (frame = 1 / new fps; a frame outside the warp's
overlap counts as a miss), median / p95 / max error on frames inside the overlap, the worst
transferred marker in frames, the lead-in's max confidence, ``confident_wrong`` (new frames more
than one frame off, or with no truth at all, whose confidence is >= the review threshold 0.6),
the max confidence of any frame (what matters for unrelated pairs), and index+sync / plain decode
for the long pairs. Results go to bench/results/world.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from bench.bench_align import marker_errors_frames, plain_decode_s, score
from bench.pairs_world import GROUPS, LONG_PAIRS, WORLD_PAIRS, WorldPair
from mtbsync_core import NoReliableMatchError, SyncParams, sync_runs
from mtbsync_core.errors import FeaturelessVideoError

REVIEW = 0.6  # the review threshold: a frame at or above it is shown as trusted
BARS = {
    "real_season": "within 1 frame >= 90 % and never no_match",
    "parallax": "median <= 15 ms, p95 <= 60 ms, within 1 frame >= 95 %",
    "real_mount": "median <= 10 ms, p95 <= 40 ms, 0 confident_wrong",
    "long_gop": "median <= 15 ms, p95 <= 60 ms, within 1 frame >= 95 %",
    "unrelated": "all no_match and max confidence < 0.6",
    "speed": "index+sync / plain decode <= 0.6 on the long pairs",
}
QUICK = ("nordland_short", "karma_mount_a", "parallax_line", "unrel_parallax_photos")


def bench_world_pair(pair: WorldPair, params: SyncParams | None = None) -> dict:
    """Index + sync one world pair (default settings unless ``params``); figures against its
    truth."""
    out: dict = {
        "pair": pair.name,
        "group": pair.group,
        "held_out": pair.held_out,
        "what": pair.what,
    }
    paths = pair.ensure()
    if paths is None:
        out.update(decision="skipped", message=pair.missing())
        return out
    truth = dict(np.load(paths["truth"]))
    tn, tr = truth["t_new_s"], truth["t_ref_s"]
    fps = 1.0 / float(np.median(np.diff(tn))) if len(tn) > 1 else 30.0
    out["new_fps"] = fps
    if pair.name in LONG_PAIRS:
        out["plain_decode_s"] = plain_decode_s(paths["ref"], paths["new"])
    params = params or SyncParams()
    t0 = time.perf_counter()  # index + sync as `mtbsync sync` does it (index built alongside)
    try:
        res = sync_runs(paths["ref"], paths["new"], params=params)
    except (NoReliableMatchError, FeaturelessVideoError) as err:  # both are refusals: no_match
        out.update(
            decision="no_match",
            message=f"{err.__class__.__name__}: {str(err)[:200]}",
            seconds=time.perf_counter() - t0,
        )
        out["max_confidence"] = 0.0
        out["confident_wrong"] = 0
        return out
    t2 = time.perf_counter()
    warp = res.warp
    index_s = float(res.report["timings_s"].get("index", 0.0))
    out.update(
        decision=res.report["status"], index_s=index_s, sync_s=t2 - t0 - index_s, seconds=t2 - t0
    )
    if "plain_decode_s" in out:
        out["ratio"] = (t2 - t0) / out["plain_decode_s"]
    conf = np.asarray(warp.confidence_at(tn), np.float64)
    out["max_confidence"] = float(conf.max(initial=0.0))
    has = np.isfinite(tr)
    mapped = np.asarray(warp.to_ref(tn), np.float64)
    err = np.abs(mapped - tr)  # NaN outside the overlap or without a truth
    wrong = np.where(has, ~(err <= 1.0 / fps), True)
    out["confident_wrong"] = int(np.sum(wrong & (conf >= REVIEW)))
    lead = ~has
    out["lead_in_max_confidence"] = float(conf[lead].max()) if lead.any() else 0.0
    if has.any():
        out["within_1_frame"] = float(np.mean(err[has] <= 1.0 / fps))
        out["within_2_frames"] = float(np.mean(err[has] <= 2.0 / fps))
        lo, hi = warp.overlap_new_s
        if np.any(has & (tn >= lo) & (tn <= hi)):
            s = score(warp, truth, fps)
            out.update(
                {
                    k: s[k]
                    for k in (
                        "frames",
                        "median_ms",
                        "p95_ms",
                        "max_ms",
                        "truth_frames_outside_overlap",
                    )
                }
            )
            out["within_1_frame_in_overlap"] = s["within_1_frame"]
            out["marker_max_frames"] = marker_errors_frames(warp, truth, fps)
    return out


def _fmt(v, spec: str, width: int) -> str:
    return f"{v:{width}{spec}}" if isinstance(v, int | float) else f"{'-':>{width}}"


def _pct(r: dict, key: str) -> str:
    return _fmt(100 * r[key], ".1f", 6) + "%" if key in r else _fmt(None, "", 7)


def print_table(rows: list[dict]) -> None:
    """One line per pair."""
    print(
        f"\n{'pair':<31}{'group':<12}{'held':<5}{'decision':<15}{'<=1fr':>7}{'<=2fr':>7}{'med ms':>8}"
        f"{'p95 ms':>8}{'max ms':>9}{'mark fr':>8}{'lead c':>7}{'c_wrong':>8}{'max c':>6}{'ratio':>6}"
    )
    for r in rows:
        if r["decision"] == "skipped":
            print(
                f"{r['pair']:<31}{r['group']:<12}{'y' if r['held_out'] else '':<5}skipped: {r['message']}"
            )
            continue
        print(
            f"{r['pair']:<31}{r['group']:<12}{'y' if r['held_out'] else '':<5}{r['decision']:<15}"
            f"{_pct(r, 'within_1_frame')}{_pct(r, 'within_2_frames')}{_fmt(r.get('median_ms'), '.1f', 8)}"
            f"{_fmt(r.get('p95_ms'), '.1f', 8)}{_fmt(r.get('max_ms'), '.0f', 9)}"
            f"{_fmt(r.get('marker_max_frames'), '.1f', 8)}{_fmt(r.get('lead_in_max_confidence'), '.2f', 7)}"
            f"{_fmt(r.get('confident_wrong'), 'd', 8)}{_fmt(r.get('max_confidence'), '.2f', 6)}"
            f"{_fmt(r.get('ratio'), '.2f', 6)}"
        )


def _accuracy_ok(r: dict, med: float, p95: float, w1: float | None) -> bool:
    if r["decision"] == "no_match" or "median_ms" not in r:
        return False
    ok = r["median_ms"] <= med and r["p95_ms"] <= p95
    return ok and (w1 is None or r.get("within_1_frame", 0.0) >= w1)


def verdicts(rows: list[dict]) -> dict[str, dict]:
    """PASS/FAIL per group against the issue's bars (skipped pairs are not counted)."""
    done = [r for r in rows if r["decision"] != "skipped"]
    out: dict[str, dict] = {}
    for g in GROUPS:
        rs = [r for r in done if r["group"] == g]
        if not rs:
            continue
        if g == "real_season":
            bad = [
                r["pair"]
                for r in rs
                if r["decision"] == "no_match" or r.get("within_1_frame", 0) < 0.9
            ]
        elif g in ("parallax", "long_gop"):
            bad = [r["pair"] for r in rs if not _accuracy_ok(r, 15.0, 60.0, 0.95)]
        elif g == "real_mount":
            bad = [
                r["pair"]
                for r in rs
                if not _accuracy_ok(r, 10.0, 40.0, None) or r["confident_wrong"] > 0
            ]
        else:
            bad = [
                r["pair"]
                for r in rs
                if r["decision"] != "no_match" or r["max_confidence"] >= REVIEW
            ]
        out[g] = {"pass": not bad, "failing": bad, "pairs": len(rs), "bar": BARS[g]}
    speed = [r for r in done if "ratio" in r]
    if speed:
        bad = [r["pair"] for r in speed if r["ratio"] > 0.6]
        out["speed"] = {"pass": not bad, "failing": bad, "pairs": len(speed), "bar": BARS["speed"]}
    return out


def align_overrides(args: list[str]) -> dict[str, float]:
    """``name=value`` arguments as AlignParams overrides (numbers), e.g. ``pace_band_s=0.3``."""
    from mtbsync_core.align import AlignParams

    known = AlignParams()
    out = {}
    for a in args:
        name, _, value = a.partition("=")
        if not hasattr(known, name):
            raise SystemExit(f"bench_world: {name!r} is not an AlignParams field")
        kind = type(getattr(known, name))
        if kind is bool:  # bool("0") is True: read the words a person types
            if value.lower() not in ("0", "1", "false", "true", "off", "on", "no", "yes"):
                raise SystemExit(f"bench_world: {name}={value!r}: give 0/1, true/false or on/off")
            out[name] = value.lower() in ("1", "true", "on", "yes")
        else:
            out[name] = kind(value)
    return out


def run(
    quick: bool = False, names: tuple[str, ...] = (), align: dict[str, float] | None = None
) -> dict:
    """The world benchmark; prints the table and the verdicts, writes bench/results/world.json
    (world_custom.json when ``align`` overrides AlignParams defaults)."""
    from dataclasses import replace

    wanted = names or (QUICK if quick else ())
    params = SyncParams()
    if align:
        params = replace(params, align=replace(params.align, **align))
    rows = []
    for pair in WORLD_PAIRS:
        if wanted and pair.name not in wanted and pair.group not in wanted:
            continue
        t0 = time.perf_counter()
        r = bench_world_pair(pair, params)
        print(f"  {pair.name}: {r['decision']} ({time.perf_counter() - t0:.1f} s)", flush=True)
        rows.append(r)
    settings = ", ".join(f"{k}={v}" for k, v in (align or {}).items()) or "default settings"
    print(f"\n== world pairs: {settings}; <=1fr/<=2fr over every new frame with a truth ==")
    print_table(rows)
    v = verdicts(rows)
    print("\n-- the issue's bars (held-out pairs count too; nobody tunes on them) --")
    for g, x in v.items():
        tail = f"  failing: {', '.join(x['failing'])}" if x["failing"] else ""
        print(f"{g:<12} {'PASS' if x['pass'] else 'FAIL'}  ({x['pairs']} pairs) {x['bar']}{tail}")
    result = {"pairs": rows, "verdicts": v, "bars": BARS}
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    result["align_overrides"] = align or {}
    name = "world_custom.json" if align else "world.json"
    (out / name).write_text(json.dumps(result, indent=1, default=str))
    return result


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    run(
        names=tuple(a for a in args if "=" not in a),
        quick="--quick" in sys.argv,
        align=align_overrides([a for a in args if "=" in a]),
    )
