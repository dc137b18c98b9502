"""Decode a run once, reduce each sampled frame to descriptors: the Keyframes of a video."""

from __future__ import annotations

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
    texture_score,
)
from .model import Keyframes
from .progress import ProgressCallback, report
from .video import open_video


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
) -> tuple[Keyframes, dict[int, OrbFeatures], np.ndarray | None]:
    """Decode ``path`` once: its Keyframes, ORB features by sample index and, if ``keep_mid``,
    the mid-size thumbnails (n, 72, 128) for mount compensation. ``window_s`` limits decoding
    to that stretch of the video (seconds).

    Raises :class:`FeaturelessVideoError` when the footage is flat (black, lens covered).
    """
    times: list[float] = []
    thumbs: list[np.ndarray] = []
    orbs: dict[int, OrbFeatures] = {}
    textures: list[float] = []
    min_dt = 1.0 / params.max_rate_hz - 1e-4
    orb_dt = 1.0 / params.orb_rate_hz - 1e-4
    last_orb = -1e9
    with open_video(path) as video:
        mode = params.mode
        if mode == "auto":
            gap = video.keyframe_interval_s()
            mode = "key" if gap is not None and gap <= params.key_max_gap_s else "nonref"
        if mode == "nonref" and float(video.info.fps) <= params.max_rate_hz:
            # a low frame rate: every frame is wanted, and skipping B-frames would lose most
            mode = "all"
        rate = min(
            params.max_rate_hz,
            float(video.info.fps) / (video.info.gop_size or 1)
            if mode == "key"
            else params.max_rate_hz,
        )
        total = max(1, int(video.info.duration_s * rate * (0.4 if mode == "nonref" else 1.0)))
        lo, hi = window_s if window_s is not None else (0.0, float("inf"))
        for t_s, grey in video.iter_gray(mode, WORK_W, start_s=lo, end_s=hi, min_gap_s=min_dt):
            if t_s - last_orb >= orb_dt:
                orbs[len(times)] = orb_features(grey)
                textures.append(texture_score(grey))
                last_orb = t_s
            times.append(t_s)
            thumbs.append(mid_thumb(grey))
            if len(times) % 25 == 0:
                if len(times) >= total:  # the estimate ran out: raise it, keep the bar honest
                    total = int(len(times) * 1.25) + 1
                report(progress, stage, len(times), total, "samples")
        info = video.info
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
        t_s=np.asarray(times, np.float64), desc=global_descriptors(mids), thumbs=th, info=info
    )
    return kf, orbs, (mids if keep_mid else None)
