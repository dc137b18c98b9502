"""``sync_runs``: the whole run-to-run chain, from two video files to a verified time warp."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .align import (
    AlignParams,
    CoarsePath,
    coarse_path,
    nearest_keys,
    refine_path,
    verify_path,
)
from .along import along_track_times, lateral_parallax
from .errors import NoReliableMatchError
from .features import (
    WORK_W,
    OrbFeatures,
    PairCheck,
    check_threads,
    compensate_mid,
    fine_thumb,
    global_descriptors,
    remembered_matches,
    verify_pairs,
)
from .fileio import write_set_atomic, write_text_atomic
from .index import ReferenceIndex, build_index, check_index
from .model import Keyframes, MatchPairs, TimePrior, VideoInfo
from .mount import Mount, estimate_mount, mount_in_mid_pixels, own_motion_rate, time_doubt_s
from .progress import ProgressCallback, ProgressEvent, report
from .sampling import SampleParams, sample_run
from .stops import place_stops
from .warp import FitParams, TimeWarp, fit_warp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncParams:
    """Everything that decides a sync result; recorded in report.json."""

    sample: SampleParams = field(default_factory=SampleParams)  # the reference (index)
    new_sample: SampleParams = field(
        default_factory=lambda: SampleParams(mode="auto", orb_rate_hz=1.0)
    )
    align: AlignParams = field(default_factory=AlignParams)
    fit: FitParams = field(default_factory=FitParams)
    review_threshold: float = 0.6
    prior_orb_rate_hz: float = (
        1.0  # verification rate on the new run when a GPS prior confirms the path
    )
    min_overlap_s: float = 1.0
    geometry_pairs: int = 4  # verified pairs that are evidence of a match, when they are ...
    geometry_share: float = 0.5  # ... this share of the checked pairs ...
    geometry_min_ratio: float = 0.25  # ... and the path is at least this far from nothing
    min_ref_share: float = (
        0.2  # a match covering less reference time than this share of new time is none
    )


@dataclass(frozen=True)
class SyncResult:
    """A verified warp with the pairs behind it and a JSON-able report."""

    warp: TimeWarp
    pairs: MatchPairs
    report: dict[str, Any]
    ref_info: VideoInfo
    new_info: VideoInfo


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(self.timings.get(stage, 0.0) + now - self._t, 4)
        self._t = now


def _significance(path: CoarsePath, half: int = 10) -> np.ndarray:
    """How far the path's sequence evidence stands above what the same frames reach against the
    reversed reference (running median of that null over ``half`` samples either side)."""
    null = path.null_evidence
    padded = np.pad(null, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    return path.evidence - np.median(windows, axis=1)


def _confidence(
    inliers: np.ndarray,
    quality: np.ndarray,
    significance: np.ndarray,
    t_new: np.ndarray,
    v_idx: np.ndarray,
    p: AlignParams,
) -> np.ndarray:
    """Per-path-sample confidence: is this the right place (sequence evidence above its null, or
    geometric verification), and does the frame itself agree (fine descriptors)."""
    c_seq = np.clip(significance / 2.0, 0, 1)
    c_orb = np.clip((inliers - p.min_inliers) / (p.good_inliers - p.min_inliers), 0, 1)
    c_geo = np.interp(t_new, t_new[v_idx], c_orb) if len(v_idx) else np.zeros_like(t_new)
    c_fine = np.clip((quality - 0.5) / 0.35, 0, 1)
    return np.minimum(np.maximum(c_seq, c_geo), c_fine)


def _report(
    status: str, ref: VideoInfo, new: VideoInfo, params: SyncParams, timer: _Timer, **extra: Any
) -> dict:
    from . import __version__

    return {
        "format": "mtbsync.report",
        "version": 1,
        "status": status,
        "mtbsync_version": __version__,
        "reference": {"path": ref.path, "duration_s": ref.duration_s, "fps": str(ref.fps)},
        "new": {"path": new.path, "duration_s": new.duration_s, "fps": str(new.fps)},
        "timings_s": timer.timings,
        "params": json.loads(json.dumps(asdict(params), default=str)),
        **extra,
    }


def _prior(
    ref_path, new_path, ref_track, new_track, ref: VideoInfo, new: VideoInfo
) -> tuple[TimePrior | None, dict]:
    """A GPS prior from the tracks given, else from telemetry inside the files; None when unusable."""
    from . import gps

    return gps.prior_for_videos(
        ref_path,
        new_path,
        ref_track=ref_track,
        new_track=new_track,
        video_duration_ref_s=ref.duration_s,
        video_duration_new_s=new.duration_s,
    )


def sync_runs(
    ref_path: str | os.PathLike[str],
    new_path: str | os.PathLike[str],
    *,
    index: ReferenceIndex | None = None,
    params: SyncParams | None = None,
    ref_track=None,
    new_track=None,
    method: str = "auto",
    prior: TimePrior | None = None,
    progress: ProgressCallback | None = None,
) -> SyncResult:
    """Align the new run at ``new_path`` to the reference run at ``ref_path``.

    ``method``: ``"auto"`` (vision, with a GPS prior when tracks are given or found in the files),
    ``"vision"`` (no GPS), ``"gps"`` (tracks only, for footage vision cannot use). A ``prior``
    given directly replaces the tracks. With a prior, the new run is decoded only where the
    prior says the runs overlap (plus its band). Raises
    :class:`NoReliableMatchError` (its ``report`` attribute holds the report) when the runs do not match.
    """
    if method not in ("auto", "vision", "gps"):
        raise ValueError(f"method must be auto, vision or gps, not {method!r}")
    with remembered_matches():  # pairs are checked again in later passes: match each once
        return _sync_runs(
            ref_path, new_path, index, params, ref_track, new_track, method, prior, progress
        )


def _sync_runs(
    ref_path: str | os.PathLike[str],
    new_path: str | os.PathLike[str],
    index: ReferenceIndex | None,
    params: SyncParams | None,
    ref_track,
    new_track,
    method: str,
    prior: TimePrior | None,
    progress: ProgressCallback | None,
) -> SyncResult:
    """:func:`sync_runs`' work (its arguments checked)."""
    params = params or SyncParams()
    timer = _Timer()
    from .video import probe_video

    if index is not None:
        check_index(index, ref_path, params.sample)
        ref_info = index.info
    else:
        ref_info = probe_video(ref_path)
    new_info = probe_video(new_path)  # both files are known readable before any long work
    gps_info: dict[str, Any] = {
        "used": False,
        "reason": "method vision" if method == "vision" else "no tracks",
    }
    if prior is not None and method != "vision":
        gps_info = {"used": True, "source": prior.source, "half_width_s": prior.half_width_s}
    elif method != "vision" and (
        method == "gps" or ref_track is not None or new_track is not None or _is_gopro(ref_path)
    ):
        prior, gps_info = _prior(ref_path, new_path, ref_track, new_track, ref_info, new_info)
        timer.lap("gps")
    if method == "vision":
        prior = None
    if method == "gps":
        return _gps_only(prior, gps_info, ref_info, new_path, params, timer)
    window = None
    if prior is not None:
        window = (
            max(0.0, float(prior.t_new_s[0]) - prior.half_width_s),
            float(prior.t_new_s[-1]) + prior.half_width_s,
        )
    new_sample = params.new_sample
    if prior is not None:
        new_sample = replace(
            new_sample, orb_rate_hz=min(new_sample.orb_rate_hz, params.prior_orb_rate_hz)
        )
    index, (new, new_orbs, mids) = _decode_both(
        ref_path, new_path, index, params.sample, new_sample, window, progress, timer
    )
    ref = index.keyframes
    timer.lap("decode_new")
    report(progress, "align", 0, 2, "passes")
    al = _align(new, mids, new_orbs, index, params.align, prior, progress, timer)
    report(progress, "align", 1, 2, "passes")
    if (
        al.mount.matrix is not None
        and _mount_is_large(al.mount)
        and al.path.match_ratio < params.align.remeasure_below_ratio
    ):
        # The global descriptors compared the cameras as they were; seen through the measured
        # mount the new run looks more like the reference: search again, keep the better path.
        mm = mount_in_mid_pixels(al.mount.matrix, _work_size(new.info), _work_size(index.info))
        moved = np.stack([compensate_mid(m, mm) for m in mids])
        seen = Keyframes(new.t_s, global_descriptors(moved), new.thumbs, new.info)
        again = _align(seen, mids, new_orbs, index, params.align, prior, None, timer)
        if again.path.score > al.path.score:
            al = again
    report(progress, "align", 2, 2, "passes")
    path, t_ref, quality, mount = al.path, al.t_ref, al.quality, al.mount
    timer.lap("mount_search")
    lateral = _along_track(new, mids, new_orbs, index, path, params.align)
    if lateral["used"]:
        t_ref = lateral.pop("t_ref_s")
    timer.lap("another_line")  # is the new run on another line; if so, row-profile placement
    t_ref = place_stops(
        new.t_s[path.i_new], t_ref, new.desc[path.i_new], quality, params.align.fine_trust
    )
    v_idx, checks = al.v_idx, al.checks
    timer.lap("mount_search")  # the search again through the mount, stops
    inliers = np.full(len(path.i_new), -1, np.int64)
    inliers[v_idx] = [c.inliers for c in checks]
    t_new = new.t_s[path.i_new]
    significance = _significance(path)
    conf = _confidence(
        inliers[v_idx].astype(float), quality, significance, t_new, v_idx, params.align
    )
    if lateral["used"]:
        conf = np.minimum(conf, params.align.along_max_confidence)
    pairs = MatchPairs(t_new, t_ref, path.similarity.astype(np.float64), inliers, conf)
    extra = {
        "gps": gps_info,
        "mount": {
            "scale": round(mount.scale, 4),
            "roll_deg": round(mount.roll_deg, 3),
            "shift_px": [round(mount.shift_px[0], 2), round(mount.shift_px[1], 2)],
            "pairs": mount.pairs_used,
            "time_doubt_s": round(mount.time_doubt_s, 4),
            "compensated": mount.matrix is not None,
        },
        "another_line": lateral,
    }
    result = _finish(
        pairs,
        path,
        significance,
        inliers,
        v_idx,
        ref.info,
        new.info,
        params,
        timer,
        extra,
        quality,
        mount.time_doubt_s,
    )
    if prior is not None and getattr(prior, "tracks", None) is not None:
        from . import gps

        gps_info["vision_check"] = gps.clock_check(
            prior, result.warp.t_new_s, result.warp.t_ref_s, result.warp.confidence
        )
    return result


