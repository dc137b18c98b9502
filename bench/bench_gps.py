"""GPS-only accuracy: synthetic tracks consistent with the benchmark pairs' known warps.

No video is rendered: a track only needs the pair's :class:`WarpProfile` and the trail. Each new
run's 1 Hz track (2-5 m horizontal RMS noise, with or without Doppler speed) is matched to the
reference's, and the prior's ``t_ref`` is compared with ``WarpProfile.truth`` at 10 Hz over the
overlap. Baseline, in the same run: each new fix takes the time of the nearest reference fix
(no path model, no smoothing, no monotonicity) -- what a naive GPS sync does.

``prior_for_spec(spec)`` gives the lead's pipeline bench the TimePrior for a pair.
"""

from __future__ import annotations

import time

import numpy as np

from bench.pairs import PAIRS, PairSpec
from mtbsync_core.gps import prior_from_tracks, refine_clock_offset
from mtbsync_core.gps.synthetic_track import tracks_for_pair
from mtbsync_core.gps.track import to_local_m
from mtbsync_core.synthetic import Trail, make_trail

REF_UTC, NEW_UTC = 1_714_557_600.0, 1_714_561_200.0
NOISES_M = (2.0, 3.5, 5.0)


def prior_for_spec(
    spec: PairSpec,
    trail: Trail | None = None,
    *,
    noise_m: float = 3.0,
    seed: int = 0,
    with_speed: bool = True,
):
    """The GPS TimePrior (video times) for a benchmark pair, or None (e.g. the unrelated pair)."""
    trail = trail or make_trail("trail")
    ref, new = tracks_for_pair(
        trail,
        spec.profile,
        ref_duration_s=spec.ref_s,
        new_duration_s=spec.new_s,
        noise_m=noise_m,
        seed=seed,
        with_speed=with_speed,
        ref_start_utc=REF_UTC,
        new_start_utc=NEW_UTC,
        unrelated=spec.unrelated,
    )
    return prior_from_tracks(
        ref,
        new,
        ref_clock_offset_s=REF_UTC,
        new_clock_offset_s=NEW_UTC,
        video_duration_ref_s=spec.ref_s,
        video_duration_new_s=spec.new_s,
    )


def _truth(spec: PairSpec, t_new_s: np.ndarray) -> np.ndarray:
    t = spec.profile.truth(t_new_s)
    return np.where(t <= spec.ref_s, t, np.nan)


def _naive_errors(spec: PairSpec, trail: Trail, noise_m: float, seed: int) -> np.ndarray:
    """Baseline: nearest reference fix in space, its time taken as is."""
    ref, new = tracks_for_pair(
        trail,
        spec.profile,
        ref_duration_s=spec.ref_s,
        new_duration_s=spec.new_s,
        noise_m=noise_m,
        seed=seed,
        ref_start_utc=REF_UTC,
        new_start_utc=NEW_UTC,
    )
    lat0, lon0 = float(ref.lat_deg[0]), float(ref.lon_deg[0])
    rxy = np.column_stack(to_local_m(ref.lat_deg, ref.lon_deg, lat0, lon0))
    nxy = np.column_stack(to_local_m(new.lat_deg, new.lon_deg, lat0, lon0))
    nearest = np.argmin(((nxy[:, None, :] - rxy[None, :, :]) ** 2).sum(-1), axis=1)
    t_ref = ref.t_s[nearest] - REF_UTC
    truth = _truth(spec, new.t_s - NEW_UTC)
    ok = np.isfinite(truth)
    return np.abs(t_ref[ok] - truth[ok])


def _errors(spec: PairSpec, trail: Trail, noise_m: float, seed: int, with_speed: bool):
    t0 = time.perf_counter()
    prior = prior_for_spec(spec, trail, noise_m=noise_m, seed=seed, with_speed=with_speed)
    dt = time.perf_counter() - t0
    if prior is None:
        return None, dt, None
    truth = _truth(spec, prior.t_new_s)
    ok = np.isfinite(truth)
    err = np.abs(prior.t_ref_s[ok] - truth[ok])
    return err, dt, float(np.mean(err <= prior.half_width_s))


def _stats(err: np.ndarray) -> dict:
    return {
        "median_s": round(float(np.median(err)), 3),
        "p95_s": round(float(np.percentile(err, 95)), 3),
        "max_s": round(float(err.max()), 3),
        "n": int(len(err)),
    }


