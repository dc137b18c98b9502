"""Audio sync: known offsets and drifts under wind noise, unrelated and repetitive sound, AAC timing."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from scipy.signal import resample_poly

from mtbsync_core.errors import AudioMissingError
from mtbsync_core.multicam.audio import estimate_audio_pair
from mtbsync_core.multicam.media import AudioTrack, decode_audio
from mtbsync_core.multicam.synth import camera_audio, scene_audio, wind_noise, write_audio


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    return scene_audio(50.0, 16000, seed=4)


def _track(x: np.ndarray, t0_s: float = 0.0) -> AudioTrack:
    return AudioTrack(resample_poly(x, 1, 2).astype(np.float32), 8000, t0_s)


@pytest.mark.parametrize(("drift_ppm", "snr_db"), [(0.0, 0.0), (350.0, -5.0), (-500.0, -8.0)])
def test_audio_pair_recovers_offset_and_drift_in_wind(scene, drift_ppm, snr_db):
    a = camera_audio(scene, 16000, 1.5, 0.0, 45.0, 16000, snr_db, seed=1)
    b = camera_audio(scene, 16000, 6.25, drift_ppm, 40.0, 16000, snr_db, seed=2)
    est = estimate_audio_pair(_track(a), _track(b))
    assert est.status == "ok", est.message
    # t_a = 4.75 + (1 + drift) t_b
    assert abs(est.offset_s - 4.75) < 0.001
    assert abs(est.drift_ppm - drift_ppm) < 5.0
    assert est.n_inliers >= 3 and est.confidence > 0.5


def test_audio_pair_uses_track_start_times(scene):
    a = camera_audio(scene, 16000, 1.5, 0.0, 30.0, 16000, 0.0, seed=1)
    b = camera_audio(scene, 16000, 3.0, 0.0, 25.0, 16000, 0.0, seed=2)
    # b's audio begins 0.4 s before its first picture: camera time of sample 0 is -0.4
    est = estimate_audio_pair(_track(a, 0.2), _track(b, -0.4))
    assert est.status == "ok"
    # master(a) time of a sample = 1.5 + (t_a - 0.2) ... t_a = 0.2 + 1.5 ... ; sample k of b at scene 3.0 + k/sr
    # scene = 1.5 + (t_a - 0.2) = 3.0 + (t_b + 0.4)  ->  t_a = 2.1 + t_b
    assert abs(est.offset_s - 2.1) < 0.001


def test_unrelated_audio_is_ambiguous(scene):
    other = scene_audio(50.0, 16000, seed=99)
    for k in range(3):
        a = camera_audio(scene, 16000, 1.0 + k, 0.0, 30.0, 16000, 0.0, seed=10 + k)
        b = camera_audio(other, 16000, 2.0, 0.0, 30.0, 16000, 0.0, seed=20 + k)
        est = estimate_audio_pair(_track(a), _track(b))
        assert est.status == "ambiguous", (k, est)
        assert est.confidence <= 0.3


def test_repetitive_audio_is_ambiguous():
    sr = 16000
    clicks = np.zeros(sr * 30, np.float32)
    clicks[:: sr // 4] = 1.0  # 4 Hz freewheel-like ticks, nothing else
    a = clicks + 0.05 * wind_noise(len(clicks), sr, 1)
    b = np.roll(clicks, 1234) + 0.05 * wind_noise(len(clicks), sr, 2)
    est = estimate_audio_pair(_track(a), _track(b))
    assert est.status == "ambiguous"


def test_wind_only_is_ambiguous():
    sr = 16000
    est = estimate_audio_pair(
        _track(wind_noise(sr * 20, sr, 1)), _track(wind_noise(sr * 20, sr, 2))
    )
    assert est.status == "ambiguous"


def _write_av(path, rate_hz: int, click_s: float, video_start_s: float) -> None:
    """A 3 s video whose first frame is at ``video_start_s`` and an AAC track with one click."""
    sig = np.zeros(rate_hz * 3, np.float32)
    k = int(click_s * rate_hz)
    sig[k : k + rate_hz // 1000] = 0.9
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=30)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        vs.codec_context.time_base = Fraction(1, 90000)
        st = out.add_stream("aac", rate=rate_hz)
        st.layout = "mono"
        for i in range(60):
            f = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="bgr24")
            f.pts, f.time_base = i * 3000 + round(video_start_s * 90000), Fraction(1, 90000)
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        for s in range(0, len(sig), 1024):
            af = av.AudioFrame.from_ndarray(sig[None, s : s + 1024], format="flt", layout="mono")
            af.sample_rate, af.pts, af.time_base = rate_hz, s, Fraction(1, rate_hz)
            for p in st.encode(af):
                out.mux(p)
        for p in st.encode():
            out.mux(p)


@pytest.mark.parametrize("rate_hz", [48000, 44100])
def test_aac_priming_and_video_start_are_compensated(tmp_path, rate_hz):
    """An AAC click at audio time 1.0 s lands at camera time 1.0 - video_start (priming removed)."""
    path = tmp_path / "click.mp4"
    _write_av(path, rate_hz, 1.0, video_start_s=0.25)
    tr = decode_audio(path, 8000)
    k = int(np.argmax(np.abs(tr.samples)))
    t_click = tr.t0_s + k / tr.rate_hz
    # 1024 priming samples would be 21-23 ms; demand under 2 ms
    assert abs(t_click - 0.75) < 0.002, t_click


def test_decode_audio_without_audio_suggests_flash(tmp_path):
    path = tmp_path / "silent.mp4"
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=30)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            f = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="bgr24")
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
    with pytest.raises(AudioMissingError, match="flash"):
        decode_audio(path)


def test_aac_roundtrip_of_scene_keeps_offset(tmp_path, scene):
    """Through PyAV's AAC encoder (an .m4a each), the pair still lands within 1 ms."""
    a = camera_audio(scene, 16000, 2.0, 0.0, 20.0, 16000, -3.0, seed=5)
    b = camera_audio(scene, 16000, 4.5, 200.0, 20.0, 16000, -3.0, seed=6)
    write_audio(tmp_path / "a.m4a", a, 16000)
    write_audio(tmp_path / "b.m4a", b, 16000)
    est = estimate_audio_pair(decode_audio(tmp_path / "a.m4a"), decode_audio(tmp_path / "b.m4a"))
    assert est.status == "ok"
    assert abs(est.offset_s - 2.5) < 0.001
    assert abs(est.drift_ppm - 200.0) < 20.0


