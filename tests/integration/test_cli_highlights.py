"""``mtbsync highlights`` end to end: real GoPro telemetry, a GPX track beside a video, clips,
editor markers parsed back, refusals, and ``highlights eval``."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import av
import numpy as np
import pytest

from mtbsync_core.cli import main
from mtbsync_core.export import read_markers_file

GOPRO = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gopro"
T0 = 1_714_557_600.0


def _video(path: Path, seconds: float = 24.0) -> None:
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=30)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        vs.options = {"g": "15", "preset": "ultrafast"}
        rng = np.random.default_rng(0)
        for k in range(int(seconds * 30)):
            f = av.VideoFrame.from_ndarray(
                rng.integers(0, 255, (48, 64, 3), np.uint8), format="rgb24"
            )
            f.pts = k
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)


def _gpx(path: Path, seconds: int = 24) -> None:
    t = np.arange(seconds + 1, dtype=float)
    v = np.where((t >= 8) & (t <= 15), 14.0, 5.0)
    lat = 46.0 + np.concatenate([[0], np.cumsum(v[1:])]) / 111_195.0
    pts = "".join(
        f'<trkpt lat="{la:.8f}" lon="7.0"><ele>1000</ele><time>'
        f"{dt.datetime.fromtimestamp(T0 + s, dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for s, la in zip(t, lat, strict=True)
    )
    path.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{pts}</trkseg></trk></gpx>"
    )


def test_video_with_gpx_fast_stretch_clip_markers_and_eval(tmp_path, capsys):
    vid, gpx, out = tmp_path / "ride.mp4", tmp_path / "ride.gpx", tmp_path / "out"
    _video(vid)
    _gpx(gpx)
    args = [
        "highlights",
        str(vid),
        "--out",
        str(out),
        "--kinds",
        "fast",
        "--track",
        str(gpx),
        "--track-offset",
        str(T0),
        "--clips",
        "--pad",
        "1",
        "--quiet",
    ]
    assert main(args) == 0
    doc = json.loads((out / "highlights.json").read_text())
    (h,) = doc["highlights"]
    assert h["kinds"] == ["fast"] and 7.0 < h["start_s"] < 9.5 and 14.0 < h["end_s"] < 16.5
    assert doc["sources"] == ["gps"]
    (clip,) = sorted(out.glob("ride_01_fast.mp4"))
    with av.open(str(clip)) as c:
        n = sum(1 for _ in c.decode(video=0))
    first = int(np.ceil((h["clip_start_s"] - 1 / 60) * 30))
    last = int(np.ceil((h["clip_end_s"] - 1 / 60) * 30)) - 1
    assert n == last - first + 1
    (m,) = read_markers_file(out / "highlights.edl", fps=30)
    assert m.name == "#1 fast" and abs(m.t_ref_s - h["start_s"]) < 0.04
    fcp = ET.parse(out / "highlights.fcpxml").getroot()
    (mk,) = fcp.iter("marker")
    num, den = mk.get("duration").rstrip("s").split("/")
    assert abs(int(num) / int(den) - (h["end_s"] - h["start_s"])) < 0.04
    assert main(args) == 3  # outputs exist: no overwrite without --force
    assert main([*args, "--force"]) == 0
    labels = tmp_path / "labels.csv"
    labels.write_text("kind,start_s,end_s\nfast,8.0,15.0\njump,3.0,3.5\n")
    capsys.readouterr()
    assert (
        main(
            [
                "highlights",
                "eval",
                "--labels",
                str(labels),
                "--highlights",
                str(out / "highlights.json"),
            ]
        )
        == 0
    )
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["fast"][4:6] == ["1.000", "1.000"]
    assert rows["jump"][3] == "0" and rows["jump"][5] == "0.000"
    cvat = tmp_path / "annotations.xml"
    cvat.write_text(
        '<?xml version="1.0"?><annotations><version>1.1</version><track id="0" label="speedy">'
        '<box frame="240" outside="0" xtl="0" ytl="0" xbr="9" ybr="9"/>'
        '<box frame="450" outside="1" xtl="0" ytl="0" xbr="9" ybr="9"/></track></annotations>'
    )
    hl = str(out / "highlights.json")
    assert main(["highlights", "eval", "--labels", str(cvat), "--highlights", hl]) == 0  # its video
    capsys.readouterr()
    ev = [
        "highlights",
        "eval",
        "--labels",
        str(cvat),
        "--highlights",
        hl,
        "--label-map",
        "speedy=fast",
    ]
    assert main([*ev, "--video", str(vid)]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["fast"][4:6] == ["1.000", "1.000"] and float(rows["fast"][6]) < 1.0


def test_bad_arguments_and_missing_run(tmp_path, capsys):
    assert main(["highlights", str(tmp_path / "nope.mp4"), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope.mp4" in err
    assert main(["highlights", "x.mp4", "--out", str(tmp_path), "--kinds", "backflip"]) == 2
    assert main(["highlights", "eval"]) == 2
    assert main(["highlights", "x.mp4", "--out", str(tmp_path), "--set", "nope=1"]) == 2
    assert main(["highlights", "x.mp4", "--out", str(tmp_path), "--set", "crash_g=hard"]) == 2


def test_set_changes_a_threshold(tmp_path):
    vid, gpx = tmp_path / "ride.mp4", tmp_path / "ride.gpx"
    _video(vid)
    _gpx(gpx)
    base = [
        "highlights",
        str(vid),
        "--kinds",
        "fast",
        "--track",
        str(gpx),
        "--track-offset",
        str(T0),
    ]
    base += ["--quiet", "--markers", "none"]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--out", str(tmp_path / "b"), "--set", "fast_min_m_s=20"]) == 0
    a = json.loads((tmp_path / "a" / "highlights.json").read_text())
    b = json.loads((tmp_path / "b" / "highlights.json").read_text())
    assert len(a["highlights"]) == 1 and b["highlights"] == []  # 50 km/h is not fast at 72 km/h
    assert b["params"]["fast_min_m_s"] == 20.0


def test_real_gopro_runs_one_folder_each(tmp_path, capsys):
    runs = [GOPRO / "karma.mp4", GOPRO / "max-heromode.mp4"]
    if not all(p.is_file() for p in runs):
        pytest.skip(f"real GoPro samples not found in {GOPRO}")
    assert main(["highlights", *map(str, runs), "--out", str(tmp_path), "--quiet"]) == 0
    karma = json.loads((tmp_path / "karma" / "highlights.json").read_text())
    maxh = json.loads((tmp_path / "max-heromode" / "highlights.json").read_text())
    assert karma["sources"] == ["imu", "gyro", "audio"]  # the drone has no GPS fix
    assert maxh["sources"] == ["imu", "gyro", "gps", "audio"]
    # a hovering drone and a walk at ~1.4 m/s: no free fall, no impact, nothing fast
    for doc in (karma, maxh):
        assert not [e for e in doc["events"] if e["kind"] in ("jump", "drop", "crash", "fast")]


def test_run_many_with_an_executor_keeps_order_and_folders(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from mtbsync_core.errors import HighlightError
    from mtbsync_core.highlights.runner import run_many

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    vids = [tmp_path / "a" / "first.mp4", tmp_path / "b" / "second.mp4"]
    for v in vids:
        _video(v, 20.0)
    _gpx(tmp_path / "ride.gpx", 20)
    opts = {"kinds": "fast", "track_path": str(tmp_path / "ride.gpx"), "track_offset_s": T0}
    with ThreadPoolExecutor(2) as ex:
        outs = run_many(vids, tmp_path / "out", executor=ex, **opts)
    assert [Path(o.result.video).name for o in outs] == ["first.mp4", "second.mp4"]
    assert [Path(o.json_path).parent.name for o in outs] == ["first", "second"]
    assert all(len(o.result.highlights) == 1 for o in outs)
    with pytest.raises(HighlightError, match="same file name"):
        run_many([vids[0], vids[0]], tmp_path / "o2", **opts)