@dataclass(frozen=True)
class _Alignment:
    """One pass of path search, refinement, verification and mount measurement."""

    path: CoarsePath
    t_ref: np.ndarray
    quality: np.ndarray
    v_idx: np.ndarray
    checks: list[PairCheck]
    ref_keys: np.ndarray
    mount: Mount


def _align(
    new: Keyframes,
    mids: np.ndarray,
    new_orbs: dict[int, OrbFeatures],
    index: ReferenceIndex,
    p: AlignParams,
    prior: TimePrior | None,
    progress: ProgressCallback | None,
    timer: _Timer,
) -> _Alignment:
    """Coarse path, sub-sample refinement, geometric checks, mount rounds."""
    path = coarse_path(new, index.keyframes, p, prior)
    timer.lap("coarse_path")
    shake_later = p.refine_shift == "mount"
    al = _settle(new, mids, new_orbs, index, path, p, progress, rounds=0 if shake_later else 6)
    if shake_later and al.mount.matrix is not None:
        # The cameras differ: each frame's own shake is fitted too, from the first refinement on.
        shaken = replace(p, refine_shift="always")
        al = _settle(new, mids, new_orbs, index, path, shaken, None, earlier=al)
    timer.lap("refine_verify")  # refinement, geometric checks, mount rounds
    return al


