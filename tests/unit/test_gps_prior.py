"""The GPS time prior against synthetic tracks with a known warp (noise, 1 Hz, stops, lead-in)."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mtbsync_core import synthetic as syn
from mtbsync_core.gps import (
    clock_check,
    make_track,
    prior_for_videos,
    prior_from_tracks,
    prior_summary,
    read_track,
    refine_clock_offset,
    warp_samples_from_prior,
    write_fit,
    write_gpx,
)
from mtbsync_core.gps.synthetic_track import tracks_for_pair, trail_geometry

REF_UTC, NEW_UTC = 1_714_557_600.0, 1_714_561_200.0
PROFILE = syn.WarpProfile(
    t_ref_start_s=2.0, lead_in_s=4.0, mean_ratio=0.9, wobble=0.2, stops=((30.0, 5.0),)
)


@pytest.fixture(scope="module")
def trail() -> syn.Trail:
    return syn.make_trail()


def _pair(trail, profile=PROFILE, noise_m=3.0, seed=0, with_speed=True, ref_dur=90.0, new_dur=80.0):
    return tracks_for_pair(
        trail,
        profile,
        ref_duration_s=ref_dur,
        new_duration_s=new_dur,
        noise_m=noise_m,
        seed=seed,
        with_speed=with_speed,
        ref_start_utc=REF_UTC,
        new_start_utc=NEW_UTC,
    )


def _prior(ref, new, ref_dur=90.0, new_dur=80.0, **kw):
    return prior_from_tracks(
        ref,
        new,
        ref_clock_offset_s=REF_UTC,
        new_clock_offset_s=NEW_UTC,
        video_duration_ref_s=ref_dur,
        video_duration_new_s=new_dur,
        **kw,
    )


def _errors(prior, profile=PROFILE, ref_dur=90.0):
    truth = profile.truth(prior.t_new_s)
    ok = np.isfinite(truth) & (truth <= ref_dur)
    return np.abs(prior.t_ref_s[ok] - truth[ok])


def test_synthetic_track_follows_the_trail_distance(trail):
    s, xy = trail_geometry(300.0)
    assert np.hypot(*np.diff(xy, axis=0).T).sum() == pytest.approx(s[-1], rel=1e-3)
    ref, _ = _pair(trail, noise_m=0.0)
    expected = (trail.ref_distance(90.0) - trail.ref_distance(0.0)) / syn.PX_PER_M
    assert ref.length_m() == pytest.approx(expected, rel=0.03)  # 1 Hz chords cut the bends
    assert np.all(ref.t_s == np.round(ref.t_s)) and ref.rate_hz == pytest.approx(1.0)


def test_prior_recovers_known_warp_with_3m_noise(trail):
    ref, new = _pair(trail)
    prior = _prior(ref, new)
    assert prior is not None and prior.source == "gpx"
    err = _errors(prior)
    assert np.median(err) < 0.3
    assert np.percentile(err, 95) < prior.half_width_s  # the band holds the truth
    assert np.all(np.diff(prior.t_new_s) == pytest.approx(0.1))
    assert np.all(np.diff(prior.t_ref_s) >= -1e-9)
    assert (
        PROFILE.lead_in_s - 1.5 <= prior.t_new_s[0] <= PROFILE.lead_in_s + 1.5
    )  # lead-in left out
    d = prior.details
    assert d["used"] and d["speed_used"] and d["clock_offset_new_s"] == NEW_UTC
    assert d["overlap_new_s"][0] == pytest.approx(prior.t_new_s[0], abs=1e-3)
    json.dumps(prior_summary(prior))  # report-ready


def test_prior_without_speed_is_coarser_but_useful(trail):
    ref, new = _pair(trail, with_speed=False, seed=3)
    prior = _prior(ref, new)
    assert prior is not None and not prior.details["speed_used"]
    assert np.median(_errors(prior)) < 0.6


def test_stop_stays_flat(trail):
    ref, new = _pair(trail, noise_m=2.0, seed=1)
    prior = _prior(ref, new)
    start, dur = PROFILE.stops[0]
    inside = (prior.t_new_s > start + 1.0) & (prior.t_new_s < start + dur - 1.0)
    assert np.ptp(prior.t_ref_s[inside]) < 0.6


def test_warp_samples_for_gps_only_mode(trail):
    ref, new = _pair(trail, seed=2)
    prior = _prior(ref, new)
    t_new, t_ref, conf = warp_samples_from_prior(prior)
    assert len(t_new) == len(t_ref) == len(conf)
    assert len(t_new) >= 10 * (t_new[-1] - t_new[0])
    assert np.all((conf >= 0) & (conf <= 1)) and np.median(conf) > 0.3


def test_missing_short_or_unrelated_tracks_give_none(trail):
    ref, new = _pair(trail)
    assert prior_from_tracks(None, new) is None and prior_from_tracks(ref, None) is None
    assert _prior(ref, new.select(np.arange(len(new)) < 3)) is None
    far = make_track(
        new.t_s, new.lat_deg + 0.02, new.lon_deg, source="gpx", clock="utc"
    )  # 2 km north
    assert _prior(ref, far) is None


def test_no_overlap_inside_the_videos_gives_none(trail):
    ref, new = _pair(trail)
    # the new run's video is claimed to start an hour later than its track: no fix falls inside it
    assert (
        prior_from_tracks(
            ref,
            new,
            ref_clock_offset_s=REF_UTC,
            new_clock_offset_s=NEW_UTC + 3600,
            video_duration_ref_s=90.0,
            video_duration_new_s=80.0,
        )
        is None
    )


def test_refine_clock_offset_against_a_visual_warp(trail):
    ref, new = _pair(trail, seed=4)
    t_new = np.arange(5.0, 75.0, 0.1)
    t_ref = PROFILE.truth(t_new)  # a perfect "visual" warp
    wrong = NEW_UTC + 7.3
    prior_wrong = prior_from_tracks(ref, new, ref_clock_offset_s=REF_UTC, new_clock_offset_s=wrong)
    assert np.median(_errors(prior_wrong)) > 5.0  # a wrong clock shifts the whole prior
    fixed = refine_clock_offset(
        ref, new, t_new, t_ref, ref_clock_offset_s=REF_UTC, new_clock_offset_s=wrong
    )
    assert fixed is not None and fixed.method == "visual"
    assert fixed.offset_s == pytest.approx(NEW_UTC, abs=0.3)
    ref_fix = refine_clock_offset(
        ref,
        new,
        t_new,
        t_ref,
        ref_clock_offset_s=REF_UTC - 4.0,
        new_clock_offset_s=NEW_UTC,
        which="ref",
    )
    assert ref_fix.offset_s == pytest.approx(REF_UTC, abs=0.3)


def test_gpx_and_fit_files_give_the_same_prior(trail, tmp_path):
    ref, new = _pair(trail, seed=5)
    for name, pair, speed in (("speed", (ref, new), True), ("nospeed", _no_speed(ref, new), False)):
        base = _prior(*pair)
        for suffix, writer in ((".gpx", write_gpx), (".fit", write_fit)):
            r = read_track(writer(pair[0], tmp_path / f"ref_{name}{suffix}"))
            n = read_track(writer(pair[1], tmp_path / f"new_{name}{suffix}"))
            prior = _prior(r, n)
            assert prior is not None and prior.source == suffix[1:]
            assert prior.details["speed_used"] == speed
            assert np.median(_errors(prior)) < (0.3 if speed else 0.6)
            assert len(prior.t_new_s) == len(base.t_new_s)
            assert np.max(np.abs(prior.t_ref_s - base.t_ref_s)) < 0.05


def _no_speed(*tracks):
    from dataclasses import replace

    return [replace(t, speed_m_s=np.full(len(t), np.nan)) for t in tracks]


def _video(path, created: str, seconds: int = 2):
    with av.open(str(path), "w") as out:
        out.metadata["creation_time"] = created
        st_ = out.add_stream("libx264", rate=5)
        st_.width, st_.height, st_.pix_fmt = 64, 48, "yuv420p"
        for _ in range(5 * seconds):
            for pkt in st_.encode(
                av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="bgr24")
            ):
                out.mux(pkt)
        for pkt in st_.encode():
            out.mux(pkt)
    return path


def test_prior_for_videos_uses_creation_time(trail, tmp_path):
    ref, new = _pair(trail, seed=6)
    ref_video = _video(tmp_path / "ref.mp4", "2024-05-01T10:00:00Z")  # = REF_UTC
    new_video = _video(tmp_path / "new.mp4", "2024-05-01T11:00:00Z")  # = NEW_UTC
    prior, info = prior_for_videos(
        ref_video,
        new_video,
        ref_track=ref,
        new_track=new,
        video_duration_ref_s=90.0,
        video_duration_new_s=80.0,
    )
    assert prior is not None and info["used"]
    assert (
        info["clock_ref"]["method"] == "creation_time" and info["clock_ref"]["offset_s"] == REF_UTC
    )
    assert np.median(_errors(prior)) < 0.3
    json.dumps(info)
    none, why = prior_for_videos(ref_video, new_video, ref_track=ref, new_track=None)
    assert none is None and not why["used"] and "new:" in why["reason"]


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ratio=st.floats(0.7, 1.3),
    wobble=st.floats(0.0, 0.25),
    start=st.floats(0.0, 20.0),
    noise=st.floats(2.0, 5.0),
    seed=st.integers(0, 1000),
)
def test_prior_is_monotone_and_its_band_holds_the_truth(trail, ratio, wobble, start, noise, seed):
    profile = syn.WarpProfile(t_ref_start_s=start, mean_ratio=ratio, wobble=wobble)
    ref, new = _pair(trail, profile=profile, noise_m=noise, seed=seed, new_dur=60.0)
    prior = _prior(ref, new, new_dur=60.0)
    assert prior is not None
    assert np.all(np.diff(prior.t_ref_s) >= -1e-9)
    err = _errors(prior, profile)
    assert np.percentile(err, 95) < prior.half_width_s
    # the error follows the noise: at 3.5 m/s a metre of position is about 0.3 s of time
    assert np.median(err) < 0.1 + 0.12 * noise, (np.median(err), noise)


def test_decimate_averages_fast_tracks():
    from mtbsync_core.gps.track import decimate

    t = np.arange(0.0, 10.0, 1 / 18)
    tr = make_track(
        t,
        46.5 + t * 1e-5,
        np.full(len(t), 7.9),
        None,
        np.full(len(t), 3.0),
        source="gpmf",
        clock="video",
    )
    d = decimate(tr, 5.0)
    assert d.rate_hz == pytest.approx(5.0, rel=0.05) and len(d) == 50
    np.testing.assert_allclose(d.lat_deg, 46.5 + d.t_s * 1e-5, atol=1e-12)  # linear: mean of means
    assert decimate(d, 5.0) is d


def test_clock_check_reports_the_offset_error_after_vision(trail):
    ref, new = _pair(trail, seed=7)
    # metadata put the new video's start 2.5 s too late (e.g. creation_time written at 1st keyframe)
    prior = prior_from_tracks(
        ref,
        new,
        ref_clock_offset_s=REF_UTC,
        new_clock_offset_s=NEW_UTC + 2.5,
        video_duration_ref_s=90.0,
        video_duration_new_s=80.0,
    )
    t_new = np.arange(6.0, 70.0, 0.1)
    report = clock_check(prior, t_new, PROFILE.truth(t_new))
    assert report["correction_new_s"] == pytest.approx(-2.5, abs=0.3)
    assert report["visual_offset_new_s"] == pytest.approx(NEW_UTC, abs=0.3)
    assert abs(report["gps_vs_vision_median_s"]) > 1.5  # the prior was visibly off
    json.dumps(report)


def _hairpin_xy(s_m: np.ndarray) -> np.ndarray:
    """An out-and-back trail: 150 m east, a 6 m radius hairpin, 150 m back west 12 m further north."""
    leg, r = 150.0, 6.0
    arc = np.pi * r
    x = np.where(
        s_m < leg,
        s_m,
        np.where(s_m < leg + arc, leg + r * np.sin((s_m - leg) / r), leg - (s_m - leg - arc)),
    )
    y = np.where(s_m < leg, 0.0, np.where(s_m < leg + arc, r - r * np.cos((s_m - leg) / r), 2 * r))
    return np.column_stack([x, y])


def _hairpin_track(t_s: np.ndarray, s_m: np.ndarray, speed: np.ndarray, seed: int):
    from mtbsync_core.gps.track import from_local_m

    xy = _hairpin_xy(s_m) + np.random.default_rng(seed).normal(0, 3.0 / np.sqrt(2), (len(t_s), 2))
    lat, lon = from_local_m(xy[:, 0], xy[:, 1], 46.5, 7.9)
    return make_track(t_s, lat, lon, None, speed, source="fit", clock="video")


def test_hairpin_legs_twelve_metres_apart_are_not_confused():
    t_ref = np.arange(0.0, 76.0)
    ref = _hairpin_track(t_ref, 4.0 * t_ref, np.full(len(t_ref), 4.0), seed=11)
    t_new = np.arange(0.0, 90.0)
    s_new = 3.5 * np.where(t_new < 40, t_new, np.where(t_new < 50, 40.0, t_new - 10.0))  # 10 s stop
    new = _hairpin_track(t_new, s_new, np.where((t_new >= 40) & (t_new < 50), 0.0, 3.5), seed=12)
    prior = prior_from_tracks(ref, new)
    assert prior is not None
    truth = np.interp(prior.t_new_s, t_new, s_new) / 4.0
    ok = truth <= t_ref[-1]
    err = np.abs(prior.t_ref_s[ok] - truth[ok])
    assert np.median(err) < 0.3 and err.max() < 1.5  # a leg swap would be ~35 s off


def test_duplicate_times_and_partial_speed_are_tolerated(trail):
    ref, new = _pair(trail, seed=8)
    dup = np.sort(np.concatenate([np.arange(len(new)), np.arange(0, len(new), 7)]))
    speed = new.speed_m_s.copy()
    speed[::3] = np.nan  # some fixes without speed
    from dataclasses import replace

    messy = replace(new, speed_m_s=speed).select(dup)
    prior = _prior(ref, messy)
    assert prior is not None and np.all(np.isfinite(prior.t_ref_s))
    assert np.median(_errors(prior)) < 0.3
