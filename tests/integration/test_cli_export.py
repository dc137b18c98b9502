"""``mtbsync export`` and ``mtbsync import-markers`` run as a user would, on a real video."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

pytestmark = pytest.mark.slow  # ~15 CLI start-ups

FPS = Fraction(30000, 1001)
MARKERS_CSV = (
    "name,t_ref,t_new,confidence,needs_review,comment\n"
    "rock garden,10.0,0.5,0.93,false,stay left\n"
    'drop,20.0,1.2,0.35,true,"check it, rider stopped"\n'
    "finish,40.0,,0.0,true,outside overlap\n"
)


def _mtbsync(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mtbsync_core.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A 2 s 320x180 clip at 29.97 fps with a camera timecode, and a transferred-marker CSV."""
    d = tmp_path_factory.mktemp("cli")
    with av.open(str(d / "new.mp4"), "w") as out:
        out.metadata["timecode"] = "14:03:10:05"
        st = out.add_stream("libx264", rate=FPS)
        st.width, st.height, st.pix_fmt = 320, 180, "yuv420p"
        rng = np.random.default_rng(0)
        for i in range(60):
            vf = av.VideoFrame.from_ndarray(
                rng.integers(0, 255, (180, 320, 3), np.uint8), format="bgr24"
            )
            vf.pts = i
            for pkt in st.encode(vf):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    (d / "new.csv").write_text(MARKERS_CSV, encoding="utf-8")
    return d


@pytest.mark.parametrize("fmt,suffix", [("edl", "edl"), ("fcpxml", "fcpxml"), ("premiere", "xml")])
def test_export_then_import_markers_round_trip(work, fmt, suffix):
    out = work / f"new.{suffix}"
    r = _mtbsync(
        "export",
        fmt,
        "--markers",
        "new.csv",
        "--video",
        "new.mp4",
        "--out",
        out.name,
        "--force",
        cwd=work,
    )
    assert r.returncode == 0, r.stderr
    assert "1 marker(s) outside the overlap" in r.stderr
    assert f"(2 of 3 markers, {fmt})" in r.stdout
    ref = work / f"ref_{fmt}.csv"
    # an EDL carries neither its rate (issue 13 item 15) nor its start: the start is the
    # camera's own timecode, the same rule as export
    args = ["--fps", f"{FPS.numerator}/{FPS.denominator}"] if fmt == "edl" else []
    args += ["--start-tc", "14:03:10:05"] if fmt == "edl" else []
    r = _mtbsync("import-markers", out.name, *args, "--out", ref.name, "--force", cwd=work)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(ref.open(encoding="utf-8")))
    assert [row["name"] for row in rows] == ["rock garden", "drop"]
    assert [row["comment"] for row in rows] == ["stay left", "check it, rider stopped"]
    for row, t in zip(rows, [0.5, 1.2], strict=True):
        assert abs(float(row["t_ref"]) - t) <= 0.5 / float(FPS) + 1e-3
    assert rows[1]["colour"] in ("red", "")  # FCPXML marks it as a to-do, the others red
    if fmt != "fcpxml":
        assert rows[0]["colour"] == "green"


def test_export_reads_rate_and_timecode_from_video(work):
    r = _mtbsync(
        "export",
        "fcpxml",
        "--markers",
        "new.csv",
        "--video",
        "new.mp4",
        "--out",
        "tc.fcpxml",
        "--force",
        cwd=work,
    )
    assert r.returncode == 0, r.stderr
    root = ET.parse(work / "tc.fcpxml").getroot()
    assert root.find("resources/format").get("frameDuration") == "1001/30000s"
    assert root.find("resources/format").get("width") == "320"
    start_frames = (14 * 3600 + 3 * 60 + 10) * 30 + 5  # the camera's non-drop timecode
    start = Fraction(root.find(".//asset-clip").get("start")[:-1])
    assert start == Fraction(start_frames * 1001, 30000)


