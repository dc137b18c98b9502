"""``mtbsync multicam sync|trim`` on encoded cameras: JSON against ground truth, trimmed files checked."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from mtbsync_core.cli import main
from mtbsync_core.multicam.media import read_pts_table
from mtbsync_core.multicam.synth import CamSpec, make_camera_set, standard_specs, true_clock


@pytest.fixture(scope="module")
def cams(tmp_path_factory):
    return make_camera_set(tmp_path_factory.mktemp("cli_mc"), standard_specs(5.0), seed=3)


def test_sync_writes_multicam_json(tmp_path, cams, capsys):
    out = tmp_path / "out"
    rc = main(["multicam", "sync", *map(str, (c.path for c in cams)), "--out", str(out), "--quiet"])
    assert rc == 0
    data = json.loads((out / "multicam.json").read_text())
    assert data["master_id"] == "helmet"
    for cam, tr, (off, _) in zip(data["cameras"], cams, true_clock(cams), strict=True):
        assert cam["path"] == str(tr.path) and cam["camera_id"] == tr.spec.camera_id
        assert cam["status"] == "ok" and cam["method"] in ("master", "audio")
        assert abs(cam["offset_s"] - off) < 0.001
        assert isinstance(cam["residuals_s"], list) and 0 <= cam["confidence"] <= 1
    assert "wrote" in capsys.readouterr().out
    # refuses to overwrite; --force overwrites
    assert (
        main(
            ["multicam", "sync", str(cams[0].path), str(cams[1].path), "--out", str(out), "--quiet"]
        )
        == 3
    )
    assert (
        main(
            [
                "multicam",
                "sync",
                str(cams[0].path),
                str(cams[1].path),
                "--out",
                str(out),
                "--quiet",
                "--master",
                "bar",
                "--force",
            ]
        )
        == 0
    )
    assert json.loads((out / "multicam.json").read_text())["master_id"] == "bar"


def test_sync_bad_input_messages(tmp_path, cams, capsys):
    assert main(["multicam", "sync", str(cams[0].path), "--out", str(tmp_path)]) == 1
    assert "at least two cameras" in capsys.readouterr().err
    mute = make_camera_set(
        tmp_path / "m", [CamSpec("mute", 1.0, 0.0, Fraction(30), 2.0, audio=False)], seed=3
    )
    assert (
        main(
            [
                "multicam",
                "sync",
                str(cams[0].path),
                str(mute[0].path),
                "--out",
                str(tmp_path / "o"),
                "--method",
                "audio",
                "--quiet",
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert "no audio" in err and "--method flash" in err
    assert (
        main(
            [
                "multicam",
                "sync",
                str(cams[0].path),
                str(tmp_path / "nope.mp4"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 1
    )
    assert "does not exist" in capsys.readouterr().err
    rc = main(
        [
            "multicam",
            "sync",
            str(cams[0].path),
            str(cams[1].path),
            "--out",
            str(tmp_path / "man"),
            "--method",
            "manual",
            "--offset",
            "bar=1.5",
        ]
    )
    assert rc == 0
    assert (
        json.loads((tmp_path / "man" / "multicam.json").read_text())["cameras"][1]["offset_s"]
        == 1.5
    )


def test_trim_is_frame_exact_with_audio(tmp_path, cams):
    out = tmp_path / "sync"
    assert (
        main(["multicam", "sync", *map(str, (c.path for c in cams)), "--out", str(out), "--quiet"])
        == 0
    )
    trim = tmp_path / "trim"
    assert main(["multicam", "trim", str(out), "--out", str(trim), "--quiet"]) == 0
    assert (
        main(["multicam", "trim", str(out / "multicam.json"), "--out", str(trim), "--quiet"]) == 3
    )
    data = json.loads((trim / "multicam.json").read_text())
    starts = [c["offset_s"] for c in data["cameras"]]
    common = max(t.spec.offset_s for t in cams) - cams[0].spec.offset_s
    modes = data["params"]["trimmed_from"]
    for cam, tr in zip(data["cameras"], cams, strict=True):
        idx = modes[cam["camera_id"]]
        tab = read_pts_table(cam["path"])
        assert tab.has_audio and tab.t_s[0] == 0
        assert len(tab.t_s) == len(tr.t_cam_s) - idx
        # the cut frame is the first at or after the common start, within half a frame
        period = 1 / float(tr.spec.fps)
        assert cam["offset_s"] >= common - 0.5 * period - 1e-3
        with av.open(str(tr.path)) as src, av.open(cam["path"]) as dst:
            want = [f for f in src.decode(video=0)][idx].to_ndarray(format="rgb24").astype(float)
            got = next(dst.decode(video=0)).to_ndarray(format="rgb24").astype(float)
        psnr = 10 * np.log10(255**2 / max(np.mean((want - got) ** 2), 1e-9))
        assert psnr > 38, (cam["camera_id"], psnr)
    assert max(starts) - min(starts) <= 0.5 / 25 + 1e-3


GOPRO = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gopro"


def test_real_gopro_trim_copy_then_audio_sync_recovers_cut(tmp_path):
    """Real GoPro H.264 + AAC: trim at a keyframe (stream copy), then sync the cut by its sound."""
    src = GOPRO / "karma.mp4"
    if not src.exists():
        pytest.skip(f"real GoPro sample not found at {src}")
    tab = read_pts_table(src)
    key = int(np.flatnonzero(tab.keyframe)[11])  # a keyframe about 3 s in
    cut_s = float(tab.t_s[key])
    sync_dir = tmp_path / "manual"
    assert (
        main(
            [
                "multicam",
                "sync",
                str(src),
                str(src),
                "--method",
                "manual",
                "--offset",
                f"karma-2={cut_s - 0.001:.6f}",
                "--out",
                str(sync_dir),
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(["multicam", "trim", str(sync_dir), "--out", str(tmp_path / "trim"), "--quiet"]) == 0
    )
    data = json.loads((tmp_path / "trim" / "multicam.json").read_text())
    assert data["params"]["trimmed_from"]["karma"] == key
    out = tmp_path / "trim" / "karma.mp4"
    cut = read_pts_table(out)
    assert len(cut.t_s) == len(tab.t_s) - key and cut.has_audio
    assert np.allclose(cut.t_s, tab.t_s[key:] - cut_s, atol=1e-4)
    # stream copy: the first picture is bit-identical to the source's keyframe
    with av.open(str(src)) as a, av.open(str(out)) as b:
        want = [f for _, f in zip(range(key + 1), a.decode(video=0), strict=False)][-1].to_ndarray(
            format="rgb24"
        )
        got = next(b.decode(video=0)).to_ndarray(format="rgb24")
    assert np.array_equal(want, got)
    res_dir = tmp_path / "audio"
    assert (
        main(
            [
                "multicam",
                "sync",
                str(src),
                str(out),
                "--method",
                "audio",
                "--out",
                str(res_dir),
                "--quiet",
            ]
        )
        == 0
    )
    cam = json.loads((res_dir / "multicam.json").read_text())["cameras"][1]
    assert abs(cam["offset_s"] - cut_s) < 0.001 and abs(cam["drift_ppm"]) < 50


def test_unrelated_cameras_exit_4_with_json(tmp_path, capsys):
    a = make_camera_set(
        tmp_path / "a",
        [CamSpec("ridge", 1.0, 0.0, Fraction(30), 5.0, seed=1)],
        seed=11,
        flashes=False,
    )
    b = make_camera_set(
        tmp_path / "b",
        [CamSpec("valley", 1.0, 0.0, Fraction(30), 5.0, seed=2)],
        seed=12,
        flashes=False,
    )
    rc = main(
        [
            "multicam",
            "sync",
            str(a[0].path),
            str(b[0].path),
            "--out",
            str(tmp_path / "o"),
            "--quiet",
        ]
    )
    assert rc == 4
    assert "not reliably placed" in capsys.readouterr().err
    cam = json.loads((tmp_path / "o" / "multicam.json").read_text())["cameras"][1]
    assert cam["status"] in ("ambiguous", "failed") and cam["message"]


def test_real_gopro_smart_cut_reencodes_only_to_next_keyframe(tmp_path):
    """Cut between keyframes: the head is re-encoded, every later frame is bit-identical, sound in sync."""
    src = GOPRO / "karma.mp4"
    if not src.exists():
        pytest.skip(f"real GoPro sample not found at {src}")
    tab = read_pts_table(src)
    keys = np.flatnonzero(tab.keyframe)
    idx = int(keys[11]) + 3  # three frames after a keyframe
    cut_s = float(tab.t_s[idx])
    sync_dir = tmp_path / "manual"
    off = f"karma-2={cut_s - 0.001:.6f}"
    assert (
        main(
            [
                "multicam",
                "sync",
                str(src),
                str(src),
                "--method",
                "manual",
                "--offset",
                off,
                "--out",
                str(sync_dir),
                "--quiet",
            ]
        )
        == 0
    )
    from mtbsync_core.multicam import read_multicam, trim_cameras

    _, done = trim_cameras(read_multicam(sync_dir), tmp_path / "trim")
    cut = next(d for d in done if d.camera_id == "karma")
    assert cut.mode == "smart" and cut.cut_frame_idx == idx
    assert cut.frames_reencoded == int(keys[12]) - idx
    with av.open(str(src)) as a, av.open(cut.path) as b:
        want = [f.to_ndarray(format="rgb24") for f in a.decode(video=0)][idx:]
        got = [(f.pts, f.to_ndarray(format="rgb24")) for f in b.decode(video=0)]
    assert len(got) == len(want) and got[0][0] == 0
    for k, (_, img) in enumerate(got):
        if k < cut.frames_reencoded:
            mse = np.mean((img.astype(float) - want[k].astype(float)) ** 2)
            assert 10 * np.log10(255**2 / max(mse, 1e-9)) > 38
        else:
            assert np.array_equal(img, want[k]), k
    res_dir = tmp_path / "audio"
    assert (
        main(
            [
                "multicam",
                "sync",
                str(src),
                cut.path,
                "--method",
                "audio",
                "--out",
                str(res_dir),
                "--quiet",
            ]
        )
        == 0
    )
    cam = json.loads((res_dir / "multicam.json").read_text())["cameras"][1]
    assert abs(cam["offset_s"] - cut_s) < 0.001