def _settle(
    new: Keyframes,
    mids: np.ndarray,
    new_orbs: dict[int, OrbFeatures],
    index: ReferenceIndex,
    path: CoarsePath,
    p: AlignParams,
    progress: ProgressCallback | None,
    rounds: int = 6,
    earlier: _Alignment | None = None,
) -> _Alignment:
    """Refinement, geometric checks and (``rounds``) mount rounds along one path; the checks of
    an ``earlier`` pass along the same path are reused where their keypoint sample still fits."""
    t_ref, quality = refine_path(new, index.keyframes, path, p)
    if earlier is None:
        v_idx, checks, ref_keys = verify_path(
            new.t_s, new_orbs, index.keyframes, index.orbs, path.i_new, t_ref, progress
        )
    else:
        v_idx, checks, ref_keys = earlier.v_idx, list(earlier.checks), earlier.ref_keys.copy()
        _recheck(new_orbs, index, path, t_ref, v_idx, checks, ref_keys)
    t_ref, quality, mount = _refine_with_mount(
        new, mids, new_orbs, index, path, t_ref, quality, v_idx, checks, ref_keys, p, rounds
    )
    return _Alignment(path, t_ref, quality, v_idx, checks, ref_keys, mount)


def _along_track(
    new: Keyframes,
    mids: np.ndarray | None,
    new_orbs: dict[int, OrbFeatures],
    index: ReferenceIndex,
    path: CoarsePath,
    p: AlignParams,
) -> dict[str, Any]:
    """Whether the new run took another line through a scene with depth and, if so, the path
    samples' reference times from row profiles (``t_ref_s``), which such a line does not bias
    (see :mod:`.along`). The rest of the dict goes into the report."""
    if not p.along_track:
        return {"used": False}
    ref = index.keyframes
    ratio, spread_px, n = lateral_parallax(new_orbs, index.orbs, ref.t_s, path.i_new, path.t_ref_s)
    out: dict[str, Any] = {
        "spread_ratio": round(ratio, 3),
        "spread_px": round(spread_px, 2),
        "pairs": n,
    }
    if mids is None or ref.rows is None:
        out["used"] = False
        out["reason"] = "no row profiles"
        return out
    used = (
        ratio >= p.lateral_ratio
        and p.lateral_min_px <= spread_px <= p.lateral_max_px
        and n >= p.lateral_min_pairs
    )
    out["used"] = bool(used)
    if used:
        out["t_ref_s"], _ = along_track_times(
            mids[path.i_new],
            ref.rows,
            ref.t_s,
            path.t_ref_s,
            new.t_s[path.i_new],
            radius_s=p.along_radius_s,
            max_ratio=p.max_ratio,
        )
    return out


