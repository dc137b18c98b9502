"""Highlight clips decoded back: every clip starts and ends on the intended frame, and only the
frames up to the next keyframe (and from the last keyframe to the end) are re-encoded."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from mtbsync_core.highlights.clips import cut_clip
from mtbsync_core.multicam import read_pts_table

GOPRO = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gopro" / "karma.mp4"
N, GOP, W, H = 90, 12, 160, 96


def _write_numbered(path: Path) -> None:
    """H.264 (B-frames, GOP 12) whose frame k shows k in 8 black/white stripes, plus AAC sound."""
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=30)
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        vs.options = {
            "g": str(GOP),
            "keyint_min": str(GOP),
            "sc_threshold": "0",
            "bf": "2",
            "crf": "18",
        }
        st = out.add_stream("aac", rate=16000)
        st.layout = "mono"
        for k in range(N):
            img = np.zeros((H, W), np.uint8)
            for b in range(8):
                img[:, b * 20 : (b + 1) * 20] = 230 if (k >> b) & 1 else 20
            f = av.VideoFrame.from_ndarray(np.stack([img] * 3, -1), format="rgb24")
            f.pts = k
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        sig = (0.1 * np.sin(np.arange(16000 * 3) / 5.0)).astype(np.float32)
        for s in range(0, len(sig), 1024):
            af = av.AudioFrame.from_ndarray(sig[None, s : s + 1024], format="flt", layout="mono")
            af.sample_rate, af.pts, af.time_base = 16000, s, Fraction(1, 16000)
            for p in st.encode(af):
                out.mux(p)
        for p in st.encode():
            out.mux(p)


def _numbers(path: Path) -> list[int]:
    out = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            g = f.to_ndarray(format="gray")
            out.append(sum(1 << b for b in range(8) if g[:, b * 20 + 4 : b * 20 + 16].mean() > 128))
    return out


@pytest.fixture(scope="module")
def numbered(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("clips") / "numbered.mp4"
    _write_numbered(p)
    return p


@pytest.mark.parametrize(
    "first,last",
    [(3, 8), (12, 29), (5, 23), (5, 40), (24, 47), (50, N - 1), (0, N - 1), (13, 13)],
)
def test_clip_holds_exactly_the_intended_frames(numbered, tmp_path, first, last):
    tab = read_pts_table(numbered)
    assert list(np.flatnonzero(tab.keyframe)) == list(range(0, N, GOP))
    dst = tmp_path / "clip.mp4"
    clip = cut_clip(numbered, dst, float(tab.t_s[first]), float(tab.t_s[last] + tab.frame_period_s))
    assert (clip.first_frame_idx, clip.last_frame_idx) == (first, last)
    assert _numbers(dst) == list(range(first, last + 1))
    e = last + 1
    next_key = -(-first // GOP) * GOP
    if next_key >= e:  # inside one GOP: all of it is re-encoded
        expect = e - first
    else:
        last_key = e if e == N or e % GOP == 0 else (last // GOP) * GOP
        expect = (next_key - first) + (e - last_key)
    assert clip.frames_reencoded == expect
    assert clip.mode == ("copy" if expect == 0 else "smart")
    with av.open(str(dst)) as c:
        assert c.streams.audio, "the clip keeps its sound"
        a = c.streams.audio[0]
        pk = [p for p in c.demux(a) if p.pts is not None]
        span = (pk[-1].pts + 1024 - pk[0].pts) * a.time_base
        assert abs(float(span) - (e - first) / 30) < 0.1


def test_clip_to_the_end_reencodes_only_to_the_next_keyframe(numbered, tmp_path):
    tab = read_pts_table(numbered)
    clip = cut_clip(numbered, tmp_path / "c.mp4", float(tab.t_s[27]), 99.0)
    assert clip.frames_reencoded == 36 - 27
    assert _numbers(tmp_path / "c.mp4") == list(range(27, N))


def test_real_gopro_clip_frames_match_the_source(tmp_path):
    if not GOPRO.is_file():
        pytest.skip(f"real GoPro sample not found at {GOPRO}")
    clip = cut_clip(GOPRO, tmp_path / "k.mp4", 1.0, 3.0)
    with av.open(str(GOPRO)) as c:
        src = [f.to_ndarray(format="gray").astype(np.int16) for f in c.decode(video=0)]
    with av.open(str(tmp_path / "k.mp4")) as c:
        got = [f.to_ndarray(format="gray").astype(np.int16) for f in c.decode(video=0)]
    assert len(got) == clip.frames == 60
    for k, g in enumerate(got):
        i = clip.first_frame_idx + k
        d = [np.abs(g - src[j]).mean() for j in (i - 1, i, i + 1)]
        assert int(np.argmin(d)) == 1 and d[1] < 2.0, (k, d)
    assert clip.mode == "smart" and 0 < clip.frames_reencoded < 16
