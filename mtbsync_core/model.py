"""Frozen dataclasses passed between the engine's steps. Arrays inside, no I/O here.

Times are float seconds unless a name says otherwise; ``t_ref_s`` is time on the reference run,
``t_new_s`` time on the new run, both measured from the video's first frame (PTS - start PTS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np


@dataclass(frozen=True)
class VideoInfo:
    """What a probe learns about a video file without decoding it all."""

    path: str
    width: int
    height: int
    fps: Fraction  # average frame rate
    duration_s: float
    frame_count: int  # from the container; exact after a full scan
    codec: str
    rotation_deg: int = 0  # display rotation from the container's matrix
    is_vfr: bool = False
    start_time_s: float = 0.0  # PTS of the first video frame, in seconds
    has_audio: bool = False
    gop_size: int | None = None  # frames between keyframes, when it could be seen


@dataclass(frozen=True)
class Keyframes:
    """Sampled frames of one video, reduced to descriptors.

    ``t_s[i]`` is the presentation time of sample ``i``; ``desc[i]`` its global descriptor
    (unit-norm float32 row); ``thumbs[i]`` a small grey image kept for refinement.
    """

    t_s: np.ndarray  # (n,) float64, strictly increasing
    desc: np.ndarray  # (n, d) float32
    thumbs: np.ndarray  # (n, h, w) uint8
    info: VideoInfo
    # (n, d) float32 row profiles of the samples' mid thumbnails (features.row_profiles), for
    # placement along the trail when the new run took another line; None where not made
    rows: np.ndarray | None = None


@dataclass(frozen=True)
class Marker:
    """A named moment on a run (seconds from the video's first frame)."""

    name: str
    t_ref_s: float
    colour: str = ""
    comment: str = ""


@dataclass(frozen=True)
class TransferredMarker:
    """A reference marker carried to the new run.

    ``t_new_s`` is NaN when the marker lies outside the overlap (then ``in_overlap`` is False and
    ``needs_review`` True): it is flagged, never clamped.
    """

    name: str
    t_ref_s: float
    t_new_s: float
    confidence: float  # 0..1
    needs_review: bool
    comment: str = ""
    colour: str = ""
    in_overlap: bool = True
    duration_s: float = 0.0  # a span on the new run (a highlight); 0 = a point marker


@dataclass(frozen=True)
class TimePrior:
    """A coarse guess of t_new -> t_ref (from GPS or telemetry) with an uncertainty band."""

    t_new_s: np.ndarray  # (n,) increasing
    t_ref_s: np.ndarray  # (n,) non-decreasing
    half_width_s: float  # the visual search keeps within +- this of the prior
    source: str  # "gpx", "fit", "gpmf", ...
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MatchPairs:
    """Verified time pairs between the new and the reference run."""

    t_new_s: np.ndarray  # (n,)
    t_ref_s: np.ndarray  # (n,)
    similarity: np.ndarray  # (n,) global-descriptor cosine similarity
    inliers: np.ndarray  # (n,) RANSAC inlier count, -1 where not verified
    confidence: np.ndarray  # (n,) 0..1