def _mount_is_large(mount: Mount) -> bool:
    """A view change big enough to disturb the global descriptors (zoom, roll, shift)."""
    return (
        abs(mount.scale - 1) > 0.02
        or abs(mount.roll_deg) > 1.0
        or float(np.hypot(*mount.shift_px)) > 0.01 * WORK_W
    )


def _locked(progress: ProgressCallback | None) -> ProgressCallback | None:
    """``progress`` made safe to call from two threads at once."""
    if progress is None:
        return None
    lock = threading.Lock()

    def cb(ev: ProgressEvent) -> None:
        with lock:
            progress(ev)

    return cb


def _decode_both(
    ref_path,
    new_path,
    index: ReferenceIndex | None,
    ref_sample: SampleParams,
    new_sample: SampleParams,
    window: tuple[float, float] | None,
    progress: ProgressCallback | None,
    timer: _Timer,
) -> tuple[ReferenceIndex, tuple[Keyframes, dict, np.ndarray | None]]:
    """The reference index (built here, on a second thread, when not given) and the sampled new
    run. Decoders release the GIL, so the two decodes overlap: one costs what the longer does."""

    def sample_new(cb: ProgressCallback | None):
        return sample_run(
            new_path, new_sample, stage="decode", progress=cb, keep_mid=True, window_s=window
        )

    if index is not None:
        return index, sample_new(progress)
    together = _locked(progress)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mtbsync-index") as pool:
        started = time.perf_counter()
        future = pool.submit(build_index, ref_path, ref_sample, together)
        try:
            new = sample_new(together)
        finally:
            index = future.result()  # an error in either decode is raised, none is left running
        timer.timings["index"] = round(time.perf_counter() - started, 4)  # overlapping the decode
    return index, new


