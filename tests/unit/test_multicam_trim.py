"""Trim export: copy / smart cut / full re-encode choice, and the H.264 helpers of the smart cut."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from mtbsync_core.errors import MulticamError, OutputExistsError
from mtbsync_core.multicam import CameraSync, MulticamResult, read_pts_table, trim_cameras
from mtbsync_core.multicam.synth import CamSpec, make_camera_set
from mtbsync_core.video.h264 import _ue, annexb_to_avcc, nal_types, parse_avcc


def _mpeg4(path, n: int = 60) -> None:
    """A non-H.264 video (MPEG-4 Part 2, GOP 12) with AAC sound."""
    with av.open(str(path), "w") as out:
        vs = out.add_stream("mpeg4", rate=30)
        vs.width, vs.height, vs.pix_fmt = 96, 64, "yuv420p"
        vs.options = {"g": "12"}
        st = out.add_stream("aac", rate=16000)
        st.layout = "mono"
        for i in range(n):
            img = np.full((64, 96, 3), (i * 4) % 256, np.uint8)
            f = av.VideoFrame.from_ndarray(img, format="bgr24")
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        sig = (0.1 * np.sin(np.arange(16000 * 2) / 5.0)).astype(np.float32)
        for s in range(0, len(sig), 1024):
            af = av.AudioFrame.from_ndarray(sig[None, s : s + 1024], format="flt", layout="mono")
            af.sample_rate, af.pts, af.time_base = 16000, s, Fraction(1, 16000)
            for p in st.encode(af):
                out.mux(p)
        for p in st.encode():
            out.mux(p)


def _result(a, b, off_b: float) -> MulticamResult:
    ta, tb = read_pts_table(a), read_pts_table(b)
    return MulticamResult(
        (
            CameraSync(str(a), "a", 0.0, 0.0, 1.0, "master", "ok", duration_s=ta.duration_s),
            CameraSync(str(b), "b", off_b, 0.0, 1.0, "manual", "ok", duration_s=tb.duration_s),
        ),
        "a",
        "manual",
    )


def test_non_h264_falls_back_to_full_reencode(tmp_path):
    _mpeg4(tmp_path / "a.mp4")
    _mpeg4(tmp_path / "b.mp4")
    keys = read_pts_table(tmp_path / "a.mp4").keyframe
    idx = next(k for k in range(10, 60) if not keys[k])
    res = _result(tmp_path / "a.mp4", tmp_path / "b.mp4", idx / 30)  # cut a at frame idx
    trimmed, done = trim_cameras(res, tmp_path / "out")
    a = next(d for d in done if d.camera_id == "a")
    assert a.mode == "reencode" and a.cut_frame_idx == idx and a.frames_written == 60 - idx
    tab = read_pts_table(a.path)
    assert len(tab.t_s) == 60 - idx and tab.has_audio
    with av.open(a.path) as c:
        first = next(c.decode(video=0)).to_ndarray(format="bgr24")
    with av.open(str(tmp_path / "a.mp4")) as c:
        want = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)][idx]
    assert (
        abs(float(first.mean()) - float(want.mean())) < 1.5
    )  # the cut frame, not a neighbour (4 levels apart)
    assert abs(trimmed.camera("a").offset_s - idx / 30) < 1e-6
    with pytest.raises(OutputExistsError):
        trim_cameras(res, tmp_path / "out")


def test_no_overlap_refused(tmp_path):
    _mpeg4(tmp_path / "a.mp4")
    _mpeg4(tmp_path / "b.mp4")
    with pytest.raises(MulticamError, match="do not overlap"):
        trim_cameras(_result(tmp_path / "a.mp4", tmp_path / "b.mp4", 5.0), tmp_path / "out")


def test_smart_cut_of_synthetic_camera(tmp_path):
    truths = make_camera_set(
        tmp_path,
        [
            CamSpec("a", 0.0, 0.0, Fraction(30), 3.0, seed=1),
            CamSpec("b", 0.4, 0.0, Fraction(25), 2.5, seed=2),
        ],
        seed=4,
        flashes=False,
    )
    res = _result(truths[0].path, truths[1].path, 0.4)
    _, done = trim_cameras(res, tmp_path / "out")
    a = next(d for d in done if d.camera_id == "a")
    assert a.mode == "smart" and a.cut_frame_idx == 12 and a.frames_reencoded == 3  # GOP of 15
    with av.open(str(truths[0].path)) as s, av.open(a.path) as d:
        src = [f.to_ndarray(format="rgb24") for f in s.decode(video=0)][12:]
        out = [f.to_ndarray(format="rgb24") for f in d.decode(video=0)]
    assert len(out) == len(src)
    assert all(np.array_equal(x, y) for x, y in zip(out[3:], src[3:], strict=True))


def test_h264_helpers():
    # ue(v): 1 -> 0, 010 -> 1, 011 -> 2, 00100 -> 3
    assert _ue(bytes([0b10100110, 0b01000000]), 0) == (0, 1)
    assert _ue(bytes([0b10100110, 0b01000000]), 1) == (1, 4)
    assert _ue(bytes([0b10100110, 0b01000000]), 4) == (2, 7)
    assert _ue(bytes([0b10100110, 0b01000000]), 7) == (3, 12)
    annexb = b"\x00\x00\x00\x01\x67\xaa\xbb\x00\x00\x01\x68\xcc\x00\x00\x01\x65\x11\x22\x33"
    avcc = annexb_to_avcc(annexb)
    assert (
        avcc
        == b"\x00\x00\x00\x03\x67\xaa\xbb\x00\x00\x00\x02\x68\xcc\x00\x00\x00\x04\x65\x11\x22\x33"
    )
    assert nal_types(avcc) == [7, 8, 5]
    assert parse_avcc(b"\x00\x00\x00\x01\x67") is None


def test_parse_avcc_of_encoded_file(tmp_path):
    truths = make_camera_set(
        tmp_path, [CamSpec("a", 0.0, 0.0, Fraction(30), 1.0, audio=False)], flashes=False
    )
    with av.open(str(truths[0].path)) as c:
        cfg = parse_avcc(bytes(c.streams.video[0].codec_context.extradata))
    assert cfg is not None and cfg.length_size == 4 and cfg.sps_ids == {0} and cfg.pps_ids == {0}


def test_sound_recorder_is_cut_to_the_sample(tmp_path):
    from mtbsync_core.multicam import decode_audio, sync_cameras

    specs = [
        CamSpec("cam", 1.0, 0.0, Fraction(30), 4.0, seed=1),
        CamSpec("zoom", 0.2, 0.0, duration_s=6.0, video=False, seed=9, audio_rate_hz=48000),
    ]
    truths = make_camera_set(tmp_path / "in", specs, seed=5, flashes=False)
    res = sync_cameras([t.path for t in truths], method="audio")
    trimmed, done = trim_cameras(res, tmp_path / "out")
    zoom = next(d for d in done if d.camera_id == "zoom")
    assert zoom.mode == "audio-pcm" and zoom.path.endswith(".wav")
    assert abs(zoom.cut_t_cam_s - 0.8) < 0.002  # the camera starts 0.8 s into the recording
    src = decode_audio(truths[1].path, 48000).samples
    out = decode_audio(zoom.path, 48000).samples
    k = round(zoom.cut_t_cam_s * 48000)
    assert np.array_equal(out, src[k : k + len(out)]) and len(out) == len(src) - k
    assert abs(trimmed.camera("zoom").offset_s - trimmed.camera("cam").offset_s) < 0.001
