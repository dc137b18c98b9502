"""The data model of highlights: detected events, merged highlights, and the detectors' knobs.

Times are seconds on the video's PTS clock (0 = the first video frame), as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Every kind a detector can emit. ``jump`` and ``drop`` both come from free fall.
KINDS = ("jump", "drop", "crash", "fast", "loud", "shake")
#: What ``--kinds`` selects by default.
DEFAULT_KINDS = ("jump", "crash", "fast", "loud")


@dataclass(frozen=True)
class Event:
    """One detected moment: ``kind`` between ``start_s`` and ``end_s``, ``score`` in 0..1.

    ``reason`` is one human line ("airtime 640 ms, landing 3.1 g"); ``details`` holds the
    numbers behind it (``airtime_ms``, ``landing_g``, ``height_loss_m``, ``peak_m_s`` ...).
    """

    kind: str
    start_s: float
    end_s: float
    score: float
    reason: str
    source: str  # "imu" | "gps" | "audio" | "picture"
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """``end_s - start_s``."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Highlight:
    """Events merged within the merge gap, padded to a clip span, ranked (1 = best)."""

    rank: int
    start_s: float  # first event start
    end_s: float  # last event end
    clip_start_s: float  # start_s - pad, clamped to the video
    clip_end_s: float  # end_s + pad, clamped to the video
    score: float
    kinds: tuple[str, ...]
    events: tuple[Event, ...]

    @property
    def name(self) -> str:
        """A marker name: ``"#1 jump+loud"``."""
        return f"#{self.rank} {'+'.join(self.kinds)}"

    @property
    def reason(self) -> str:
        """The events' reasons joined with ``; ``."""
        return "; ".join(f"{e.kind}: {e.reason}" for e in self.events)


@dataclass(frozen=True)
class HighlightParams:
    """Detector thresholds. The defaults stay silent on the real GoPro samples (walking, a drone)
    and on quiet riding with chatter and braking bumps (see ``bench/bench_highlights.py``)."""

    # jump / drop (accelerometer, in g = 9.80665 m/s^2)
    freefall_g: float = 0.45  # smoothed |a| below this is free fall
    freefall_smooth_s: float = 0.03  # moving-mean window over |a| before thresholding
    min_airtime_s: float = 0.15
    max_airtime_s: float = 3.0
    freefall_gap_s: float = 0.04  # brief spikes inside the air (a knee, a pedal) are bridged
    landing_g: float = 1.6  # a peak this high within ``landing_window_s`` after the air
    landing_window_s: float = 0.3
    lip_g: float = (
        1.12  # mean |a| in the 0.3 s before take-off above this: a jump's pop, else a drop
    )
    drop_height_m: float = 1.5  # GPS height loss across the air above this: a drop
    # crash
    crash_g: float = 4.0  # impact peak
    crash_still_s: float = 2.0  # how long "little motion" must last after the impact
    crash_still_g: float = 0.12  # std of |a| (g) that counts as little motion
    crash_still_dps: float = 30.0  # rotation rate (deg/s, median) that counts as little motion
    crash_turn_deg: float = 50.0  # gravity direction change that counts as an orientation change
    # fast (GPS speed, m/s)
    fast_min_m_s: float = 10.0  # never "fast" below this (36 km/h)
    fast_quantile: float = 0.9  # and at least this quantile of the run's moving speed
    fast_min_s: float = 3.0
    # loud (audio, dB over the run's noise floor)
    loud_db: float = 20.0
    loud_onset_db: float = 12.0  # rise within 60 ms that starts a loud event
    loud_min_s: float = 0.02  # an impact is short
    # picture only
    picture_width_px: int = 96
    picture_fast_z: float = 2.5  # motion energy above median + z * MAD scale, sustained
    picture_shake_z: float = 6.0  # camera-shake burst above median + z * MAD scale
    picture_shake_min_px: float = 1.5  # ... and at least this jitter (pixels at picture_width_px)
    # merge and clips
    merge_gap_s: float = 6.0  # the seed's merge window
    pad_s: float = 2.0