GOPRO = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gopro"


@pytest.mark.parametrize("name", ["max-heromode.mp4", "karma.mp4"])
def test_real_gopro_sound_two_cameras(name):
    """Real recorded sound (a GoPro's AAC track) heard by two drifting cameras in wind."""
    src = GOPRO / name
    if not src.exists():
        pytest.skip(f"real GoPro sample not found at {src}")
    scene = decode_audio(src, 16000).samples
    a = camera_audio(scene, 16000, 0.2, 0.0, 7.5, 8000, -3.0, seed=1)
    b = camera_audio(scene, 16000, 2.5, 300.0, 7.5, 8000, -3.0, seed=2)
    est = estimate_audio_pair(AudioTrack(a, 8000, 0.0), AudioTrack(b, 8000, 0.0))
    assert est.status == "ok"
    assert abs(est.offset_s - 2.3) < 0.001


def test_gap_in_audio_timestamps_is_filled(tmp_path):
    """Half a second of lost AAC packets: sound after the gap stays at its true time."""
    sr, path = 48000, tmp_path / "gap.mp4"
    sig = np.zeros(sr * 4, np.float32)
    sig[3 * sr : 3 * sr + 48] = 0.9
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=30)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        st = out.add_stream("aac", rate=sr)
        st.layout = "mono"
        for i in range(120):
            f = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="bgr24")
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        for s in range(0, len(sig), 1024):
            if sr <= s < 1.5 * sr:
                continue  # packets lost between 1.0 and 1.5 s
            af = av.AudioFrame.from_ndarray(sig[None, s : s + 1024], format="flt", layout="mono")
            af.sample_rate, af.pts, af.time_base = sr, s, Fraction(1, sr)
            for p in st.encode(af):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    tr = decode_audio(path)
    k = int(np.argmax(np.abs(tr.samples)))
    assert abs(tr.t0_s + k / tr.rate_hz - 3.0) < 0.002


def test_bframe_video_with_edit_list_agrees_with_audio(tmp_path):
    """x264 with 3 B-frames (the MP4 muxer writes an edit list): a white frame and a click, both at
    1.0 s, land at the same camera time."""
    sr, path = 48000, tmp_path / "bf.mp4"
    sig = np.zeros(sr * 3, np.float32)
    sig[sr : sr + 48] = 0.9
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=30)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        vs.options = {"bf": "3", "g": "12"}
        st = out.add_stream("aac", rate=sr)
        st.layout = "mono"
        for i in range(90):
            f = av.VideoFrame.from_ndarray(
                np.full((48, 64, 3), 255 if i == 30 else 0, np.uint8), format="bgr24"
            )
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        for s in range(0, len(sig), 1024):
            af = av.AudioFrame.from_ndarray(sig[None, s : s + 1024], format="flt", layout="mono")
            af.sample_rate, af.pts, af.time_base = sr, s, Fraction(1, sr)
            for p in st.encode(af):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    from mtbsync_core.multicam.media import read_pts_table

    tab = read_pts_table(path)
    with av.open(str(path)) as c:
        white = [
            k for k, f in enumerate(c.decode(video=0)) if f.to_ndarray(format="gray").mean() > 100
        ]
    assert white == [30] and abs(tab.t_s[30] - 1.0) < 1e-6
    tr = decode_audio(path)
    k = int(np.argmax(np.abs(tr.samples)))
    assert abs(tr.t0_s + k / tr.rate_hz - tab.t_s[30]) < 0.002


def test_short_overlap_at_the_end(scene):
    """Only the last 5 s of a 40 s recording overlap the other camera: still found, exactly."""
    a = camera_audio(scene, 16000, 1.0, 0.0, 40.0, 8000, -3.0, seed=1)
    b = camera_audio(scene, 16000, 36.0, 250.0, 12.0, 8000, -3.0, seed=2)
    est = estimate_audio_pair(AudioTrack(a, 8000, 0.0), AudioTrack(b, 8000, 0.0))
    assert est.status == "ok", est.message
    assert abs(est.offset_s - 35.0) < 0.001
