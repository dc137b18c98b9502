"""Where a world pair's misses are: every new frame more than one frame off its truth (or outside
the warp's overlap), in runs, each run put in the first kind that fits it.

    python -m bench.world_misses nordland_full [more pairs] [name=value AlignParams overrides]

Kinds: ``both stopped`` (its true reference frame lies in a stretch of near-identical reference
frames, where the picture cannot say which of them is meant), ``outside`` (the warp does not
reach the frame), ``new-run stop`` (the new run holds one frame for a second or more), and
``moving`` (everything else: a look-alike stretch or a path that lags). Prints the runs and a
share per kind; nothing is written.
"""

from __future__ import annotations

import sys
from dataclasses import replace

import av
import numpy as np

from bench.bench_world import align_overrides
from bench.pairs_world import world_pair
from mtbsync_core import SyncParams, sync_runs


def still_frames(path, size: tuple[int, int] = (64, 32), share: float = 0.25) -> np.ndarray:
    """True for each frame of the video at ``path`` that differs from a neighbour by less than
    ``share`` of the video's median frame-to-frame change (mean absolute grey difference)."""
    with av.open(str(path)) as c:
        grey = np.stack(
            [
                f.to_ndarray(format="gray", width=size[0], height=size[1]).astype(np.float32)
                for f in c.decode(video=0)
            ]
        )
    step = np.abs(np.diff(grey, axis=0)).mean(axis=(1, 2))
    quiet = step < share * np.median(step)
    out = np.zeros(len(grey), bool)
    out[:-1] |= quiet
    out[1:] |= quiet
    return out


def miss_kinds(t_new_s, t_ref_true_s, mapped_s, ref_still, ref_fps: float) -> np.ndarray:
    """Per new frame: '' (within one frame) or the kind of its miss (see the module doc)."""
    frame_s = float(np.median(np.diff(t_new_s)))
    err = np.abs(mapped_s - t_ref_true_s)
    kinds = np.full(len(t_new_s), "", dtype=object)
    miss = ~(err <= frame_s)
    run = np.concatenate([[0], np.cumsum(np.diff(t_ref_true_s) != 0)])
    held = np.bincount(run)[run] * frame_s >= 1.0
    k_ref = np.clip(np.round(t_ref_true_s * ref_fps).astype(int), 0, len(ref_still) - 1)
    for kind, where in (
        ("both stopped", ref_still[k_ref]),
        ("outside", np.isnan(mapped_s)),
        ("new-run stop", held),
        ("moving", np.ones(len(t_new_s), bool)),
    ):
        kinds[miss & (kinds == "") & where] = kind
    return kinds


def report_pair(name: str, params: SyncParams) -> None:
    """Sync the pair, print its runs of misses and the share of each kind."""
    paths = world_pair(name).ensure()
    if paths is None:
        return
    truth = dict(np.load(paths["truth"]))
    has = np.isfinite(truth["t_ref_s"])  # a lead-in has no truth: not scored, as in bench_world
    tn, tr = truth["t_new_s"][has], truth["t_ref_s"][has]
    res = sync_runs(paths["ref"], paths["new"], params=params)
    mapped = np.asarray(res.warp.to_ref(tn), np.float64)
    with av.open(str(paths["ref"])) as c:
        ref_fps = float(c.streams.video[0].average_rate)
    kinds = miss_kinds(tn, tr, mapped, still_frames(paths["ref"]), ref_fps)
    n = len(tn)
    print(f"\n== {name}: {res.report['status']}, overlap {res.report.get('overlap_new_s')} s")
    print(f"within one frame {100 * np.mean(kinds == ''):.1f} % of {n} new frames with a truth")
    starts = np.flatnonzero((kinds != "") & np.concatenate([[True], kinds[1:] != kinds[:-1]]))
    for s in starts:
        e = s
        while e + 1 < n and kinds[e + 1] == kinds[s]:
            e += 1
        d = mapped[s : e + 1] - tr[s : e + 1]
        off = f"{np.nanmean(d):+.3f} s" if np.isfinite(d).any() else "no warp"
        print(
            f"  {tn[s]:7.1f}-{tn[e]:7.1f} s  {e - s + 1:4d} frames  truth {tr[s]:7.1f}-{tr[e]:7.1f}"
            f"  {off:>9}  {kinds[s]}"
        )
    for kind in ("both stopped", "outside", "new-run stop", "moving"):
        print(f"  {kind:<13} {100 * np.mean(kinds == kind):5.1f} % ({int(np.sum(kinds == kind))})")


if __name__ == "__main__":
    args = sys.argv[1:]
    params = SyncParams()
    over = align_overrides([a for a in args if "=" in a])
    if over:
        params = replace(params, align=replace(params.align, **over))
    for pair_name in [a for a in args if "=" not in a]:
        report_pair(pair_name, params)