def _clock_refine(trail: Trail, spec: PairSpec) -> float:
    """Error (s) of a new-track clock offset recovered from a perfect visual warp, started 7.3 s off."""
    ref, new = tracks_for_pair(
        trail,
        spec.profile,
        ref_duration_s=spec.ref_s,
        new_duration_s=spec.new_s,
        ref_start_utc=REF_UTC,
        new_start_utc=NEW_UTC,
    )
    t_new = np.arange(spec.profile.lead_in_s + 1.0, spec.new_s - 1.0, 0.1)
    t_ref = _truth(spec, t_new)
    off = refine_clock_offset(
        ref, new, t_new, t_ref, ref_clock_offset_s=REF_UTC, new_clock_offset_s=NEW_UTC + 7.3
    )
    return float("nan") if off is None else abs(off.offset_s - NEW_UTC)


def _accuracy(trail: Trail, pairs: list[PairSpec], noises, seeds, out: dict):
    """Errors per noise level with and without speed; fills ``out['per_noise']``."""
    all_speed, all_nospeed, naive, times, inband = [], [], [], [], []
    for noise in noises:
        for with_speed in (True, False):
            errs = []
            for spec in pairs:
                for seed in seeds:
                    err, dt, cover = _errors(spec, trail, noise, seed, with_speed)
                    if err is None:
                        raise RuntimeError(f"no GPS prior for pair {spec.name} (noise {noise} m)")
                    errs.append(err)
                    times.append((spec.name, dt))
                    inband.append(cover)
            e = np.concatenate(errs)
            (all_speed if with_speed else all_nospeed).append(e)
            s = out["per_noise"][f"{noise:g}m_{'speed' if with_speed else 'nospeed'}"] = _stats(e)
            print(
                f"  noise {noise:>3} m  {'with speed (GoPro, FIT)' if with_speed else 'positions only':<24}"
                f" median {s['median_s']:.3f}  p95 {s['p95_s']:.3f}  max {s['max_s']:.3f}"
            )
        naive.append(
            np.concatenate([_naive_errors(p, trail, noise, s) for p in pairs for s in seeds])
        )
    return all_speed, all_nospeed, naive, times, inband


def run(quick: bool = False) -> dict:
    """Print and return GPS-only accuracy per noise level, with and without speed, vs the baseline."""
    trail = make_trail("trail")
    pairs = [p for p in PAIRS if not p.unrelated]
    seeds = (0, 1, 2) if quick else (0, 1, 2, 3, 4)  # one noise draw varies a lot: average several
    noises = (2.0, 5.0) if quick else NOISES_M
    out: dict = {"per_noise": {}}
    print("GPS-only prior vs truth (1 Hz fixes, |t_ref error| over the overlap, seconds)")
    all_speed, all_nospeed, naive, times, inband = _accuracy(trail, pairs, noises, seeds, out)
    e_speed, e_nospeed, e_naive = (np.concatenate(x) for x in (all_speed, all_nospeed, naive))
    out["with_speed"], out["positions_only"], out["naive_nearest_fix"] = (
        _stats(e_speed),
        _stats(e_nospeed),
        _stats(e_naive),
    )
    out["truth_inside_band_share"] = round(float(np.mean(inband)), 4)
    unrelated = [p for p in PAIRS if p.unrelated]
    out["unrelated_prior_none"] = all(prior_for_spec(p, trail) is None for p in unrelated)
    long_pair = max(pairs, key=lambda p: p.ref_s)
    out["prior_ms_long_pair"] = round(
        1e3 * float(np.median([t for n, t in times if n == long_pair.name])), 1
    )
    out["clock_offset_refine_error_s"] = round(_clock_refine(trail, long_pair), 3)
    ratio = out["naive_nearest_fix"]["median_s"] / max(out["with_speed"]["median_s"], 1e-9)
    print(
        f"  all, with speed:     median {out['with_speed']['median_s']:.3f}  p95 "
        f"{out['with_speed']['p95_s']:.3f}  max {out['with_speed']['max_s']:.3f}  (target median <= 0.3)"
    )
    print(
        f"  all, positions only: median {out['positions_only']['median_s']:.3f}  p95 "
        f"{out['positions_only']['p95_s']:.3f}  max {out['positions_only']['max_s']:.3f}"
    )
    print(
        f"  baseline nearest fix: median {out['naive_nearest_fix']['median_s']:.3f}  "
        f"(x{ratio:.1f} the prior's median error)"
    )
    print(
        f"  truth inside the prior's band: {out['truth_inside_band_share']:.1%} of samples; "
        f"unrelated pair gives no prior: {out['unrelated_prior_none']}"
    )
    print(
        f"  prior for the {long_pair.ref_s:.0f} s pair: {out['prior_ms_long_pair']:.0f} ms; clock offset "
        f"refined from 7.3 s off to {out['clock_offset_refine_error_s']:.3f} s"
    )
    out["pass"] = bool(out["with_speed"]["median_s"] <= 0.3 and out["unrelated_prior_none"])
    return out


if __name__ == "__main__":
    run()
