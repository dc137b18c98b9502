"""Issue 13, items 8 and 9: rotated videos are sized as shown; a file cut short says so."""

from __future__ import annotations

import struct

import av
import numpy as np
import pytest

from mtbsync_core.cli import main
from mtbsync_core.errors import VideoOpenError
from mtbsync_core.index import build_index
from mtbsync_core.video import open_video, probe_video


def _set_display_matrix_90(path) -> None:
    """Write a 90-degree display matrix into the MP4's track header, as phones and GoPros do."""
    data = bytearray(path.read_bytes())
    k = data.find(b"tkhd")
    version = data[k + 4]
    off = k + 8 + (32 if version == 1 else 20) + 16  # times, ids, duration; reserved..volume
    data[off : off + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))


def _rotated_copy(src, dst, scale: int = 2) -> None:
    """``src`` re-encoded ``scale`` times larger, stored on its side with a display matrix that
    turns it back: what a camera mounted sideways writes. Shown, it is the same picture."""
    with av.open(str(src)) as ic, av.open(str(dst), "w") as oc:
        vin = ic.streams.video[0]
        w, h = vin.codec_context.width * scale, vin.codec_context.height * scale
        st = oc.add_stream("libx264", rate=vin.average_rate)
        st.width, st.height, st.pix_fmt = h, w, "yuv420p"  # stored portrait
        st.options = {"preset": "ultrafast", "crf": "18"}
        st.time_base = vin.time_base
        for frame in ic.decode(vin):
            img = frame.to_ndarray(format="bgr24")
            img = np.repeat(np.repeat(img, scale, axis=0), scale, axis=1)
            side = np.ascontiguousarray(
                np.rot90(img, 1)
            )  # counter-clockwise: shown after a cw turn
            out = av.VideoFrame.from_ndarray(side, format="bgr24")
            out.pts, out.time_base = frame.pts, frame.time_base
            for pkt in st.encode(out):
                oc.mux(pkt)
        for pkt in st.encode():
            oc.mux(pkt)
    _set_display_matrix_90(dst)


def test_item08_rotated_frames_are_upright_and_sized_as_shown(runs, tmp_path):
    rot = tmp_path / "sideways.mp4"
    _rotated_copy(runs.offset.path, rot)
    info = probe_video(rot)
    assert info.rotation_deg == 90 and (info.width, info.height) == (640, 360)
    with open_video(runs.offset.path) as a, open_video(rot) as b:
        fa = [img for _, img in a.iter_gray("all", width=320)][:20]
        fb = [img for _, img in b.iter_gray("all", width=320)][:20]
        assert fb[0].shape == fa[0].shape == (180, 320)
        diff = np.mean(
            [np.abs(x.astype(float) - y.astype(float)).mean() for x, y in zip(fa, fb, strict=True)]
        )
        assert diff < 6.0, diff  # the same picture, not a turned or stretched one
        assert b.frame_at(1.0, width=320, colour=False).shape == (180, 320)


@pytest.mark.slow
def test_item08_rotated_copy_of_the_new_run_syncs_ok(runs, tmp_path, capsys):
    rot = tmp_path / "sideways.mp4"
    _rotated_copy(runs.offset.path, rot)
    out = tmp_path / "out"
    assert (
        main(
            ["sync", "--reference", str(runs.ref), "--new", str(rot), "--out", str(out), "--quiet"]
        )
        == 0
    )
    import json

    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert rep["status"] == "ok" and rep["median_confidence"] > 0.5, rep


def _cut_faststart(src, dst, keep: float = 0.5) -> None:
    faststart = dst.with_name("faststart.mp4")
    with (
        av.open(str(src)) as ic,
        av.open(str(faststart), "w", options={"movflags": "faststart"}) as oc,
    ):
        out = oc.add_stream_from_template(ic.streams.video[0])
        for pkt in ic.demux(video=0):
            if pkt.dts is not None:
                pkt.stream = out
                oc.mux(pkt)
    data = faststart.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")
    dst.write_bytes(data[: int(len(data) * keep)])


def test_item09_truncated_reference_is_refused_with_where(runs, tmp_path):
    cut = tmp_path / "ref_cut.mp4"
    _cut_faststart(runs.ref, cut)
    with pytest.raises(VideoOpenError) as info:
        build_index(cut)
    msg = str(info.value)
    assert (
        "ref_cut.mp4" in msg and "cut short" in msg and "frames stop at" in msg and "\n" not in msg
    )


def test_item09_truncated_new_run_says_the_same(runs, tmp_path, capsys):
    cut = tmp_path / "new_cut.mp4"
    _cut_faststart(runs.offset.path, cut)
    rc = main(
        [
            "sync",
            "--reference",
            str(runs.ref),
            "--new",
            str(cut),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1 and "new_cut.mp4" in err and "cut short" in err
    assert not (tmp_path / "o").exists()