def _work_size(info: VideoInfo) -> tuple[int, int]:
    """(w, h) of the grey work image the decoder hands over for ``info``."""
    if info.width <= WORK_W:
        return info.width, info.height
    return WORK_W, max(2, round(info.height * WORK_W / info.width))


def _measure_mount(
    index: ReferenceIndex,
    t_ref: np.ndarray,
    v_idx: np.ndarray,
    checks: list[PairCheck],
    ref_keys: np.ndarray,
    p: AlignParams,
    rates: dict[int, np.ndarray | None],
    max_pairs: int = 40,
) -> Mount:
    """The mount from the well-verified pairs (at most ``max_pairs``, spread along the run),
    each corrected by the reference's own motion between its frame and the pair's time."""
    good = [
        k for k, c in enumerate(checks) if c.similarity is not None and c.inliers >= p.good_inliers
    ]
    if len(good) > max_pairs:
        good = [good[int(x)] for x in np.linspace(0, len(good) - 1, max_pairs)]
    w, h = _work_size(index.info)
    centre = (w / 2, h / 2)
    missing = sorted({int(ref_keys[k]) for k in good} - rates.keys())
    if missing:  # each is one frame pair's check: on every core (OpenCV runs without the GIL)
        with ThreadPoolExecutor(check_threads(), thread_name_prefix="mtbsync-mount") as pool:
            found = pool.map(
                lambda key: own_motion_rate(
                    index.orbs, index.keyframes.t_s, key, centre, p.good_inliers
                ),
                missing,
            )
            rates.update(zip(missing, found, strict=True))
    return estimate_mount(
        [checks[k].similarity for k in good],
        [float(index.keyframes.t_s[ref_keys[k]]) for k in good],
        [float(t_ref[v_idx[k]]) for k in good],
        [rates[int(ref_keys[k])] for k in good],
        centre,
    )


def _refine_with_mount(
    new: Keyframes,
    mids: np.ndarray,
    new_orbs: dict[int, OrbFeatures],
    index: ReferenceIndex,
    path: CoarsePath,
    t_ref: np.ndarray,
    quality: np.ndarray,
    v_idx: np.ndarray,
    checks: list[PairCheck],
    ref_keys: np.ndarray,
    p: AlignParams,
    rounds: int = 6,
) -> tuple[np.ndarray, np.ndarray, Mount]:
    """Measure the mount, resample the new run's thumbnails into the reference's geometry and
    refine again; the refined times make the next measurement better (a few rounds): each round
    checks the new frames again against the reference keypoint samples nearest their new times,
    so less of the reference's own motion has to be taken out. ``checks`` and ``ref_keys`` are
    updated in place."""
    rates: dict[int, np.ndarray | None] = {}
    first = mount = _measure_mount(index, t_ref, v_idx, checks, ref_keys, p, rates)
    for _ in range(rounds):
        if mount.matrix is None:
            break
        mm = mount_in_mid_pixels(mount.matrix, _work_size(new.info), _work_size(index.info))
        thumbs = np.stack([fine_thumb(m, mm) for m in mids])
        t_ref, quality = refine_path(
            Keyframes(new.t_s, new.desc, thumbs, new.info), index.keyframes, path, p
        )
        _recheck(new_orbs, index, path, t_ref, v_idx, checks, ref_keys)
        again = _measure_mount(index, t_ref, v_idx, checks, ref_keys, p, rates)
        if again.matrix is None or np.abs(again.matrix - mount.matrix).max() < 1e-3 * WORK_W:
            break
        mount = again
    w, h = _work_size(index.info)
    doubt = time_doubt_s(first, mount, list(rates.values()), (w / 2, h / 2))
    return t_ref, quality, replace(mount, time_doubt_s=doubt)