def test_export_json_and_csv(work):
    r = _mtbsync(
        "export",
        "json",
        "--markers",
        "new.csv",
        "--video",
        "new.mp4",
        "--out",
        "m.json",
        "--force",
        cwd=work,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads((work / "m.json").read_text())
    assert doc["fps"] == "30000/1001" and doc["start_tc"] == "14:03:10:05"
    assert [m["frame"] for m in doc["markers"][:2]] == [15, 36]
    r = _mtbsync("export", "csv", "--markers", "new.csv", "--out", "m.csv", "--force", cwd=work)
    assert r.returncode == 0, r.stderr
    last = next(csv.reader((work / "m.csv").read_text().splitlines()[3:]))
    assert (last[0], float(last[1]), last[2], last[4], last[5]) == (
        "finish",
        40.0,
        "",
        "true",
        "outside overlap",
    )


class _Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def cli(capsys, monkeypatch, work):
    """The same entry point in this process (the error paths need no fresh interpreter)."""
    from mtbsync_core.cli import main

    monkeypatch.chdir(work)

    def run(*args: str, cwd: Path | None = None) -> _Result:
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code)
        out = capsys.readouterr()
        return _Result(code, out.out, out.err)

    return run


def _error(r) -> str:
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mtbsync: error: "), r.stderr
    return lines[0]


def test_bad_inputs_give_one_line_errors(work, cli):
    err = _error(
        cli(
            "export",
            "edl",
            "--markers",
            "missing.csv",
            "--video",
            "new.mp4",
            "--out",
            "x.edl",
            cwd=work,
        )
    )
    assert "missing.csv" in err
    (work / "late.csv").write_text(
        "name,t_ref,t_new,confidence,needs_review,comment\nway late,1,9.5,0.9,false,\n"
    )
    err = _error(
        cli(
            "export",
            "premiere",
            "--markers",
            "late.csv",
            "--video",
            "new.mp4",
            "--out",
            "x.xml",
            cwd=work,
        )
    )
    assert "'way late' is at 9.500 s, beyond the end of the video (2.002 s)" in err
    assert not (work / "x.xml").exists()
    (work / "latin1.csv").write_bytes(
        "name,t_ref,t_new,confidence,needs_review,comment\nSch\xf6ckl,1,1,0.9,false,\n".encode(
            "latin-1"
        )
    )
    err = _error(
        cli("export", "edl", "--markers", "latin1.csv", "--fps", "25", "--out", "x.edl", cwd=work)
    )
    assert "line 2: not UTF-8" in err
    err = _error(cli("export", "edl", "--markers", "new.csv", "--out", "x.edl", cwd=work))
    assert "--video" in err and "--fps" in err
    err = _error(
        cli("export", "edl", "--markers", "new.csv", "--fps", "27.3", "--out", "x.edl", cwd=work)
    )
    assert "27.300 fps" in err and "not supported" in err
    r = cli(
        "export", "edl", "--markers", "new.csv", "--fps", "nonsense", "--out", "x.edl", cwd=work
    )
    assert r.returncode == 2 and "Not a frame rate" in r.stderr
    (work / "exists.edl").write_text("keep")
    r = cli("export", "edl", "--markers", "new.csv", "--fps", "25", "--out", "exists.edl", cwd=work)
    assert r.returncode == 3 and (work / "exists.edl").read_text() == "keep"


def test_import_bad_files_give_one_line_errors(work, cli):
    (work / "broken.fcpxml").write_text('<fcpxml version="1.10">\n<library>\n</fcpxml>\n')
    err = _error(cli("import-markers", "broken.fcpxml", "--out", "r.csv", cwd=work))
    assert "line 3" in err and "malformed FCPXML" in err
    (work / "ndf.edl").write_text(
        "TITLE: t\nFCM: NON-DROP FRAME\n\n001  001      V     C        "
        "01:00:01:00 01:00:01:01 01:00:01:00 01:00:01:01\n"
        " |C:ResolveColorBlue |M:m |D:1\n"
    )
    err = _error(cli("import-markers", "ndf.edl", "--out", "r.csv", cwd=work))
    assert "--fps" in err
    r = cli("import-markers", "ndf.edl", "--fps", "25", "--out", "r.csv", cwd=work)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader((work / "r.csv").open(encoding="utf-8")))
    assert [(r["name"], float(r["t_ref"]), r["colour"], r["comment"]) for r in rows] == [
        ("m", 1.0, "blue", "")
    ]
