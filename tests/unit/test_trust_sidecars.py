"""Issue 13, items 1 and 4-7: names and numbers from sidecars and the command line are checked."""

from __future__ import annotations

import json
import math

import av
import numpy as np
import pytest

from mtbsync_core.cli import main
from mtbsync_core.errors import MulticamError, WarpFileError, WarpFitError
from mtbsync_core.multicam import read_multicam
from mtbsync_core.warp import fit_warp, read_warp, write_warp


def _rc(argv) -> int:
    """``main``'s exit code, also when argparse exits."""
    try:
        return main(argv)
    except SystemExit as e:
        return int(e.code)


def _video(path, n: int = 30) -> None:
    """A tiny real MPEG-4 video (96x64, 30 fps)."""
    with av.open(str(path), "w") as out:
        vs = out.add_stream("mpeg4", rate=30)
        vs.width, vs.height, vs.pix_fmt = 96, 64, "yuv420p"
        for i in range(n):
            f = av.VideoFrame.from_ndarray(np.full((64, 96, 3), i * 7 % 256, np.uint8), "bgr24")
            f.pts = i
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)


def _multicam(tmp_path, ids, offsets=(0.0, 0.1)) -> dict:
    cams = []
    for k, cid in enumerate(ids):
        src = tmp_path / f"src{k}.mp4"
        _video(src)
        cams.append(
            {
                "path": str(src),
                "camera_id": cid,
                "offset_s": offsets[k],
                "drift_ppm": 0.0,
                "confidence": 1.0,
                "method": "manual",
                "status": "ok",
                "duration_s": 29 / 30,
            }
        )
    return {"format": "mtbsync.multicam", "version": 1, "master_id": ids[0], "cameras": cams}


@pytest.mark.parametrize("hostile", ["../../escaped", "/tmp/mtbsync_abs_escape", "..", "a/../../b"])
def test_item01_trim_never_writes_outside_out(tmp_path, hostile):
    d = _multicam(tmp_path, ["master", hostile])
    src = tmp_path / "mc" / "multicam.json"
    src.parent.mkdir()
    src.write_text(json.dumps(d))
    out = tmp_path / "deep" / "er" / "trimmed"
    before = {p for p in tmp_path.rglob("*")}
    assert _rc(["multicam", "trim", str(src), "--out", str(out), "--quiet"]) == 0
    new = {p for p in tmp_path.rglob("*")} - before
    written = [p for p in new if p.is_file()]
    assert len(written) == 3  # two videos and multicam.json
    assert all(out.resolve() in p.resolve().parents for p in written), written
    assert not any(p.name.startswith(".") for p in written)