def _recheck(
    new_orbs: dict[int, OrbFeatures],
    index: ReferenceIndex,
    path: CoarsePath,
    t_ref: np.ndarray,
    v_idx: np.ndarray,
    checks: list[PairCheck],
    ref_keys: np.ndarray,
) -> None:
    """Check again, in place, the pairs whose nearest reference keypoint sample has changed."""
    nearest = nearest_keys(index.keyframes.t_s, index.orbs, t_ref[v_idx])
    moved = [n for n in range(len(v_idx)) if int(nearest[n]) != ref_keys[n]]
    again = verify_pairs(
        [(new_orbs[int(path.i_new[v_idx[n]])], index.orbs[int(nearest[n])]) for n in moved]
    )
    for n, check in zip(moved, again, strict=True):
        ref_keys[n] = int(nearest[n])
        checks[n] = check


def _precision(
    t_new: np.ndarray, t_ref: np.ndarray, warp: TimeWarp, frame_s: float, doubt_s: float
) -> np.ndarray:
    """Per-pair factor (0..1): how well the pairs around each one agree with the fitted warp
    (running RMS over +-1 s), with the mount's doubt added. Full below a quarter frame, none
    from half a frame: a confident frame is within one frame."""
    res = t_ref - warp.to_ref(t_new)
    sigma = np.empty_like(res)
    for k, t in enumerate(t_new):
        near = np.abs(t_new - t) <= 1.0
        sigma[k] = np.sqrt(np.mean(res[near] ** 2))
    sigma = np.hypot(sigma, doubt_s)
    return np.clip((0.5 * frame_s - sigma) / (0.25 * frame_s), 0, 1)


def _is_gopro(path) -> bool:
    """True when the file carries a GoPro telemetry (gpmd) stream."""
    import av

    try:
        with av.open(str(path)) as c:
            return any(
                s.type == "data"
                and (
                    s.codec_context.codec_tag == "gpmd"
                    or "GoPro MET" in str(s.metadata.get("handler_name", ""))
                )
                for s in c.streams
            )
    except Exception:  # noqa: BLE001 - any unreadable file simply has no telemetry
        return False


def _overlap(
    pairs: MatchPairs,
    path: CoarsePath,
    significance: np.ndarray,
    inliers: np.ndarray,
    quality: np.ndarray,
    p: AlignParams,
) -> tuple[float, float]:
    """New-run stretch matched: the path without its ends where the evidence is weak.

    Inside, the sequence evidence must stand out from its null (or a frame pair verify). A
    sequence straddling the start of the match reaches a little into a lead-in, so at each end
    the frames themselves must also resemble their match, two in a row: fine descriptors that
    agree or, where the runs do not look alike, frame evidence at least ``end_frame_share`` of
    the path's median.
    """
    strong = (significance >= p.overlap_significance) | (inliers >= p.good_inliers)
    looks = quality >= p.fine_min
    if float(np.median(quality)) < p.fine_trust:  # runs that do not look alike (season, light)
        looks |= path.frame_evidence >= p.end_frame_share * float(np.median(path.frame_evidence))
    own = looks | (inliers >= p.good_inliers)
    pair_ok = strong & own & np.concatenate([own[1:], [False]])
    ends = np.flatnonzero(pair_ok)
    if len(ends) == 0:
        return 0.0, 0.0
    last = np.flatnonzero(strong & own & np.concatenate([[False], own[:-1]]))
    return float(pairs.t_new_s[ends[0]]), float(pairs.t_new_s[last[-1]])


