"""Decode a run once, reduce each sampled frame to descriptors: the Keyframes of a video."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from .errors import FeaturelessVideoError
from .features import (
    WORK_W,
    OrbFeatures,
    fine_thumb,
    global_descriptors,
    mid_thumb,
    orb_features,
    row_profiles,
    texture_score,
)
from .model import Keyframes
from .progress import ProgressCallback, report
from .video import VideoStream, open_video, parallel
from .video.parallel import can_plan, decode_selected, plan_decode, select_spaced


@dataclass(frozen=True)
class SampleParams:
    """How a run is sampled. Part of an index's identity."""

    mode: str = "nonref"  # "all" | "nonref" | "key" | "auto": which frames are decoded at all
    max_rate_hz: float = 15.0  # keep at most this many samples per second
    orb_rate_hz: float = 2.0  # ORB keypoints this often (for verification)
    key_max_gap_s: float = (
        0.34  # "auto" decodes keyframes only when there are >= ~3 a second (GoPro: 8-10 frame GOPs)
    )


def sample_run(
    path: str | os.PathLike[str],
    params: SampleParams = SampleParams(),
    stage: str = "decode",
    progress: ProgressCallback | None = None,
    keep_mid: bool = False,
    window_s: tuple[float, float] | None = None,
    with_rows: bool = False,
) -> tuple[Keyframes, dict[int, OrbFeatures], np.ndarray | None]:
    """Decode ``path`` once: its Keyframes, ORB features by sample index and, if ``keep_mid``,
    the mid-size thumbnails (n, 72, 128) for mount compensation. ``window_s`` limits decoding
    to that stretch of the video (seconds). ``with_rows``: the Keyframes carry row profiles
    (a reference index needs them; about 0.15 ms a sample).

    Raises :class:`FeaturelessVideoError` when the footage is flat (black, lens covered).
    """
    min_dt = 1.0 / params.max_rate_hz - 1e-4
    orb_dt = 1.0 / params.orb_rate_hz - 1e-4
    with open_video(path) as video:
        mode = params.mode
        if mode == "auto":
            gap = video.keyframe_interval_s()
            mode = "key" if gap is not None and gap <= params.key_max_gap_s else "nonref"
        if mode == "nonref" and float(video.info.fps) <= params.max_rate_hz:
            # a low frame rate: every frame is wanted, and skipping B-frames would lose most
            mode = "all"
        info = video.info
        total = _estimate(info, mode, params.max_rate_hz)
        samples = None
        if window_s is None and can_plan(path) and parallel.ENABLED:
            samples = _sample_parallel(video, mode, min_dt, orb_dt, stage, progress)
        if samples is None:
            samples = _sample_sequential(
                video, mode, min_dt, orb_dt, window_s, total, stage, progress
            )
    times = [s[0] for s in samples]
    thumbs = [s[1] for s in samples]
    orbs = {k: s[2] for k, s in enumerate(samples) if s[2] is not None}
    textures = [s[3] for s in samples if s[3] is not None]
    report(progress, stage, len(times), len(times), "samples")
    if len(times) < 2:
        raise FeaturelessVideoError(
            f"Video '{path}' gave {len(times)} usable frame(s). Pass a longer video."
        )
    if float(np.median(textures)) < 2.0:
        raise FeaturelessVideoError(
            f"Video '{path}' is almost featureless (flat or black frames): nothing to match. "
            "Check the lens was uncovered, or use GPS (--method gps)."
        )
    mids = np.stack(thumbs)
    th = np.stack([fine_thumb(m) for m in mids])
    kf = Keyframes(
        t_s=np.asarray(times, np.float64),
        desc=global_descriptors(mids),
        thumbs=th,
        info=info,
        rows=row_profiles(mids) if with_rows else None,
    )
    return kf, orbs, (mids if keep_mid else None)


#: One sample: (t_s, mid thumbnail, ORB features or None, texture score or None).
_Sample = tuple[float, np.ndarray, OrbFeatures | None, float | None]


def _describe(
    grey: np.ndarray, with_orb: bool
) -> tuple[np.ndarray, OrbFeatures | None, float | None]:
    """What a sample keeps of its grey work image (ORB and texture only on ORB samples)."""
    if with_orb:
        return mid_thumb(grey), orb_features(grey), texture_score(grey)
    return mid_thumb(grey), None, None


def _estimate(info, mode: str, max_rate_hz: float) -> int:
    rate = min(
        max_rate_hz,
        float(info.fps) / (info.gop_size or 1) if mode == "key" else max_rate_hz,
    )
    return max(1, int(info.duration_s * rate * (0.4 if mode == "nonref" else 1.0)))


def _sample_sequential(
    video, mode: str, min_dt: float, orb_dt: float, window_s, total: int, stage: str, progress
) -> list[_Sample]:
    """One decoder, front to back (any codec, a window, a chapter set)."""
    lo, hi = window_s if window_s is not None else (0.0, float("inf"))
    out: list[_Sample] = []
    last_orb = -1e9
    for t_s, grey in video.iter_gray(mode, WORK_W, start_s=lo, end_s=hi, min_gap_s=min_dt):
        with_orb = t_s - last_orb >= orb_dt
        if with_orb:
            last_orb = t_s
        out.append((t_s, *_describe(grey, with_orb)))
        if len(out) % 25 == 0:
            if len(out) >= total:  # the estimate ran out: raise it, keep the bar honest
                total = int(len(out) * 1.25) + 1
            report(progress, stage, len(out), total, "samples")
    return out


def _sample_parallel(
    video: VideoStream, mode: str, min_dt: float, orb_dt: float, stage: str, progress
) -> list[_Sample] | None:
    """The samples :func:`_sample_sequential` would give, decoded in stretches on every core
    (see :mod:`.video.parallel`); None when the file cannot be planned or a stretch disagreed."""
    info = video.info
    plan = plan_decode(video.path, mode, info.start_time_s)
    if plan is None or len(plan.cuts) < 2:
        return None
    usable = np.flatnonzero(plan.t_s >= -1e-6)  # as iter_gray: nothing before the first frame
    keep = usable[select_spaced(plan.t_s[usable], min_dt)]
    wanted: dict[int, bool] = {}
    last_orb = -1e9
    for k in keep.tolist():
        t = float(plan.t_s[k])
        wanted[int(plan.pts[k])] = t - last_orb >= orb_dt
        if wanted[int(plan.pts[k])]:
            last_orb = t
    total = len(wanted)
    got = decode_selected(
        video.path,
        mode,
        plan,
        wanted,
        WORK_W,
        info.rotation_deg,
        _describe,
        on_stretch=lambda n: report(progress, stage, n, total, "samples"),
    )
    if got is None:
        return None
    video._check_complete(float(plan.t_s[-1]), math.inf, mode)  # a file cut short says so
    t_by_pts = dict(zip(plan.pts.tolist(), plan.t_s.tolist(), strict=True))
    return [(t_by_pts[p], *r) for p, r in zip(sorted(wanted), got, strict=True)]
