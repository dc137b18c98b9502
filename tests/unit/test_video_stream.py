"""VideoStream over PyAV on files encoded here: probe, sampling modes, frame at a time, VFR, bad input."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from mtbsync_core.errors import FeaturelessVideoError, MtbSyncError, VideoOpenError
from mtbsync_core.sampling import SampleParams, sample_run
from mtbsync_core.synthetic import RenderSpec, encode_frames
from mtbsync_core.video import open_video, probe_video

SIZE = (160, 90)
NTSC = Fraction(30000, 1001)
VFR_PTS_S = [
    0.0,
    0.04,
    0.1,
    0.13,
    0.3,
    0.31,
    0.5,
    0.52,
    0.7,
    0.95,
    1.0,
    1.2,
    1.21,
    1.4,
    1.7,
    1.75,
    2.0,
    2.3,
]


def _level(i: int) -> np.ndarray:
    """Frame ``i`` is a uniform grey of level 10 * i + 5 (so a decoded frame tells its index)."""
    return np.full((SIZE[1], SIZE[0], 3), 10 * i + 5, np.uint8)


def _index_from_bgr(img: np.ndarray) -> int:
    return int(round((float(img.mean()) - 5) / 10))


def _index_from_luma(img: np.ndarray) -> int:
    """Luma is in limited range (16..235): undo that, then the level."""
    return int(round(((float(img.mean()) - 16) * 255 / 219 - 5) / 10))


def _textured(i: int) -> np.ndarray:
    rng = np.random.default_rng(i // 10)
    base = rng.integers(0, 255, (SIZE[1] // 10, SIZE[0] // 10), np.uint8)
    img = np.kron(base, np.ones((10, 10), np.uint8))
    return np.repeat(np.roll(img, i, axis=1)[:, :, None], 3, axis=2)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("video")
    # 3 s at 29.97, GOP 15 with B-frames: probe and sampling modes
    encode_frames(d / "ntsc.mp4", _textured, 89, RenderSpec(3.0, NTSC, SIZE, gop=15, bframes=2))
    # 25 frames at 25 fps, each a grey level that encodes its index: frame at a time
    encode_frames(
        d / "counter.mp4", _level, 25, RenderSpec(1.0, Fraction(25), SIZE, gop=10, bframes=2)
    )
    # variable frame rate: irregular PTS
    encode_frames(
        d / "vfr.mp4",
        _level,
        len(VFR_PTS_S),
        RenderSpec(2.3, Fraction(30), SIZE, gop=6, bframes=2),
        pts_s=VFR_PTS_S,
    )
    encode_frames(
        d / "flat.mp4",
        lambda i: np.full((SIZE[1], SIZE[0], 3), 128, np.uint8),
        40,
        RenderSpec(2.0, Fraction(20), SIZE),
    )
    return d


def test_probe_reads_rate_duration_frames_and_gop(clips):
    info = probe_video(clips / "ntsc.mp4")
    assert isinstance(info.fps, Fraction) and info.fps == NTSC
    assert (info.width, info.height) == SIZE
    assert info.frame_count == 89
    assert info.duration_s == pytest.approx(89 / float(NTSC), abs=1 / 29.97)
    assert info.gop_size == 15
    assert info.codec == "h264" and info.rotation_deg == 0
    assert not info.is_vfr and not info.has_audio
    assert info.start_time_s == 0.0
    assert info.path == str(clips / "ntsc.mp4")


def test_iter_gray_modes_decode_fewer_frames_in_increasing_time(clips):
    with open_video(clips / "ntsc.mp4") as v:
        got = {mode: list(v.iter_gray(mode, width=None)) for mode in ("all", "nonref", "key")}
        assert v.keyframe_interval_s() == pytest.approx(15 / float(NTSC))
    times = {mode: np.array([t for t, _ in frames]) for mode, frames in got.items()}
    for mode, t in times.items():
        assert np.all(np.diff(t) > 0), mode
    np.testing.assert_allclose(times["all"], np.arange(89) / float(NTSC), atol=1e-4)
    assert len(times["key"]) < len(times["nonref"]) < len(times["all"])
    np.testing.assert_allclose(times["key"], np.arange(0, 89, 15) / float(NTSC), atol=1e-4)
    # every frame decoded in a cheaper mode is a real frame of the full decode, at its real time
    for mode in ("nonref", "key"):
        assert set(np.round(times[mode], 4)) <= set(np.round(times["all"], 4))
    img = got["all"][0][1]
    assert img.shape == (SIZE[1], SIZE[0]) and img.dtype == np.uint8


def test_iter_gray_scales_down_and_keeps_a_window(clips):
    with open_video(clips / "ntsc.mp4") as v:
        frames = list(v.iter_gray("all", width=80, start_s=1.0, end_s=2.0))
    t = np.array([f[0] for f in frames])
    assert frames[0][1].shape == (45, 80)
    assert t[0] >= 1.0 - 1e-6 and t[-1] <= 2.0 + 1e-6
    expected = np.arange(89)[
        (np.arange(89) / float(NTSC) >= 1.0) & (np.arange(89) / float(NTSC) <= 2.0)
    ]
    np.testing.assert_allclose(t, expected / float(NTSC), atol=1e-4)


def test_iter_gray_refuses_an_unknown_mode(clips):
    with open_video(clips / "ntsc.mp4") as v, pytest.raises(ValueError, match="mode"):
        next(v.iter_gray("odd"))


@pytest.mark.parametrize(
    "t_s, frame",
    [
        (0.0, 0),
        (0.039, 0),
        (0.04, 1),
        (0.05, 1),
        (0.079, 1),  # nearest-not-after, not nearest
        (0.5, 12),
        (0.519, 12),
        (0.52, 13),
        (0.95, 23),
        (0.99, 24),
        (5.0, 24),
        (-1.0, 0),
    ],
)
def test_frame_at_returns_the_frame_on_screen(clips, t_s, frame):
    with open_video(clips / "counter.mp4") as v:
        assert _index_from_bgr(v.frame_at(t_s)) == frame
        assert _index_from_luma(v.frame_at(t_s, colour=False)) == frame


def test_frame_at_in_any_order_and_scaled(clips):
    order = [20, 3, 17, 0, 24, 9, 10, 9, 2]
    with open_video(clips / "counter.mp4") as v:
        got = [_index_from_bgr(v.frame_at(i / 25 + 0.01)) for i in order]
        small = v.frame_at(0.3, width=80)
    assert got == order
    assert small.shape == (45, 80, 3)


def test_frame_times_come_from_packets(clips):
    with open_video(clips / "counter.mp4") as v:
        np.testing.assert_allclose(v.frame_times(), np.arange(25) / 25, atol=1e-6)


def test_vfr_file_gives_true_pts_times(clips):
    info = probe_video(clips / "vfr.mp4")
    assert info.is_vfr
    assert info.frame_count == len(VFR_PTS_S)
    with open_video(clips / "vfr.mp4") as v:
        frames = list(v.iter_gray("all", width=None))
        np.testing.assert_allclose([t for t, _ in frames], VFR_PTS_S, atol=1e-4)
        assert [_index_from_luma(g) for _, g in frames] == list(range(len(VFR_PTS_S)))
        np.testing.assert_allclose(v.frame_times(), VFR_PTS_S, atol=1e-4)
        # frame at a time follows the PTS, not index / fps
        for t_s, frame in (
            (0.12, 2),
            (0.13, 3),
            (0.29, 3),
            (0.9, 8),
            (1.205, 11),
            (2.29, 16),
            (2.3, 17),
        ):
            assert _index_from_bgr(v.frame_at(t_s)) == frame, t_s


def _audio_only(path):
    with av.open(str(path), "w", format="mp4") as c:
        st = c.add_stream("aac", rate=44100)
        st.layout = "mono"
        for k in range(20):
            fr = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            fr.sample_rate = 44100
            fr.pts = k * 1024
            for pkt in st.encode(fr):
                c.mux(pkt)
        for pkt in st.encode(None):
            c.mux(pkt)


def _make_bad(kind: str, d, clips):
    p = d / f"{kind}.mp4"
    if kind == "empty":
        p.write_bytes(b"")
    elif kind == "text":
        p.write_text("These are my ride notes, not a video.\n" * 5, encoding="utf-8")
    elif kind == "audio_only":
        _audio_only(p)
    elif kind == "truncated":
        data = (clips / "ntsc.mp4").read_bytes()
        p.write_bytes(data[: len(data) // 2])
    elif kind == "folder":
        p.mkdir()
    return p


BAD_KINDS = ["missing", "empty", "text", "audio_only", "truncated", "folder"]


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_inputs_raise_video_open_error_naming_the_file(clips, tmp_path, kind):
    p = _make_bad(kind, tmp_path, clips)
    for opener in (probe_video, open_video):
        with pytest.raises(VideoOpenError) as info:
            opener(p)
        msg = str(info.value)
        assert f"{kind}.mp4" in msg and "\n" not in msg
        assert isinstance(info.value, MtbSyncError) and info.value.exit_code == 1
    if kind == "audio_only":
        assert "no video stream" in msg
    with pytest.raises(VideoOpenError):
        sample_run(p)


def test_featureless_video_is_refused_by_sampling(clips):
    with pytest.raises(FeaturelessVideoError, match=r"flat\.mp4.*featureless"):
        sample_run(clips / "flat.mp4", SampleParams(mode="all"))


def test_sample_run_keeps_rate_and_reports_progress(clips):
    events = []
    kf, orbs, mids = sample_run(
        clips / "ntsc.mp4",
        SampleParams(mode="all", max_rate_hz=10.0, orb_rate_hz=2.0),
        progress=events.append,
        keep_mid=True,
    )
    assert np.all(np.diff(kf.t_s) >= 0.1 - 2e-4)  # at most 10 samples a second
    assert 25 <= len(kf.t_s) <= 31
    assert kf.desc.shape[0] == kf.thumbs.shape[0] == mids.shape[0] == len(kf.t_s)
    np.testing.assert_allclose(np.linalg.norm(kf.desc, axis=1), 1.0, atol=1e-4)
    assert 5 <= len(orbs) <= 7 and all(0 <= k < len(kf.t_s) for k in orbs)
    assert events[-1].done == events[-1].total == len(kf.t_s)
    assert kf.info.fps == NTSC


def test_display_rotation_from_the_container_matrix(tmp_path):
    """Phones and many cameras store portrait video as landscape frames plus a display matrix."""
    path = tmp_path / "portrait.mp4"
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=25)
        st.width, st.height, st.pix_fmt = 160, 96, "yuv420p"
        st.set_display_rotation(90)
        for k in range(10):
            img = np.zeros((96, 160, 3), np.uint8)
            img[:, :40] = 255
            vf = av.VideoFrame.from_ndarray(img, format="bgr24")
            vf.pts = k
            for pkt in st.encode(vf):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    with av.open(str(path)) as c:  # the file really carries the rotation
        assert next(c.decode(video=0)).rotation in (90, -270, 270, -90)
    info = probe_video(path)
    assert info.rotation_deg in (90, 270), (
        f"rotation_deg {info.rotation_deg}: the display matrix was not read"
    )
    with open_video(path) as v:
        assert next(v.iter_gray("all", width=None))[1].shape == (160, 96)  # shown upright: portrait
        assert v.frame_at(0.0).shape == (160, 96, 3)


def test_truncated_file_with_its_index_up_front_decodes_a_prefix_and_says_so_beyond(
    clips, tmp_path
):
    """A faststart file cut short (card pulled mid-copy) keeps its header: the frames that are
    there keep true times, and running out of them before the declared end is an error saying
    where the file stops; asking past the cut is an error naming the file, not a wrong frame."""
    faststart = tmp_path / "faststart.mp4"
    with (
        av.open(str(clips / "ntsc.mp4")) as src,
        av.open(str(faststart), "w", options={"movflags": "faststart"}) as dst,
    ):
        out = dst.add_stream_from_template(src.streams.video[0])
        for pkt in src.demux(video=0):
            if pkt.dts is not None:
                pkt.stream = out
                dst.mux(pkt)
    data = faststart.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with open_video(clips / "ntsc.mp4") as full, open_video(cut) as v:
        all_t = np.array([t for t, _ in full.iter_gray("all", width=None)])
        got = []
        with pytest.raises(VideoOpenError, match="cut short") as info:  # issue 13 item 9
            for t, _ in v.iter_gray("all", width=None):
                got.append(t)
        got_t = np.array(got)
        assert f"frames stop at {got_t[-1]:.1f} s" in str(info.value) and "cut.mp4" in str(
            info.value
        )
        assert 10 < len(got_t) < len(all_t)
        np.testing.assert_allclose(got_t, all_t[: len(got_t)], atol=1e-6)
        with pytest.raises(VideoOpenError, match="cut.mp4"):
            v.frame_at(float(all_t[-1]))
