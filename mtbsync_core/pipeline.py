"""``sync_runs``: the whole run-to-run chain, from two video files to a verified time warp."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .align import AlignParams, coarse_path, refine_path, verify_path
from .errors import NoReliableMatchError
from .features import WORK_W, fine_thumb, mount_in_mid_pixels, mount_transform
from .fileio import check_writable, write_text_atomic
from .index import ReferenceIndex, build_index, check_index
from .model import Keyframes, MatchPairs, TimePrior, VideoInfo
from .progress import ProgressCallback, report
from .sampling import SampleParams, sample_run
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
    prior_orb_rate_hz: float = 1.0  # verification rate on the new run when a GPS prior confirms the path
    min_good_fraction: float = 0.3  # share of verified pairs that must pass for any match at all
    min_overlap_s: float = 1.0


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


def _confidence(
    inliers: np.ndarray, quality: np.ndarray, t_new: np.ndarray, v_idx: np.ndarray, p: AlignParams
) -> np.ndarray:
    """Per-path-sample confidence: verification (interpolated in time) times descriptor agreement."""
    c_orb = np.clip((inliers - p.min_inliers) / (p.good_inliers - p.min_inliers), 0, 1)
    if len(v_idx) == 0:
        return np.zeros_like(t_new)
    c = np.interp(t_new, t_new[v_idx], c_orb)
    c_fine = np.clip((quality - 0.5) / 0.35, 0, 1)
    return np.minimum(c, c_fine)


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
    params = params or SyncParams()
    timer = _Timer()
    if index is None:
        index = build_index(ref_path, params.sample, progress)
        timer.lap("index")
    else:
        check_index(index, ref_path, params.sample)
    ref = index.keyframes
    gps_info: dict[str, Any] = {
        "used": False,
        "reason": "method vision" if method == "vision" else "no tracks",
    }
    if prior is not None and method != "vision":
        gps_info = {"used": True, "source": prior.source, "half_width_s": prior.half_width_s}
    elif method != "vision" and (
        method == "gps" or ref_track is not None or new_track is not None or _is_gopro(ref_path)
    ):
        from .video import probe_video

        prior, gps_info = _prior(
            ref_path, new_path, ref_track, new_track, ref.info, probe_video(new_path)
        )
        timer.lap("gps")
    if method == "vision":
        prior = None
    if method == "gps":
        return _gps_only(prior, gps_info, ref.info, new_path, params, timer)
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
    new, new_orbs, mids = sample_run(
        new_path,
        new_sample,
        stage="decode",
        progress=progress,
        keep_mid=True,
        window_s=window,
    )
    timer.lap("decode_new")
    report(progress, "align", 0, 3, "steps")
    path = coarse_path(new, ref, params.align, prior)
    timer.lap("coarse_path")
    t_ref, quality = refine_path(new, ref, path, params.align)
    v_idx, checks = verify_path(new.t_s, new_orbs, ref, index.orbs, path.i_new, t_ref, progress)
    timer.lap("verify")
    mount, scale, roll = mount_transform(
        [
            c.similarity
            for c in checks
            if c.similarity is not None and c.inliers >= params.align.good_inliers
        ],
        (WORK_W, WORK_W * 9 // 16),
    )
    if mount is not None:
        mm = mount_in_mid_pixels(mount)
        new = Keyframes(new.t_s, new.desc, np.stack([fine_thumb(m, mm) for m in mids]), new.info)
        t_ref, quality = refine_path(new, ref, path, params.align)
    timer.lap("refine")
    inliers = np.full(len(path.i_new), -1, np.int64)
    inliers[v_idx] = [c.inliers for c in checks]
    t_new = new.t_s[path.i_new]
    conf = _confidence(inliers[v_idx].astype(float), quality, t_new, v_idx, params.align)
    pairs = MatchPairs(t_new, t_ref, path.similarity.astype(np.float64), inliers, conf)
    extra = {
        "gps": gps_info,
        "mount": {
            "scale": round(scale, 4),
            "roll_deg": round(roll, 3),
            "compensated": mount is not None,
        },
    }
    result = _finish(pairs, inliers, v_idx, ref.info, new.info, params, timer, extra, quality)
    if prior is not None and getattr(prior, "tracks", None) is not None:
        from . import gps

        gps_info["vision_check"] = gps.clock_check(
            prior, result.warp.t_new_s, result.warp.t_ref_s, result.warp.confidence
        )
    return result


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
    good: np.ndarray,
    quality: np.ndarray,
    reach_s: float = 1.5,
    min_quality: float = 0.8,
) -> tuple[float, float]:
    """New-run stretch matched: from the first to the last verified pair, extended over adjacent
    path samples whose fine descriptors still agree (verification is sparser than sampling)."""
    t = pairs.t_new_s
    lo, hi = int(good[0]), int(good[-1])
    while lo > 0 and quality[lo - 1] >= min_quality and t[good[0]] - t[lo - 1] <= reach_s:
        lo -= 1
    while hi < len(t) - 1 and quality[hi + 1] >= min_quality and t[hi + 1] - t[good[-1]] <= reach_s:
        hi += 1
    return float(t[lo]), float(t[hi])


def _finish(
    pairs: MatchPairs,
    inliers: np.ndarray,
    v_idx: np.ndarray,
    ref: VideoInfo,
    new: VideoInfo,
    params: SyncParams,
    timer: _Timer,
    extra: dict,
    quality: np.ndarray,
) -> SyncResult:
    good = np.flatnonzero(inliers >= params.align.min_inliers)
    n_ver = len(v_idx)
    good_frac = len(good) / n_ver if n_ver else 0.0
    overlap = _overlap(pairs, good, quality) if len(good) else (0.0, 0.0)
    summary = {
        "verified_pairs": n_ver,
        "good_pairs": int(len(good)),
        "good_fraction": round(good_frac, 3),
        "median_inliers": float(np.median(inliers[v_idx])) if n_ver else 0.0,
    }
    if (
        len(good) < 3
        or good_frac < params.min_good_fraction
        or overlap[1] - overlap[0] < params.min_overlap_s
    ):
        rep = _report("no_match", ref, new, params, timer, verification=summary, **extra)
        err = NoReliableMatchError(
            f"No reliable match between '{new.path}' and '{ref.path}': {len(good)} of {n_ver} checked frame pairs "
            "agree geometrically. Are they the same trail? Check the files, or add a GPS track."
        )
        err.report = rep  # type: ignore[attr-defined]
        raise err
    inside = (pairs.t_new_s >= overlap[0]) & (pairs.t_new_s <= overlap[1])
    warp = fit_warp(
        pairs.t_new_s[inside],
        pairs.t_ref_s[inside],
        np.clip(pairs.confidence[inside], 0.02, 1),
        params=params.fit,
        data_confidence=pairs.confidence[inside],
        overlap_new_s=overlap,
    )
    timer.lap("fit")
    med_conf = float(np.median(warp.confidence))
    status = "ok" if med_conf >= params.review_threshold and good_frac >= 0.6 else "low_confidence"
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
    """Write warp.json, pairs.csv and report.json into ``out_dir`` (all refused first if any exists)."""
    from .warp import write_warp

    d = Path(out_dir)
    paths = {"warp": d / "warp.json", "pairs": d / "pairs.csv", "report": d / "report.json"}
    for p in paths.values():
        check_writable(p, force)
    write_text_atomic(paths["pairs"], pairs_to_csv(result.pairs), force=force)
    write_warp(result.warp, paths["warp"], force=force)
    write_text_atomic(paths["report"], json.dumps(result.report, indent=2), force=force)
    return paths


def write_report(report_dict: dict, path: str | os.PathLike[str], force: bool = False) -> Path:
    """Write a report (e.g. a no_match one) as JSON."""
    return write_text_atomic(path, json.dumps(report_dict, indent=2), force=force)