def test_item01_duplicate_camera_ids_refused(tmp_path, capsys):
    d = _multicam(tmp_path, ["cam", "cam"])
    src = tmp_path / "multicam.json"
    src.write_text(json.dumps(d))
    assert _rc(["multicam", "trim", str(src), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip()
    assert "appears twice" in err and "multicam.json" in err and "\n" not in err
    assert not (tmp_path / "o").exists()


def test_item01_ids_that_clash_once_made_safe_refused(tmp_path, capsys):
    d = _multicam(tmp_path, ["a/b", "a_b"])
    src = tmp_path / "multicam.json"
    src.write_text(json.dumps(d))
    assert _rc(["multicam", "trim", str(src), "--out", str(tmp_path / "o")]) == 1
    assert "would both be written" in capsys.readouterr().err


@pytest.fixture()
def warp_path(tmp_path):
    x = np.linspace(0, 20, 200)
    w = fit_warp(x, x + 2.0)
    p = tmp_path / "warp.json"
    write_warp(w, p)
    return p


@pytest.mark.parametrize("anchor", ["5:nan", "nan:5", "inf:3", "5:-inf", "500:500", "1e6:1e6"])
def test_item04_anchor_refused(warp_path, tmp_path, capsys, anchor):
    out = tmp_path / "w2.json"
    rc = _rc(["warp", "refit", "--warp", str(warp_path), "--anchor", anchor, "--out", str(out)])
    last = capsys.readouterr().err.strip().splitlines()[-1]  # argparse prints usage first
    assert rc in (1, 2) and not out.exists()
    assert "nchor" in last and ("finite" in last or "outside" in last)


def test_item04_anchor_nan_refused_in_engine(warp_path):
    w = read_warp(warp_path)
    with pytest.raises(WarpFitError, match="finite"):
        w.with_anchors([(5.0, math.nan)])
    with pytest.raises(WarpFitError, match="finite"):
        fit_warp(np.arange(5.0), np.arange(5.0), anchors=[(1.0, math.inf)])


def test_item04_anchor_inside_runs_still_works(warp_path):
    w = read_warp(warp_path).with_anchors([(10.0, 12.5)])
    assert abs(float(w.to_ref(10.0)) - 12.5) < 1e-9


def _tamper(warp_path, change) -> None:
    d = json.loads(warp_path.read_text())
    change(d)
    warp_path.write_text(json.dumps(d))


def _set(key, value):
    def change(d):
        *path, last = key.split(".")
        for k in path:
            d = d[k]
        d[last] = value

    return change


TAMPERED = {
    "reversed_t_new": lambda d: d.update(t_new_s=d["t_new_s"][::-1]),
    "nan_t_ref": lambda d: d["t_ref_s"].__setitem__(3, math.nan),
    "confidence_5": lambda d: d["confidence"].__setitem__(0, 5.0),
    "inverted_overlap": lambda d: d.update(overlap_new_s=d["overlap_new_s"][::-1]),
    "overlap_outside": _set("overlap_new_s", [-100.0, 500.0]),
    "t_new_string": _set("t_new_s", "abc"),
    "t_new_dicts": _set("t_new_s", [{"a": 1}, {"b": 2}]),
    "huge_int": lambda d: d["t_ref_s"].__setitem__(0, 10**400),
    "grid_step_zero": _set("fit.grid_step_s", 0),
    "grid_step_tiny": _set("fit.grid_step_s", 1e-300),
    "fit_unknown": _set("fit.evil", 1),
    "fit_string": _set("fit", "x"),
    "anchor_nan": _set("anchors", [{"t_new_s": 1.0, "t_ref_s": math.nan}]),
    "anchor_list": _set("anchors", [[1, 2]]),
    "data_short": lambda d: d["data"].update(weight=[1.0]),
    "bool_time": lambda d: d["t_ref_s"].__setitem__(0, True),
    "one_sample": lambda d: d.update(t_new_s=[0], t_ref_s=[0], confidence=[1]),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_item05_tampered_warp_refused_on_read(warp_path, case):
    _tamper(warp_path, TAMPERED[case])
    with pytest.raises(WarpFileError) as info:
        read_warp(warp_path)
    msg = str(info.value)
    assert "warp.json" in msg and "\n" not in msg


def test_item05_huge_integer_text_refused(warp_path):
    text = warp_path.read_text().replace('"t_ref_s":[', '"t_ref_s":[' + "9" * 5000 + ",", 1)
    warp_path.write_text(text)
    with pytest.raises(WarpFileError, match="warp.json"):
        read_warp(warp_path)


def test_item05_valid_warp_round_trips(warp_path):
    w = read_warp(warp_path)
    assert np.isclose(float(w.to_ref(10.0)), 12.0, atol=1e-3)


@pytest.mark.parametrize(
    "field, value",
    [
        ("offset_s", math.nan),
        ("offset_s", "abc"),
        ("offset_s", math.inf),
        ("drift_ppm", None),
        ("confidence", 5.0),
        ("status", "great"),
        ("camera_id", 3),
        ("duration_s", -1.0),
        ("residuals_s", [math.nan]),
    ],
)
def test_item06_multicam_numbers_checked(tmp_path, field, value):
    d = _multicam(tmp_path, ["a", "b"])
    d["cameras"][1][field] = value
    p = tmp_path / "multicam.json"
    p.write_text(json.dumps(d))
    with pytest.raises(MulticamError) as info:
        read_multicam(p)
    assert "multicam.json" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [[], "x", None, [1, 2]])
def test_item06_multicam_shapes_checked(tmp_path, bad):
    p = tmp_path / "multicam.json"
    p.write_text(json.dumps({"format": "mtbsync.multicam", "version": 1, "cameras": bad}))
    with pytest.raises(MulticamError, match="multicam.json"):
        read_multicam(p)


@pytest.mark.parametrize("fps", ["0", "nan", "-5", "inf", "1e9"])
def test_item07_fps_refused_before_work(tmp_path, capsys, fps):
    out = tmp_path / "o.npz"
    rc = _rc(["index", "--reference", "missing.mp4", "--out", str(out), "--fps", fps])
    err = capsys.readouterr().err
    assert rc == 2 and "--fps" in err and not out.exists()


@pytest.mark.parametrize("thr", ["nan", "-0.5", "1.5", "inf"])
def test_item07_review_threshold_refused(warp_path, tmp_path, capsys, thr):
    m = tmp_path / "m.csv"
    m.write_text("name,t_ref\nrock,5\n")
    out = tmp_path / "n.csv"
    args = ["transfer", "--warp", str(warp_path), "--markers", str(m), "--out", str(out)]
    assert _rc([*args, "--review-threshold", thr]) == 2
    assert "--review-threshold" in capsys.readouterr().err and not out.exists()