def _no_match_reason(
    path: CoarsePath,
    pairs: MatchPairs,
    overlap: tuple[float, float],
    good: np.ndarray,
    n_verified: int,
    params: SyncParams,
) -> str | None:
    """Why the path is no evidence of a match, or None when it is.

    Two kinds of evidence count: the path's sequence score well above the reversed-reference
    null, or most checked frame pairs verified geometrically with the path at least above it.
    """
    geometry = (
        len(good) >= params.geometry_pairs
        and len(good) >= params.geometry_share * max(n_verified, 1)
        and path.match_ratio >= params.geometry_min_ratio
    )
    if path.match_ratio < params.align.match_ratio and not geometry:
        return (
            f"the best path scores {path.match_ratio:.1f}x what the same search finds against the "
            f"reference played backwards (needs {params.align.match_ratio:g}x), and {len(good)} of "
            f"{n_verified} checked frame pairs agree geometrically"
        )
    span_new = overlap[1] - overlap[0]
    if span_new < params.min_overlap_s:
        return f"only {span_new:.1f} s of the new run match"
    inside = (pairs.t_new_s >= overlap[0]) & (pairs.t_new_s <= overlap[1])
    span_ref = float(np.ptp(pairs.t_ref_s[inside])) if inside.any() else 0.0
    if span_ref < params.min_ref_share * span_new:
        return (
            f"{span_new:.1f} s of the new run would map onto {span_ref:.2f} s of the reference "
            "(a warp that flat is no match)"
        )
    return None


def _finish(
    pairs: MatchPairs,
    path: CoarsePath,
    significance: np.ndarray,
    inliers: np.ndarray,
    v_idx: np.ndarray,
    ref: VideoInfo,
    new: VideoInfo,
    params: SyncParams,
    timer: _Timer,
    extra: dict,
    quality: np.ndarray,
    mount_doubt_s: float = 0.0,
) -> SyncResult:
    good = np.flatnonzero(inliers >= params.align.min_inliers)
    n_ver = len(v_idx)
    overlap = _overlap(pairs, path, significance, inliers, quality, params.align)
    summary = {
        "match_ratio": round(path.match_ratio, 2),
        "path_score": round(path.score, 1),
        "reversed_reference_score": round(path.null_score, 1),
        "verified_pairs": n_ver,
        "good_pairs": int(len(good)),
        "good_fraction": round(len(good) / n_ver, 3) if n_ver else 0.0,
        "median_inliers": float(np.median(inliers[v_idx])) if n_ver else 0.0,
    }
    reason = _no_match_reason(path, pairs, overlap, good, n_ver, params)
    if reason is not None:
        rep = _report("no_match", ref, new, params, timer, verification=summary, **extra)
        err = NoReliableMatchError(
            f"No reliable match between '{new.path}' and '{ref.path}': {reason}. "
            "Are they the same trail? Check the files, or add a GPS track."
        )
        err.report = rep  # type: ignore[attr-defined]
        raise err
    inside = (pairs.t_new_s >= overlap[0]) & (pairs.t_new_s <= overlap[1])
    x, y = pairs.t_new_s[inside], pairs.t_ref_s[inside]
    warp = fit_warp(
        x, y, np.clip(pairs.confidence[inside], 0.02, 1), params=params.fit, overlap_new_s=overlap
    )
    frame_s = 1.0 / float(new.fps) if new.fps else 1 / 30
    conf = pairs.confidence.copy()
    conf[inside] *= _precision(x, y, warp, frame_s, mount_doubt_s)
    pairs = replace(pairs, confidence=conf)
    warp = replace(warp, confidence=np.interp(warp.t_new_s, x, conf[inside]))
    timer.lap("fit")
    med_conf = float(np.median(warp.confidence))
    status = "ok" if med_conf >= params.review_threshold else "low_confidence"
    rep = _report(
        status,
        ref,
        new,
        params,
        timer,
        verification=summary,
        overlap_new_s=[overlap[0], overlap[1]],
        overlap_ref_s=[float(warp.t_ref_s[0]), float(warp.t_ref_s[-1])],
        coverage=round((overlap[1] - overlap[0]) / max(new.duration_s, 1e-9), 4),
        median_confidence=round(med_conf, 3),
        low_confidence_s=round(
            float(np.mean(warp.confidence < params.review_threshold)) * (overlap[1] - overlap[0]), 2
        ),
        **extra,
    )
    return SyncResult(warp, pairs, rep, ref, new)


