"""`mtbsync index | sync | transfer | warp refit | demo` as a user runs them: exit codes, one-line
errors, nothing half-written, and outputs parsed back."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import mtbsync_core
from mtbsync_core.cli import main
from mtbsync_core.warp import read_warp

pytestmark = pytest.mark.slow  # each command is a fresh interpreter (1-3 s on a loaded machine)

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
FRAME_2997_S = 1001 / 30000


def mtbsync(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mtbsync_core.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def in_process(capsys, *args: str | Path) -> subprocess.CompletedProcess:
    """The same command through ``main()`` in this process (cheaper than a subprocess)."""
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, out.out, out.err)


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    assert proc.returncode == code, f"exit {proc.returncode}, stderr: {proc.stderr}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"stderr is not one line: {proc.stderr!r}"
    assert lines[0].startswith("mtbsync: error: ")
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    return lines[0]


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """index -> sync --index -> transfer -> warp refit on the sample data, once."""
    d = tmp_path_factory.mktemp("cli")
    procs = {
        "index": mtbsync(
            "index", "--reference", SAMPLE_DATA / "ref.mp4", "--out", d / "ref.npz", "--quiet"
        ),
    }
    procs["sync"] = mtbsync(
        "sync",
        "--reference",
        SAMPLE_DATA / "ref.mp4",
        "--new",
        SAMPLE_DATA / "new.mp4",
        "--index",
        d / "ref.npz",
        "--out",
        d / "out",
        "--quiet",
    )
    procs["transfer"] = mtbsync(
        "transfer",
        "--warp",
        d / "out" / "warp.json",
        "--markers",
        SAMPLE_DATA / "ref_markers.csv",
        "--out",
        d / "new_markers.csv",
    )
    warp = read_warp(d / "out" / "warp.json")
    anchor = (10.0, round(float(warp.to_ref(10.0)) + 0.1, 4))
    procs["refit"] = mtbsync(
        "warp",
        "refit",
        "--warp",
        d / "out" / "warp.json",
        "--anchor",
        f"{anchor[0]}:{anchor[1]}",
        "--out",
        d / "refit.json",
    )
    return d, procs, anchor


def test_chain_commands_succeed_and_say_where_outputs_are(chain):
    d, procs, _ = chain
    for name, proc in procs.items():
        assert proc.returncode == 0, f"{name}: {proc.stderr}"
    assert str(d / "ref.npz") in procs["index"].stdout
    assert procs["sync"].stdout.startswith("ok:")
    for name in ("warp.json", "pairs.csv", "report.json"):
        assert str(d / "out" / name) in procs["sync"].stdout
    assert "8 marker(s)" in procs["transfer"].stdout and "2 need review" in procs["transfer"].stdout


def test_sync_warp_json_has_the_documented_format(chain):
    d, _, _ = chain
    w = json.loads((d / "out" / "warp.json").read_text(encoding="utf-8"))
    assert w["format"] == "mtbsync.warp" and w["version"] == 1
    n = len(w["t_new_s"])
    assert len(w["t_ref_s"]) == len(w["confidence"]) == n
    assert w["anchors"] == []
    lo, hi = w["overlap_new_s"]
    assert w["t_new_s"][0] == pytest.approx(lo) and w["t_new_s"][-1] == pytest.approx(hi)
    assert n >= 10 * (hi - lo)
    assert np.all(np.diff(w["t_ref_s"]) >= 0) and np.all(np.diff(w["t_new_s"]) > 0)
    assert all(0 <= c <= 1 for c in w["confidence"])


def test_sync_pairs_and_report_parse(chain):
    d, _, _ = chain
    rows = list(csv.DictReader(io.StringIO((d / "out" / "pairs.csv").read_text(encoding="utf-8"))))
    assert list(rows[0]) == ["t_new_s", "t_ref_s", "similarity", "inliers", "confidence"]
    assert len(rows) > 20
    t_new = [float(r["t_new_s"]) for r in rows]
    assert t_new == sorted(t_new)
    assert all(int(r["inliers"]) >= -1 and 0 <= float(r["confidence"]) <= 1 for r in rows)
    rep = json.loads((d / "out" / "report.json").read_text(encoding="utf-8"))
    assert rep["status"] == "ok"
    assert rep["mtbsync_version"] == mtbsync_core.__version__
    assert rep["timings_s"] and all(
        isinstance(v, float) and v >= 0 for v in rep["timings_s"].values()
    )
    assert "index" not in rep["timings_s"]  # the index from `mtbsync index` was reused
    assert isinstance(rep["params"], dict) and "sample" in rep["params"]
    assert rep["new"]["path"].endswith("new.mp4") and rep["reference"]["path"].endswith("ref.mp4")


def test_transfer_output_columns_and_values(chain):
    d, _, _ = chain
    rows = list(csv.DictReader(io.StringIO((d / "new_markers.csv").read_text(encoding="utf-8"))))
    assert list(rows[0]) == [
        "name",
        "t_ref",
        "t_new",
        "confidence",
        "needs_review",
        "comment",
        "colour",
    ]
    ref_colours = {
        r["name"]: r["colour"]
        for r in csv.DictReader(
            io.StringIO((SAMPLE_DATA / "ref_markers.csv").read_text(encoding="utf-8"))
        )
    }
    assert {r["name"]: r["colour"] for r in rows} == ref_colours  # transfer keeps the colours
    truth = json.loads((SAMPLE_DATA / "truth.json").read_text(encoding="utf-8"))["markers_t_new_s"]
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == set(truth)
    gate = by_name["start gate"]
    assert gate["t_new"] == "" and gate["needs_review"] == "true"
    a, b = json.loads((SAMPLE_DATA / "truth.json").read_text(encoding="utf-8"))["covered_new_s"]
    for name, t_true in truth.items():
        if t_true is not None and a <= t_true <= b:  # under the glove: flagged, not timed
            assert by_name[name]["needs_review"] == "true", name
        elif t_true is not None:
            assert abs(float(by_name[name]["t_new"]) - t_true) <= FRAME_2997_S, name
            assert by_name[name]["needs_review"] in ("true", "false")


def test_refit_goes_through_the_anchor_quickly(chain):
    d, procs, (a_new, a_ref) = chain
    w = json.loads((d / "refit.json").read_text(encoding="utf-8"))
    assert w["anchors"] == [{"t_new_s": a_new, "t_ref_s": a_ref}]
    refit = read_warp(d / "refit.json")
    assert abs(float(refit.to_ref(a_new)) - a_ref) < 1e-6
    assert np.all(np.diff(refit.t_ref_s) >= 0)
    ms = float(procs["refit"].stdout.split(" in ")[1].split(" ms")[0])
    assert ms < 1000


def test_refit_with_contradictory_anchors_is_one_line(chain, tmp_path, capsys):
    d, _, _ = chain
    proc = in_process(
        capsys,
        "warp",
        "refit",
        "--warp",
        d / "out" / "warp.json",
        "--anchor",
        "10:12",
        "--anchor",
        "12:11",
        "--out",
        tmp_path / "bad.json",
    )
    assert_one_line_error(proc, 1, "not monotone")
    assert not (tmp_path / "bad.json").exists()


def test_bad_anchor_syntax_is_a_usage_error(chain, tmp_path, capsys):
    d, _, _ = chain
    with pytest.raises(SystemExit) as info:
        main(
            [
                "warp",
                "refit",
                "--warp",
                str(d / "out" / "warp.json"),
                "--anchor",
                "ten",
                "--out",
                str(tmp_path / "x.json"),
            ]
        )
    assert info.value.code == 2 and "T_NEW:T_REF" in capsys.readouterr().err


def test_missing_video(tmp_path):
    proc = mtbsync(
        "sync",
        "--reference",
        tmp_path / "missing.mp4",
        "--new",
        SAMPLE_DATA / "new.mp4",
        "--out",
        tmp_path / "out",
        "--quiet",
    )
    assert_one_line_error(proc, 1, "missing.mp4", "does not exist")
    assert not (tmp_path / "out" / "warp.json").exists()


def test_text_file_as_video(tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("my ride notes\n", encoding="utf-8")
    proc = mtbsync("index", "--reference", notes, "--out", tmp_path / "ref.npz", "--quiet")
    assert_one_line_error(proc, 1, "notes.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp4"]  # no index, no temp file


def test_stale_index_exits_5(chain, runs, tmp_path):
    d, _, _ = chain
    proc = mtbsync(
        "sync",
        "--reference",
        runs.ref,
        "--new",
        runs.offset.path,
        "--index",
        d / "ref.npz",
        "--out",
        tmp_path / "out",
        "--quiet",
    )
    assert_one_line_error(proc, 5, "Rebuild", "ref.npz")
    assert not (tmp_path / "out" / "warp.json").exists()


def test_unrelated_videos_exit_4_without_a_warp(runs, tmp_path):
    out = tmp_path / "out"
    proc = mtbsync("sync", "--reference", runs.ref, "--new", runs.other, "--out", out, "--quiet")
    assert_one_line_error(proc, 4, "No reliable match", runs.other.name)
    assert not (out / "warp.json").exists() and not (out / "pairs.csv").exists()
    if (out / "report.json").exists():  # the report may say why
        assert json.loads((out / "report.json").read_text(encoding="utf-8"))["status"] == "no_match"


def test_existing_outputs_are_refused_and_untouched(chain, tmp_path, capsys):
    d, _, _ = chain
    existing = tmp_path / "new_markers.csv"
    existing.write_bytes(b"keep me\r\n\x00")
    proc = mtbsync(
        "transfer",
        "--warp",
        d / "out" / "warp.json",
        "--markers",
        SAMPLE_DATA / "ref_markers.csv",
        "--out",
        existing,
    )
    assert_one_line_error(proc, 3, "new_markers.csv", "--force")
    assert existing.read_bytes() == b"keep me\r\n\x00"
    # sync into a folder that already has a warp.json
    out = tmp_path / "out"
    out.mkdir()
    (out / "warp.json").write_bytes(b"{}")
    proc = in_process(
        capsys,
        "sync",
        "--reference",
        SAMPLE_DATA / "ref.mp4",
        "--new",
        SAMPLE_DATA / "new.mp4",
        "--index",
        d / "ref.npz",
        "--out",
        out,
        "--quiet",
    )
    assert_one_line_error(proc, 3, "warp.json")
    assert (out / "warp.json").read_bytes() == b"{}"
    assert sorted(p.name for p in out.iterdir()) == ["warp.json"]
    # index over an existing file
    idx = tmp_path / "ref.npz"
    idx.write_bytes(b"old")
    assert_one_line_error(
        in_process(
            capsys, "index", "--reference", SAMPLE_DATA / "ref.mp4", "--out", idx, "--quiet"
        ),
        3,
    )
    assert idx.read_bytes() == b"old"
    # --force overwrites
    proc = in_process(
        capsys,
        "transfer",
        "--warp",
        d / "out" / "warp.json",
        "--markers",
        SAMPLE_DATA / "ref_markers.csv",
        "--out",
        existing,
        "--force",
    )
    assert proc.returncode == 0 and existing.read_text(encoding="utf-8").startswith(
        "name,t_ref,t_new"
    )


def test_markers_csv_with_a_bad_row(chain, tmp_path):
    d, _, _ = chain
    bad = tmp_path / "ref_markers.csv"
    bad.write_text("name,t_ref\nrock garden,4.5\ndrop,eight\n", encoding="utf-8")
    proc = mtbsync(
        "transfer",
        "--warp",
        d / "out" / "warp.json",
        "--markers",
        bad,
        "--out",
        tmp_path / "new.csv",
    )
    assert_one_line_error(proc, 1, "ref_markers.csv", "line 3", "'eight'")
    assert not (tmp_path / "new.csv").exists()


def test_demo_prints_where_its_outputs_are(tmp_path, capsys):
    out = tmp_path / "demo"
    proc = mtbsync("demo", "--out", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "Demo done. Outputs:"
    end = lines.index("Sample runs against the reference (total: first to last marker):")
    listed = [Path(line.split()[-1]) for line in lines[1:end] if line.strip()]
    assert {p.name for p in listed} >= {
        "ref_index.npz",
        "warp.json",
        "pairs.csv",
        "report.json",
        "new_markers.csv",
        "summary.csv",
    }
    compared = {line.split()[0]: line.split()[1] for line in lines[end + 1 :]}
    assert compared == {
        "new": "ok",
        "run2": "ok",
        "run3": "ok",
    }  # the batch over the three sample runs
    for p in listed:
        assert p.is_file() and p.stat().st_size > 0 and out in p.parents
    again = in_process(capsys, "demo", "--out", out, "--quiet")
    assert_one_line_error(again, 3, "--force")


def test_index_built_with_other_settings_exits_5(runs, tmp_path, capsys):
    idx = tmp_path / "ref_10fps.npz"
    assert (
        in_process(
            capsys, "index", "--reference", runs.ref, "--out", idx, "--fps", "10", "--quiet"
        ).returncode
        == 0
    )
    proc = in_process(
        capsys,
        "sync",
        "--reference",
        runs.ref,
        "--new",
        runs.offset.path,
        "--index",
        idx,
        "--out",
        tmp_path / "out",
        "--quiet",
    )
    assert_one_line_error(proc, 5, "ref_10fps.npz", "Rebuild")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    ok = in_process(
        capsys,
        "sync",
        "--reference",
        runs.ref,
        "--new",
        runs.offset.path,
        "--index",
        idx,
        "--fps",
        "10",
        "--out",
        tmp_path / "out",
        "--quiet",
    )
    assert ok.returncode == 0, ok.stderr
    assert (
        json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["status"] == "ok"
    )


def test_output_folder_that_is_a_file_is_a_one_line_error(runs, tmp_path, capsys):
    """A typo such as `--out new_markers.csv` for sync: the folder exists as a plain file."""
    taken = tmp_path / "results.csv"
    taken.write_text("a file, not a folder\n", encoding="utf-8")
    proc = in_process(
        capsys,
        "sync",
        "--reference",
        runs.ref,
        "--new",
        runs.offset.path,
        "--out",
        taken,
        "--quiet",
    )
    line = assert_one_line_error(proc, proc.returncode, "results.csv")
    assert proc.returncode != 0, line
    assert taken.read_text(encoding="utf-8") == "a file, not a folder\n"
