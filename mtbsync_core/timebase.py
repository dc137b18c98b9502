"""Rational time: frame rates as :class:`~fractions.Fraction`, frames <-> seconds <-> timecode.

Frame numbers are 0-based. Drop-frame timecode follows SMPTE 12M for 29.97 and 59.94 fps:
frame numbers 0 and 1 (0-3 at 59.94) are skipped at the start of every minute except every tenth.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

#: Rates editors use, by the names people type. NTSC rates are exact ratios.
STANDARD_RATES: dict[str, Fraction] = {
    "23.976": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97": Fraction(30000, 1001),
    "30": Fraction(30),
    "48": Fraction(48),
    "50": Fraction(50),
    "59.94": Fraction(60000, 1001),
    "60": Fraction(60),
    "100": Fraction(100),
    "119.88": Fraction(120000, 1001),
    "120": Fraction(120),
    "240": Fraction(240),
}

_TC_RE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})([:;.,])(\d{2,3})$")


def parse_fps(text: str | float | Fraction) -> Fraction:
    """Read a frame rate: ``"29.97"``, ``"30000/1001"``, ``25``, or a Fraction.

    Decimal NTSC spellings (23.976, 29.97, 59.94, 119.88) become their exact /1001 ratios.
    """
    if isinstance(text, Fraction):
        fps = text
    elif isinstance(text, int | float):
        fps = snap_fps(float(text))
    else:
        s = str(text).strip()
        if s in STANDARD_RATES:
            return STANDARD_RATES[s]
        try:
            fps = Fraction(s) if "/" in s else snap_fps(float(s))
        except (ValueError, ZeroDivisionError) as err:
            raise ValueError(
                f"Not a frame rate: {text!r}. Use e.g. 25, 29.97 or 30000/1001."
            ) from err
    if fps <= 0:
        raise ValueError(f"Frame rate must be positive, got {text!r}.")
    return fps


def snap_fps(fps: float, tol: float = 2e-3) -> Fraction:
    """The standard rate within ``tol`` of ``fps`` if any, else ``fps`` as a close Fraction."""
    for rate in STANDARD_RATES.values():
        if abs(float(rate) - fps) <= tol * max(1.0, fps / 30):
            return rate
    return Fraction(fps).limit_denominator(1001)


def is_drop_frame_rate(fps: Fraction) -> bool:
    """True for 29.97 and 59.94 (the NTSC rates that use drop-frame timecode)."""
    return fps in (Fraction(30000, 1001), Fraction(60000, 1001))


def timecode_base(fps: Fraction) -> int:
    """The integer frame count per timecode second (30 for 29.97)."""
    return int(math.ceil(float(fps) - 1e-9))


def seconds_to_frame(t_s: float | Fraction, fps: Fraction) -> int:
    """Index of the frame on screen at ``t_s`` (nearest frame start, ties up)."""
    return int(math.floor(Fraction(t_s) * fps + Fraction(1, 2)))


def frame_to_seconds(frame_idx: int, fps: Fraction) -> Fraction:
    """Start time of frame ``frame_idx`` as an exact Fraction of seconds."""
    return Fraction(frame_idx) / fps


def frames_to_timecode(frame_idx: int, fps: Fraction, drop_frame: bool | None = None) -> str:
    """``HH:MM:SS:FF`` (``;`` before frames when drop-frame) for a 0-based frame count."""
    if frame_idx < 0:
        raise ValueError(f"Timecode needs a non-negative frame count, got {frame_idx}.")
    base = timecode_base(fps)
    drop = is_drop_frame_rate(fps) if drop_frame is None else drop_frame
    n = frame_idx
    if drop:
        dropped = 2 * base // 30  # 2 at 29.97, 4 at 59.94
        per_min = base * 60 - dropped
        per_10min = per_min * 10 + dropped
        tens, rem = divmod(n, per_10min)
        n += dropped * 9 * tens
        if rem > dropped:
            n += dropped * ((rem - dropped) // per_min)
    ff = n % base
    ss = (n // base) % 60
    mm = (n // (base * 60)) % 60
    hh = n // (base * 3600)
    sep = ";" if drop else ":"
    return f"{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:02d}"


def timecode_to_frames(tc: str, fps: Fraction, drop_frame: bool | None = None) -> int:
    """Inverse of :func:`frames_to_timecode`. A ``;`` separator implies drop-frame."""
    m = _TC_RE.match(tc.strip())
    if not m:
        raise ValueError(f"Not a timecode: {tc!r}. Use HH:MM:SS:FF.")
    hh, mm, ss, sep, ff = int(m[1]), int(m[2]), int(m[3]), m[4], int(m[5])
    base = timecode_base(fps)
    if ff >= base or ss >= 60 or mm >= 60:
        raise ValueError(f"Timecode {tc!r} is out of range for {float(fps):.3f} fps.")
    drop = (sep in ";," or is_drop_frame_rate(fps)) if drop_frame is None else drop_frame
    total_min = hh * 60 + mm
    n = ((hh * 3600 + mm * 60 + ss) * base) + ff
    if drop:
        dropped = 2 * base // 30
        if ss == 0 and mm % 10 != 0 and ff < dropped:
            raise ValueError(
                f"Timecode {tc!r} does not exist in drop-frame timecode (frames 00-{dropped - 1:02d} "
                "are skipped at each minute except every tenth)."
            )
        n -= dropped * (total_min - total_min // 10)
    return n


def seconds_to_timecode(
    t_s: float | Fraction, fps: Fraction, drop_frame: bool | None = None
) -> str:
    """Timecode of the frame on screen at ``t_s`` seconds."""
    return frames_to_timecode(seconds_to_frame(t_s, fps), fps, drop_frame)


def format_fraction_s(t: Fraction) -> str:
    """FCPXML-style rational seconds: ``1001/30000s``, ``5s``, ``0s``."""
    t = Fraction(t)
    if t.denominator == 1:
        return f"{t.numerator}s"
    return f"{t.numerator}/{t.denominator}s"


def parse_fraction_s(text: str) -> Fraction:
    """Read ``1001/30000s`` / ``5s`` / ``0s`` (FCPXML rational seconds)."""
    s = text.strip()
    if not s.endswith("s"):
        raise ValueError(f"Not a rational time: {text!r} (expected e.g. 1001/30000s).")
    return Fraction(s[:-1])
