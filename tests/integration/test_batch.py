"""`mtbsync batch` on real encoded runs with a known warp: splits against the truth, a corrupt run
in the batch, resume after a kill, and the Dask LocalCluster giving the local pool's result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from mtbsync_core.batch import DaskExecutor, LocalExecutor, read_summary, run_batch
from mtbsync_core.markers import write_markers_csv
from mtbsync_core.model import Marker

pytestmark = pytest.mark.slow

SIZE, FPS = (320, 180), Fraction(30)
FRAME_S = 1 / 30
MARKERS = (Marker("start", 1.5), Marker("rock", 3.0), Marker("drop", 4.5), Marker("finish", 6.0))
PACES = ((0.85, 0.6), (1.1, 0.4), (0.95, 0.8), (1.0, 0.5), (0.9, 0.3), (1.05, 0.7))


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    """A 9 s reference, six runs of 7 s at other paces (truth kept), a corrupt 'run' and markers."""
    from mtbsync_core.synthetic import (
        RenderSpec,
        WarpProfile,
        make_trail,
        render_new,
        render_reference,
    )

    d = tmp_path_factory.mktemp("season")
    trail = make_trail("trail")
    render_reference(d / "ref.mp4", trail, RenderSpec(duration_s=9.0, fps=FPS, size=SIZE))
    runs = d / "runs"
    runs.mkdir()
    truth = {}
    for i, (ratio, start) in enumerate(PACES):
        profile = WarpProfile(
            t_ref_start_s=start, mean_ratio=ratio, wobble=0.1, wobble_period_s=5.0 + i
        )
        t_new, t_ref = render_new(
            runs / f"lap{i}.mp4", trail, profile, RenderSpec(duration_s=7.0, fps=FPS, size=SIZE)
        )
        ok = ~np.isnan(t_ref)
        truth[f"lap{i}"] = [float(np.interp(m.t_ref_s, t_ref[ok], t_new[ok])) for m in MARKERS]
    (runs / "lap9_corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(2000))
    write_markers_csv(MARKERS, d / "markers.csv", force=True)
    return d, truth


def cli(*args, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mtbsync_core.cli", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kw,
    )


def test_batch_splits_match_truth_and_a_corrupt_run_fails_alone(season, tmp_path):
    d, truth = season
    proc = cli(
        "batch",
        "--reference",
        d / "ref.mp4",
        "--runs",
        d / "runs",
        "--markers",
        d / "markers.csv",
        "--out",
        tmp_path / "b",
        "--workers",
        "2",
    )
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 6, err  # finished, but not every run synced
    errors = [ln for ln in err.splitlines() if ln.startswith("mtbsync:")]
    assert len(errors) == 1 and "lap9_corrupt" in errors[0] and "failed" in errors[0], err
    assert "[7/7]" in err  # a status line per run under the bar
    rows = {r["run"]: r for r in read_summary(tmp_path / "b" / "summary.csv")}
    assert set(rows) == {f"lap{i}" for i in range(len(PACES))} | {"lap9_corrupt"}
    assert (
        rows["lap9_corrupt"]["status"] == "failed"
        and "lap9_corrupt.mp4" in rows["lap9_corrupt"]["reason"]
    )
    assert rows["lap9_corrupt"]["total_s"] == ""
    segs = [f"split: {a.name} -> {b.name}" for a, b in zip(MARKERS[:-1], MARKERS[1:], strict=True)]
    totals = {}
    for name, t_true in truth.items():
        r = rows[name]
        assert r["status"] == "ok", r
        true_splits = np.diff(t_true)
        got = np.array([float(r[c]) for c in segs])
        assert np.abs(got - true_splits).max() <= FRAME_S, (name, got, true_splits)
        totals[name] = float(r["total_s"])
        assert abs(totals[name] - (t_true[-1] - t_true[0])) <= FRAME_S
        assert abs(float(r["delta_ref_s"]) - (totals[name] - 4.5)) < 1e-3
        # the run's own folder: warp, pairs, report and its transferred markers
        for f in ("warp.json", "pairs.csv", "report.json", "markers.csv", "outcome.json"):
            assert (tmp_path / "b" / "runs" / name / f).is_file()
    best = min(totals.values())
    for name, total in totals.items():
        assert abs(float(rows[name]["delta_best_s"]) - (total - best)) < 1e-3
    import pandas as pd

    df = pd.read_parquet(tmp_path / "b" / "summary.parquet")
    assert sorted(df["run"]) == sorted(rows) and list(df.columns)[:2] == ["run", "status"]


def _finished(out: Path) -> dict[str, float]:
    return {p.parent.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*/outcome.json")}


def test_killed_batch_resumes_with_only_the_rest(season, tmp_path):
    d, _ = season
    out = tmp_path / "b"
    args = (
        "batch",
        "--reference",
        d / "ref.mp4",
        "--runs",
        str(d / "runs" / "lap[0-5].mp4"),
        "--markers",
        d / "markers.csv",
        "--out",
        out,
        "--workers",
        "1",
        "--quiet",
    )
    proc = cli(*args)
    deadline = time.monotonic() + 300
    while len(_finished(out)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its worker processes, mid-run
    proc.communicate()
    before = _finished(out)
    assert 3 <= len(before) < len(PACES), (
        f"the kill came too late to test resuming: {sorted(before)}"
    )
    for name in before:  # each finished run's record is whole (written atomically, last)
        json.loads((out / "runs" / name / "outcome.json").read_text())
    proc = cli(*args)
    stdout, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert f"{len(before)} done before" in stdout and "reference index reused" in stdout
    after = _finished(out)
    assert len(after) == len(PACES)
    assert {n: after[n] for n in before} == before  # the finished runs were not redone
    rows = read_summary(out / "summary.csv")
    assert sorted(r["run"] for r in rows) == [f"lap{i}" for i in range(len(PACES))]
    assert all(r["status"] == "ok" for r in rows)


def test_dask_local_cluster_gives_the_local_pools_result(season, tmp_path):
    d, _ = season
    runs = sorted((d / "runs").glob("lap[0-2].mp4"))
    with LocalExecutor(2) as ex:
        local = run_batch(d / "ref.mp4", runs, MARKERS, tmp_path / "local", executor=ex)
    ex = DaskExecutor(workers=2)
    try:
        dask = run_batch(d / "ref.mp4", runs, MARKERS, tmp_path / "dask", executor=ex)
    finally:
        ex.shutdown()
    assert local.index_built and dask.index_built
    for a, b in zip(local.outcomes, dask.outcomes, strict=True):
        assert (a.name, a.status) == (b.name, b.status)
        np.testing.assert_allclose(a.marker_t_new_s, b.marker_t_new_s, rtol=0, atol=1e-9)
        wa = json.loads((tmp_path / "local" / "runs" / a.name / "warp.json").read_text())
        wb = json.loads((tmp_path / "dask" / "runs" / b.name / "warp.json").read_text())
        np.testing.assert_allclose(wa["t_ref_s"], wb["t_ref_s"], rtol=0, atol=1e-9)


def test_changed_settings_refuse_to_overwrite_without_force(season, tmp_path):
    from mtbsync_core.errors import OutputExistsError

    d, _ = season
    runs = [d / "runs" / "lap0.mp4"]
    with LocalExecutor(1) as ex:
        run_batch(d / "ref.mp4", runs, MARKERS, tmp_path / "b", executor=ex)
        with pytest.raises(OutputExistsError, match="--force"):
            run_batch(d / "ref.mp4", runs, MARKERS[:2], tmp_path / "b", executor=ex)
        again = run_batch(d / "ref.mp4", runs, MARKERS[:2], tmp_path / "b", executor=ex, force=True)
    assert again.outcomes[0].status == "ok" and not again.outcomes[0].resumed


def test_bad_batch_arguments_are_one_line_errors(season, tmp_path, capsys):
    from mtbsync_core.cli import main

    d, _ = season
    code = main(
        [
            "batch",
            "--reference",
            str(d / "ref.mp4"),
            "--runs",
            str(tmp_path / "none" / "*.mp4"),
            "--markers",
            str(d / "markers.csv"),
            "--out",
            str(tmp_path / "b"),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "No video files in" in err[0] and "none" in err[0]
    assert not (tmp_path / "b").exists()
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "batch",
                "--reference",
                str(d / "ref.mp4"),
                "--runs",
                str(d / "runs"),
                "--markers",
                str(d / "markers.csv"),
                "--out",
                str(tmp_path / "b"),
                "--workers",
                "0",
            ]
        )
    assert exc.value.code == 2 and "--workers" in capsys.readouterr().err


def test_a_reference_that_is_no_video_is_one_line_and_leaves_no_folder(season, tmp_path, capsys):
    from mtbsync_core.batch import run_batch
    from mtbsync_core.cli import main
    from mtbsync_core.errors import VideoOpenError

    d, _ = season
    bad = tmp_path / "ref.mp4"
    bad.write_bytes(b"")
    args = ["--runs", str(d / "runs"), "--markers", str(d / "markers.csv")]
    code = main(["batch", "--reference", str(bad), *args, "--out", str(tmp_path / "b")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "empty" in err[-1] and str(bad) in err[-1]
    assert not (tmp_path / "b").exists()
    with pytest.raises(VideoOpenError, match="empty"):  # the library refuses before writing too
        run_batch(bad, sorted((d / "runs").glob("*.mp4")), [], tmp_path / "c")
    assert not (tmp_path / "c").exists()
