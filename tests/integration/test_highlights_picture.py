"""Picture-only highlights: a video without telemetry, with a fast pan and a shake burst."""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np

from mtbsync_core.cli import main
from mtbsync_core.highlights.picture import picture_features

FPS, W, H = 30, 160, 90


def _panning_video(path: Path) -> None:
    """A smooth texture panning 1 px/frame, 7 px/frame from 8 to 13 s, jittering +-5 px at 16 s."""
    rng = np.random.default_rng(4)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (H + 40, 3000)).astype(np.float32), (0, 0), 4)
    tex = cv2.normalize(tex, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    x = 0.0
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "12"}
        for k in range(20 * FPS):
            t = k / FPS
            x += 7.0 if 8 <= t < 13 else 1.0
            jx, jy = rng.integers(-5, 6, 2) if 16 <= t < 16.3 else (0, 0)
            img = tex[20 + jy : 20 + jy + H, int(x) + jx : int(x) + jx + W]
            f = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(np.stack([img] * 3, -1)), format="rgb24"
            )
            f.pts = k
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)


def test_picture_features_and_cli_without_telemetry(tmp_path):
    vid = tmp_path / "helmet.mp4"
    _panning_video(vid)
    pf = picture_features(str(vid))
    assert len(pf.t_s) == 20 * FPS
    fast = (pf.t_s > 9) & (pf.t_s < 12)
    assert np.median(pf.motion[fast]) > 2 * np.median(pf.motion[pf.t_s < 7])
    assert pf.shake_px[(pf.t_s > 16) & (pf.t_s < 16.3)].max() > 2.0
    assert pf.shake_px[pf.t_s < 7].max() < 1.0
    out = tmp_path / "out"
    assert (
        main(
            [
                "highlights",
                str(vid),
                "--out",
                str(out),
                "--kinds",
                "fast,shake",
                "--quiet",
                "--markers",
                "none",
            ]
        )
        == 0
    )
    doc = json.loads((out / "highlights.json").read_text())
    assert doc["sources"] == []
    kinds = {(e["kind"], e["source"]): e for e in doc["events"]}
    assert set(kinds) == {("fast", "picture"), ("shake", "picture")}
    f, s = kinds["fast", "picture"], kinds["shake", "picture"]
    assert 7.5 < f["start_s"] < 9.0 and 12.0 < f["end_s"] < 13.7
    assert 15.9 < s["start_s"] < 16.4
