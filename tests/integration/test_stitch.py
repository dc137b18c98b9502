"""``stitch_recordings`` and ``mtbsync stitch`` on real encoded copies with known damage."""

from __future__ import annotations

import csv
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from mtbsync_core.cli import main
from mtbsync_core.errors import StitchError
from mtbsync_core.stitch import stitch_recordings
from mtbsync_core.testing.damage import KINDS, damage_copy, read_yuv_frames, write_copy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def source():
    frames, fps = read_yuv_frames(ROOT / "sample_data" / "ref.mp4", max_frames=40)
    return frames, fps


@pytest.fixture(scope="module")
def copies(source, tmp_path_factory):
    frames, fps = source
    d = tmp_path_factory.mktemp("copies")
    out = []
    for seed in range(3):
        c = damage_copy(frames, KINDS, 0.3, seed=seed + 10)
        write_copy(d / f"c{seed}.mkv", c.frames, fps)
        out.append((d / f"c{seed}.mkv", c))
    return out


def _decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray() for f in c.decode(video=0)]


@pytest.mark.parametrize("codec", ["ffv1", "utvideo"])
def test_output_is_the_clean_frame_wherever_a_copy_is_clean(source, copies, tmp_path, codec):
    frames, _ = source
    res = stitch_recordings([p for p, _ in copies], tmp_path / "out", codec=codec)
    assert res.files["video"].suffix == {"ffv1": ".mkv", "utvideo": ".avi"}[codec]
    with av.open(str(res.files["video"])) as c:
        assert c.streams.video[0].codec_context.name == codec
    out = _decode(res.files["video"])
    assert len(out) == res.n_frames == len(frames)
    truths = [c.truth for _, c in copies]
    clean_somewhere = [n for n in range(len(frames)) if any(t[n] == "" for t in truths)]
    assert len(clean_somewhere) > 30
    for j, n in enumerate(res.frame_number):
        if n in clean_somewhere:
            assert np.array_equal(out[j], frames[n]), f"frame {n}: copy {res.source_copy[j]}"
    damaged_truth = sum(t[n] not in ("", "drop") for t in truths for n in range(len(frames)))
    assert damaged_truth > 20
    for j, n in enumerate(res.frame_number):
        for ci, t in enumerate(truths):
            if t[n] != "drop":
                assert res.damaged[j, ci] == (t[n] != ""), f"frame {n} copy {ci}: truth {t[n]!r}"
    rows = list(csv.DictReader(res.files["frames"].open()))
    assert [int(r["frame_number"]) for r in rows] == res.frame_number.tolist()
    assert [int(r["source_copy"]) for r in rows] == res.source_copy.tolist()
    every = [n for n in range(len(frames)) if all(t[n] != "" for t in truths)]
    listed = [int(r["frame_number"]) for r in csv.DictReader(res.files["missing"].open())]
    assert sorted(listed) == sorted(set(every))


def test_metadata_aligns_copies_and_outvotes_the_picture(source, tmp_path):
    frames, fps = source
    frames = frames[:20]
    # copy b started 5 frames late and numbers its frames from 0: only metadata lines them up
    write_copy(tmp_path / "a.mkv", frames, fps)
    write_copy(tmp_path / "b.mkv", frames[5:], fps)
    rows_a = ["frame_num,buffer_count,black_padding_px"] + [
        f"{500 + i},0,{64 if i == 8 else 0}" for i in range(20)
    ]
    rows_b = ["frame_num,buffer_count,black_padding_px"] + [f"{505 + i},0,0" for i in range(15)]
    (tmp_path / "a.csv").write_text("\n".join(rows_a) + "\n")
    (tmp_path / "b.csv").write_text("\n".join(rows_b) + "\n")
    res = stitch_recordings(
        [tmp_path / "a.mkv", tmp_path / "b.mkv"],
        tmp_path / "out",
        metadata=[tmp_path / "a.csv", tmp_path / "b.csv"],
    )
    assert res.align == "metadata"
    assert res.frame_number.tolist() == list(range(500, 520))
    assert res.source_copy[8] == 1  # copy a's metadata says frame 508 was padded
    assert res.present[:5, 1].sum() == 0 and res.present[5:, 1].all()
    stitched = list(csv.DictReader(res.files["metadata"].open()))
    assert [int(r["stitched_frame_index"]) for r in stitched] == list(range(20))


def test_content_alignment_for_copies_that_started_apart(source, tmp_path):
    frames, fps = source
    write_copy(tmp_path / "a.mkv", frames[:30], fps)
    write_copy(tmp_path / "b.mkv", frames[7:40], fps)
    res = stitch_recordings(
        [tmp_path / "a.mkv", tmp_path / "b.mkv"], tmp_path / "out", align="content"
    )
    assert res.frame_number.tolist() == list(range(40))
    out = _decode(res.files["video"])
    assert all(np.array_equal(o, f) for o, f in zip(out, frames, strict=False))


def test_bad_input_is_refused_and_nothing_is_written(source, tmp_path):
    frames, fps = source
    write_copy(tmp_path / "a.mkv", frames[:10], fps)
    small = [f[::2, ::2].copy() for f in frames[:10]]
    write_copy(tmp_path / "small.mkv", small, fps)
    out = tmp_path / "out"
    with pytest.raises(StitchError, match="small.mkv' is 320x180 but"):
        stitch_recordings([tmp_path / "a.mkv", tmp_path / "small.mkv"], out)
    write_copy(tmp_path / "pal.mkv", frames[:10], Fraction(25))
    with pytest.raises(StitchError, match="runs at 25.000 fps but"):
        stitch_recordings([tmp_path / "a.mkv", tmp_path / "pal.mkv"], out)
    (tmp_path / "m.csv").write_text("frame_num\n1\n2\n3\n")
    with pytest.raises(StitchError, match="describes 3 frames but video"):
        stitch_recordings(
            [tmp_path / "a.mkv", tmp_path / "a.mkv"], out, metadata=[tmp_path / "m.csv"] * 2
        )
    far = [None] * 20 + frames[:10]
    write_copy(tmp_path / "late.mkv", far, fps)
    with pytest.raises(StitchError, match="no frame in common"):
        stitch_recordings([tmp_path / "a.mkv", tmp_path / "late.mkv"], out)
    assert not out.exists() or not any(out.iterdir())


def test_cli_stitch_writes_debug_video_and_refuses_to_overwrite(copies, tmp_path, capsys):
    paths = [str(p) for p, _ in copies]
    out = tmp_path / "cli"
    assert main(["stitch", *paths, "--out", str(out), "--crop", "5:25", "--debug", "--quiet"]) == 0
    assert "stitched 20 frames from 3 copies" in capsys.readouterr().out
    with av.open(str(out / "debug_side_by_side.mp4")) as c:
        st = c.streams.video[0]
        assert st.width == 3 * 320 and st.frames == 20
    assert main(["stitch", *paths, "--out", str(out), "--quiet"]) == 3
    assert "exists" in capsys.readouterr().err
    assert main(["stitch", *paths, "--out", str(out), "--quiet", "--force", "--codec", "h264"]) == 0
    assert (out / "stitched.mp4").exists()