def _gps_only(
    prior: TimePrior | None,
    gps_info: dict,
    ref: VideoInfo,
    new_path,
    params: SyncParams,
    timer: _Timer,
) -> SyncResult:
    from . import gps
    from .video import probe_video

    new = probe_video(new_path)
    if prior is None:
        raise NoReliableMatchError(
            f"--method gps needs GPS tracks for both runs ({gps_info.get('reason', 'none found')}). "
            "Pass --ref-gpx and --new-gpx, or use --method vision."
        )
    t_new, t_ref, conf = gps.warp_samples_from_prior(prior)
    warp = fit_warp(
        t_new,
        t_ref,
        np.clip(conf, 0.02, 1),
        params=FitParams(kink_penalty=3.0, outlier_s=2.0),
        data_confidence=conf,
    )
    timer.lap("fit")
    pairs = MatchPairs(t_new, t_ref, np.full(len(t_new), np.nan), np.full(len(t_new), -1), conf)
    ov = warp.overlap_new_s
    rep = _report(
        "ok" if np.median(conf) >= params.review_threshold else "low_confidence",
        ref,
        new,
        params,
        timer,
        gps=gps_info,
        method="gps",
        overlap_new_s=list(ov),
        overlap_ref_s=[float(warp.t_ref_s[0]), float(warp.t_ref_s[-1])],
        coverage=round((ov[1] - ov[0]) / max(new.duration_s, 1e-9), 4),
    )
    return SyncResult(warp, pairs, rep, ref, new)


def pairs_to_csv(pairs: MatchPairs) -> str:
    """``pairs.csv``: t_new_s,t_ref_s,similarity,inliers,confidence."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["t_new_s", "t_ref_s", "similarity", "inliers", "confidence"])
    for row in zip(
        pairs.t_new_s, pairs.t_ref_s, pairs.similarity, pairs.inliers, pairs.confidence, strict=True
    ):
        w.writerow(
            [f"{row[0]:.6f}", f"{row[1]:.6f}", f"{row[2]:.4f}", int(row[3]), f"{row[4]:.4f}"]
        )
    return buf.getvalue()


def write_sync_outputs(
    result: SyncResult, out_dir: str | os.PathLike[str], force: bool = False
) -> dict[str, Path]:
    """Write warp.json, pairs.csv and report.json into ``out_dir`` as one set (all or none).

    All are refused first if any exists (unless ``force``); see :func:`~.fileio.write_set_atomic`.
    """
    files = {
        "warp.json": json.dumps(result.warp.to_dict(), separators=(",", ":")),
        "pairs.csv": pairs_to_csv(result.pairs),
        "report.json": json.dumps(result.report, indent=2),
    }
    written = write_set_atomic(out_dir, files, force=force)
    return {
        "warp": written["warp.json"],
        "pairs": written["pairs.csv"],
        "report": written["report.json"],
    }


def write_report(report_dict: dict, path: str | os.PathLike[str], force: bool = False) -> Path:
    """Write a report (e.g. a no_match one) as JSON."""
    return write_text_atomic(path, json.dumps(report_dict, indent=2), force=force)
