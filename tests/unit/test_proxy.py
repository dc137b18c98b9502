"""Browser proxies: size, frame times, keyframe spacing, faststart, and refusals."""

from __future__ import annotations

import av
import numpy as np
import pytest

from mtbsync_core.errors import OutputExistsError, VideoOpenError
from mtbsync_core.synthetic import RenderSpec, encode_frames
from mtbsync_core.video.proxy import make_proxy, proxy_size


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """3 s, 320x180, 30 fps, each frame a distinct grey level (so frames can be told apart)."""
    path = tmp_path_factory.mktemp("proxy") / "src.mp4"
    spec = RenderSpec(duration_s=3.0, size=(320, 180), gop=60)
    encode_frames(path, lambda i: np.full((180, 320, 3), 2 * i, np.uint8), 90, spec)
    return path


def _frames(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        w, h = s.codec_context.width, s.codec_context.height
        out = [
            (float(f.pts * s.time_base), f.key_frame, f.to_ndarray(format="gray")[h // 2, w // 2])
            for f in c.decode(s)
        ]
        return w, h, out


def test_proxy_size_keeps_aspect_even_and_never_upscales():
    assert proxy_size(3840, 2160, 960) == (960, 540)
    assert proxy_size(1920, 1440, 960) == (960, 720)
    assert proxy_size(320, 180, 960) == (320, 180)
    assert proxy_size(1000, 563, 500) == (500, 282)


def test_proxy_keeps_frame_times_and_content(clip, tmp_path):
    dst = make_proxy(clip, tmp_path / "p.mp4", width=160, gop=12)
    w, h, frames = _frames(dst)
    assert (w, h) == (160, 90)
    assert len(frames) == 90
    times = np.array([t for t, _, _ in frames])
    np.testing.assert_allclose(times, np.arange(90) / 30, atol=1e-3)
    keys = [i for i, (_, k, _) in enumerate(frames) if k]
    assert max(np.diff(keys)) <= 12  # short GOP: a seek decodes at most 12 frames
    grey = np.array([g for _, _, g in frames], float)
    np.testing.assert_allclose(grey, 2 * np.arange(90), atol=4)  # frame i is still frame i
    data = dst.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart


def test_proxy_reports_progress_and_refuses_bad_input(clip, tmp_path):
    events = []
    make_proxy(clip, tmp_path / "p.mp4", width=160, progress=events.append)
    assert events[-1].done == events[-1].total == 90 and events[-1].stage == "proxy"
    with pytest.raises(OutputExistsError):
        make_proxy(clip, tmp_path / "p.mp4", width=160, force=False)
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises(VideoOpenError, match="notes.mp4"):
        make_proxy(bad, tmp_path / "q.mp4")
    assert not (tmp_path / "q.mp4").exists()
    assert not list(tmp_path.glob("*.part*"))


def test_proxy_bitrate_is_capped_to_fit_the_size_limit(tmp_path):
    from mtbsync_core.synthetic import CameraLook, make_trail, render_reference

    src = tmp_path / "noisy.mp4"  # real photographs plus noise: expensive to encode
    spec = RenderSpec(duration_s=3.0, size=(320, 180), look=CameraLook(noise_sigma=12.0), crf=18)
    render_reference(src, make_trail(), spec)
    roomy = make_proxy(src, tmp_path / "roomy.mp4", width=320).stat().st_size
    capped = make_proxy(src, tmp_path / "capped.mp4", width=320, max_bytes=roomy // 4)
    assert capped.stat().st_size < roomy // 3  # VBV keeps it near the budget
    assert len(_frames(capped)[2]) == 90
