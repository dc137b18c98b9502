"""Sampling in stretches on several cores (mtbsync_core.video.parallel): the same frames, bit for
bit, as one sequential decoder, on files encoded here; anything unplannable goes sequential."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from mtbsync_core import sampling
from mtbsync_core.sampling import SampleParams, sample_run
from mtbsync_core.synthetic import RenderSpec, encode_frames
from mtbsync_core.video import open_video, parallel, probe_video
from mtbsync_core.video.parallel import decode_selected, plan_decode, select_spaced

SIZE = (192, 108)


def _textured(i: int) -> np.ndarray:
    """A random block texture that pans one pixel a frame and changes every 20 frames."""
    rng = np.random.default_rng(i // 20)
    base = rng.integers(0, 255, (SIZE[1] // 6 + 1, SIZE[0] // 6 + 1), np.uint8)
    img = np.kron(base, np.ones((6, 6), np.uint8))[: SIZE[1], : SIZE[0]]
    return np.repeat(np.roll(img, i, axis=1)[:, :, None], 3, axis=2)


def _encode_x264_defaults(path, n: int, fps: int) -> None:
    """libx264 as FFmpeg runs it by default (3 B-frames, B-pyramid: some B-frames are
    references), with a keyframe every second so the clip has several IDR frames."""
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=fps)
        st.width, st.height = SIZE
        st.pix_fmt = "yuv420p"
        st.options = {"g": str(fps), "preset": "veryfast"}
        for i in range(n):
            vf = av.VideoFrame.from_ndarray(_textured(i), format="bgr24")
            vf.pts = i
            for pkt in st.encode(vf):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("parallel")
    # GoPro-like: GOP 8, 2 B-frames, no pyramid, 29.97 fps, 6 s
    encode_frames(
        d / "gopro.mp4",
        _textured,
        180,
        RenderSpec(6.0, Fraction(30000, 1001), SIZE, gop=8, bframes=2),
    )
    _encode_x264_defaults(d / "pyramid60.mp4", 360, 60)  # 6 s at 60 fps, B-pyramid
    # MPEG-4 part 2: not H.264, so no plan
    with av.open(str(d / "mpeg4.mp4"), "w") as out:
        st = out.add_stream("mpeg4", rate=30)
        st.width, st.height = SIZE
        st.pix_fmt = "yuv420p"
        for i in range(90):
            vf = av.VideoFrame.from_ndarray(_textured(i), format="bgr24")
            vf.pts = i
            for pkt in st.encode(vf):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    return d


@pytest.mark.parametrize("name", ["gopro.mp4", "pyramid60.mp4"])
@pytest.mark.parametrize("mode", ["all", "nonref", "key"])
def test_the_plan_names_exactly_the_frames_the_decoder_gives(clips, name, mode):
    path = clips / name
    info = probe_video(path)
    plan = plan_decode(path, mode, info.start_time_s, min_stretch_s=1.0)
    assert plan is not None
    with open_video(path) as v:
        decoded = [t for t, _ in v.iter_gray(mode, width=None)]
    assert plan.t_s.tolist() == decoded  # the same floats, not merely close
    assert len(plan.cuts) >= 4 and plan.cuts[0] == 0
    if mode == "nonref" and name == "pyramid60.mp4":
        # reference B-frames are decoded, the others skipped: between all frames and I/P only
        with open_video(path) as v:
            n_all = sum(1 for _ in v.iter_gray("all", width=None))
        assert len(decoded) < n_all


def test_selection_follows_the_sequential_rule():
    t = np.array([0.0, 0.02, 0.05, 0.07, 0.1, 0.18, 0.19])
    assert select_spaced(t, 0.066).tolist() == [0, 3, 5]


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("gopro.mp4", SampleParams()),
        ("gopro.mp4", SampleParams(mode="auto", orb_rate_hz=1.0)),
        ("pyramid60.mp4", SampleParams(mode="auto", orb_rate_hz=1.0)),
        ("pyramid60.mp4", SampleParams(mode="all", max_rate_hz=7.0, orb_rate_hz=3.0)),
    ],
)
@pytest.mark.parametrize("decoder_threads", [0, 1])
def test_parallel_sampling_is_bit_identical_to_sequential(
    clips, monkeypatch, name, params, decoder_threads
):
    path = clips / name
    monkeypatch.setattr(parallel, "ENABLED", True)
    monkeypatch.setattr(parallel, "DECODER_THREADS", decoder_threads)
    monkeypatch.setattr(parallel, "MIN_STRETCH_S", 1.0)  # several stretches in a 6 s clip
    ran = []
    real = sampling.decode_selected

    def spy(*a, **k):
        got = real(*a, **k)
        ran.append(got is not None)
        return got

    monkeypatch.setattr(sampling, "decode_selected", spy)
    kf_p, orbs_p, mids_p = sample_run(path, params, keep_mid=True)
    assert ran == [True]  # the parallel path ran and agreed with its plan
    monkeypatch.setattr(parallel, "ENABLED", False)
    kf_s, orbs_s, mids_s = sample_run(path, params, keep_mid=True)
    assert np.array_equal(kf_p.t_s, kf_s.t_s)
    assert np.array_equal(kf_p.desc, kf_s.desc)
    assert np.array_equal(kf_p.thumbs, kf_s.thumbs)
    assert np.array_equal(mids_p, mids_s)
    assert sorted(orbs_p) == sorted(orbs_s) and len(orbs_s) >= 3
    for k in orbs_s:
        assert np.array_equal(orbs_p[k].xy, orbs_s[k].xy)
        assert np.array_equal(orbs_p[k].desc, orbs_s[k].desc)


def test_a_file_that_is_not_h264_has_no_plan_and_samples_sequentially(clips):
    path = clips / "mpeg4.mp4"
    assert plan_decode(path, "all", probe_video(path).start_time_s) is None
    kf, orbs, _ = sample_run(path, SampleParams(mode="all"))
    assert len(kf.t_s) >= 40 and orbs


def test_a_stretch_that_disagrees_with_its_plan_gives_none(clips):
    path = clips / "gopro.mp4"
    plan = plan_decode(path, "all", probe_video(path).start_time_s, min_stretch_s=1.0)
    wrong = parallel.DecodePlan(plan.pts[np.arange(len(plan.pts)) != 20], plan.t_s, plan.cuts)
    wanted = {int(p): None for p in wrong.pts[::3]}
    assert decode_selected(path, "all", wrong, wanted, 64, 0, lambda g, a: g.shape) is None
    wanted = {int(p): None for p in plan.pts[::3]}
    shapes = decode_selected(path, "all", plan, wanted, 64, 0, lambda g, a: g.shape)
    assert shapes is not None and len(shapes) == len(wanted) and shapes[0] == (36, 64)


def test_stretches_leave_out_the_reference_frames_no_wanted_frame_needs(clips, monkeypatch):
    """GoPro-like GOP (IDR every 8 frames, I B B P B B P P): sampling at 15 Hz keeps I and the
    first two P frames of each group and skips the last P, which only the frames after it could
    use: those start at the next IDR. Its packet is never decoded, and the samples stay the
    sequential pass's, bit for bit."""
    path = clips / "gopro.mp4"
    monkeypatch.setattr(parallel, "ENABLED", True)
    monkeypatch.setattr(parallel, "MIN_STRETCH_S", 1.0)
    plan = plan_decode(path, "nonref", probe_video(path).start_time_s, min_stretch_s=1.0)
    keep = select_spaced(plan.t_s, 1.0 / 15.0 - 1e-4)
    mask = parallel.needed_packets(plan, {int(p) for p in plan.pts[keep]})
    left_out = plan.packet_pts[~mask]
    assert len(left_out) > 0 and not set(left_out.tolist()) & set(plan.pts[keep].tolist())
    for k in np.flatnonzero(~mask):  # every packet left out is followed by the next IDR ...
        nxt = np.flatnonzero(plan.packet_idr[k:])
        later_wanted = np.isin(plan.packet_pts[k:], plan.pts[keep])
        if later_wanted.any():  # ... before any wanted frame
            assert len(nxt) and nxt[0] <= np.flatnonzero(later_wanted)[0]
    decoded = []
    real = parallel._frames

    def counting(*a, **k):
        for f in real(*a, **k):
            decoded.append(int(f.pts))
            yield f

    monkeypatch.setattr(parallel, "_frames", counting)
    kf_p, orbs_p, mids_p = sample_run(path, SampleParams(), keep_mid=True)
    in_plan = set(plan.pts.tolist())
    assert set(decoded) <= in_plan and len(set(decoded)) < len(in_plan)
    assert not set(decoded) & set(left_out.tolist())
    monkeypatch.setattr(parallel, "ENABLED", False)
    kf_s, orbs_s, mids_s = sample_run(path, SampleParams(), keep_mid=True)
    assert np.array_equal(kf_p.t_s, kf_s.t_s) and np.array_equal(mids_p, mids_s)
    assert np.array_equal(kf_p.desc, kf_s.desc)
    for k in orbs_s:
        assert np.array_equal(orbs_p[k].desc, orbs_s[k].desc)
