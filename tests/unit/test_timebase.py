"""Rational time: frame rates, frames <-> seconds <-> timecode, drop-frame known values."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mtbsync_core.timebase import (
    format_fraction_s,
    frame_to_seconds,
    frames_to_timecode,
    is_drop_frame_rate,
    parse_fps,
    parse_fraction_s,
    seconds_to_frame,
    seconds_to_timecode,
    timecode_to_frames,
)

RATES = {
    "23.976": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97": Fraction(30000, 1001),
    "30": Fraction(30),
    "50": Fraction(50),
    "59.94": Fraction(60000, 1001),
    "60": Fraction(60),
}
FRAMES = st.integers(min_value=0, max_value=24 * 3600 * 60 - 1)  # up to a day at 60 fps
rates = st.sampled_from(sorted(RATES))


@pytest.mark.parametrize("text, fps", sorted(RATES.items()))
def test_parse_fps_reads_each_spelling_as_the_exact_rate(text, fps):
    assert parse_fps(text) == fps
    assert parse_fps(f"{fps.numerator}/{fps.denominator}") == fps
    assert parse_fps(float(fps)) == fps  # a float that is close snaps to the exact ratio
    assert parse_fps(fps) == fps


def test_parse_fps_ntsc_decimals_are_exact_ratios_not_floats():
    assert parse_fps("29.97") == Fraction(30000, 1001)
    assert parse_fps("29.97") != Fraction("29.97")
    assert parse_fps(" 59.94 ") == Fraction(60000, 1001)
    assert parse_fps(29.97) == Fraction(30000, 1001)
    assert parse_fps("12.5") == Fraction(25, 2)  # not a standard rate: kept as given


@pytest.mark.parametrize("bad", ["abc", "", "0", "-25", "30/0", "0/1001"])
def test_parse_fps_rejects_non_rates_with_the_value_in_the_message(bad):
    with pytest.raises(ValueError, match="rame rate"):
        parse_fps(bad)


def test_drop_frame_rates_are_only_the_ntsc_30_and_60():
    assert is_drop_frame_rate(RATES["29.97"]) and is_drop_frame_rate(RATES["59.94"])
    for name in ("23.976", "24", "25", "30", "50", "60"):
        assert not is_drop_frame_rate(RATES[name])


@pytest.mark.parametrize(
    "fps, frame, tc",
    [
        ("29.97", 0, "00:00:00;00"),
        ("29.97", 1799, "00:00:59;29"),
        ("29.97", 1800, "00:01:00;02"),  # ;00 and ;01 are skipped at the minute
        ("29.97", 3598, "00:02:00;02"),
        ("29.97", 17981, "00:09:59;29"),
        ("29.97", 17982, "00:10:00;00"),  # every tenth minute keeps them
        ("29.97", 107892, "01:00:00;00"),
        ("59.94", 3599, "00:00:59;59"),
        ("59.94", 3600, "00:01:00;04"),  # four frame numbers dropped at 59.94
        ("59.94", 35964, "00:10:00;00"),
        ("25", 90000, "01:00:00:00"),
        ("23.976", 24, "00:00:01:00"),  # 23.976 is non-drop, 24 frames a timecode second
        ("23.976", 86400, "01:00:00:00"),
        ("30", 1800, "00:01:00:00"),
        ("60", 3600, "00:01:00:00"),
    ],
)
def test_timecode_known_values(fps, frame, tc):
    rate = RATES[fps]
    assert frames_to_timecode(frame, rate) == tc
    assert timecode_to_frames(tc, rate) == frame


def test_drop_frame_can_be_forced_off_at_2997():
    assert frames_to_timecode(1800, RATES["29.97"], drop_frame=False) == "00:01:00:00"
    assert timecode_to_frames("00:01:00:00", RATES["29.97"], drop_frame=False) == 1800


def test_timecode_rejects_garbage_and_out_of_range():
    with pytest.raises(ValueError, match="Not a timecode"):
        timecode_to_frames("1:2:3", RATES["25"])
    with pytest.raises(ValueError, match="out of range"):
        timecode_to_frames("00:00:00:25", RATES["25"])  # frames run 0..24 at 25 fps
    with pytest.raises(ValueError, match="non-negative"):
        frames_to_timecode(-1, RATES["25"])


@pytest.mark.parametrize(
    "fps, tc",
    [
        ("29.97", "00:01:00;00"),
        ("29.97", "00:01:00;01"),
        ("29.97", "01:59:00;01"),
        ("59.94", "00:01:00;03"),
    ],
)
def test_drop_frame_labels_that_do_not_exist_are_refused(fps, tc):
    """Drop-frame skips these labels; reading one silently would alias an existing frame
    (00:01:00;00 would read as frame 1798, which is 00:00:59;28)."""
    with pytest.raises(ValueError, match="drop-frame"):
        timecode_to_frames(tc, RATES[fps])


@settings(max_examples=300, deadline=None)
@given(rate=rates, frame=FRAMES)
def test_frames_timecode_frames_round_trip(rate, frame):
    fps = RATES[rate]
    tc = frames_to_timecode(frame, fps)
    assert timecode_to_frames(tc, fps) == frame


@settings(max_examples=300, deadline=None)
@given(rate=rates, frame=FRAMES)
def test_frames_seconds_frames_round_trip_is_exact(rate, frame):
    fps = RATES[rate]
    t = frame_to_seconds(frame, fps)
    assert isinstance(t, Fraction)
    assert t * fps == frame  # exact, no float drift even after hours
    assert seconds_to_frame(t, fps) == frame
    assert seconds_to_frame(float(t), fps) == frame  # a float time lands on the same frame
    # a time anywhere inside the frame's first half still shows that frame
    assert seconds_to_frame(t + Fraction(1, 3) / fps, fps) == frame


@settings(max_examples=200, deadline=None)
@given(
    rate=rates,
    hh=st.integers(0, 23),
    mm=st.integers(0, 59),
    ss=st.integers(0, 59),
    ff=st.integers(0, 59),
)
def test_timecode_frames_timecode_round_trip(rate, hh, mm, ss, ff):
    fps = RATES[rate]
    base = round(float(fps))
    ff = ff % base
    if is_drop_frame_rate(fps) and ss == 0 and mm % 10 != 0:
        ff = max(ff, 2 * base // 30)  # those frame numbers do not exist in drop-frame timecode
    sep = ";" if is_drop_frame_rate(fps) else ":"
    tc = f"{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:02d}"
    n = timecode_to_frames(tc, fps)
    assert frames_to_timecode(n, fps) == tc
    assert seconds_to_timecode(frame_to_seconds(n, fps), fps) == tc


@settings(max_examples=200, deadline=None)
@given(rate=rates, frame=st.integers(0, 10**6))
def test_drop_frame_timecode_tracks_wall_clock(rate, frame):
    """Drop-frame timecode stays within a few frames of real elapsed time (its whole purpose)."""
    fps = RATES[rate]
    n = timecode_to_frames(frames_to_timecode(frame, fps), fps)
    hh, mm, ss, ff = (int(x) for x in frames_to_timecode(frame, fps).replace(";", ":").split(":"))
    tc_seconds = hh * 3600 + mm * 60 + ss + ff / round(float(fps))
    real_seconds = float(frame_to_seconds(n, fps))
    if is_drop_frame_rate(fps):
        assert abs(tc_seconds - real_seconds) < 0.1
    else:
        assert tc_seconds <= real_seconds + 1e-9  # non-drop at 23.976 falls behind the clock


@given(num=st.integers(0, 10**9), den=st.integers(1, 10**6))
def test_fcpxml_rational_seconds_round_trip(num, den):
    t = Fraction(num, den)
    text = format_fraction_s(t)
    assert text.endswith("s")
    assert parse_fraction_s(text) == t


def test_fcpxml_rational_seconds_known_strings():
    assert format_fraction_s(Fraction(1001, 30000)) == "1001/30000s"
    assert format_fraction_s(Fraction(5)) == "5s"
    assert format_fraction_s(Fraction(0)) == "0s"
    with pytest.raises(ValueError, match="rational time"):
        parse_fraction_s("1001/30000")
