"""Issue 13, items 10-13: the sync outputs are a set (all or none), locked, checked up front."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mtbsync_core.cli import main
from mtbsync_core.errors import OutputError
from mtbsync_core.fileio import INCOMPLETE_MARK, output_lock, write_set_atomic
from mtbsync_core.warp import read_warp

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "mtbsync_core.cli", *map(str, args)]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _complete(out: Path) -> bool:
    """The folder holds a whole, readable sync output set."""
    names = sorted(p.name for p in out.iterdir())
    if names != ["pairs.csv", "report.json", "warp.json"]:
        return False
    read_warp(out / "warp.json")
    rep = json.loads((out / "report.json").read_text(encoding="utf-8"))
    pairs = (out / "pairs.csv").read_text(encoding="utf-8").splitlines()
    return rep["status"] in ("ok", "low_confidence") and len(pairs) > 1


def test_item10_set_is_all_or_none_when_a_write_fails(tmp_path, monkeypatch):
    from mtbsync_core import fileio

    real = fileio._write_synced
    calls = []

    def fail_second(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(fileio, "_write_synced", fail_second)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="disk is full"):
        write_set_atomic(out, {"a.txt": "1", "b.txt": "2", "c.txt": "3"})
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_item10_interrupted_renames_into_a_used_folder_are_redone_without_force(
    tmp_path, monkeypatch
):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    real = os.replace
    n = []

    def die_after_one(a, b):
        n.append(b)
        if len(n) == 2:
            raise KeyboardInterrupt  # the user pressed Ctrl-C between two renames
        real(a, b)

    monkeypatch.setattr(os, "replace", die_after_one)
    with pytest.raises(KeyboardInterrupt):
        write_set_atomic(out, {"a.txt": "1", "b.txt": "2"})
    monkeypatch.setattr(os, "replace", real)
    assert (out / INCOMPLETE_MARK).exists()  # the folder says its set is not whole
    write_set_atomic(out, {"a.txt": "new", "b.txt": "new"})  # no force needed
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt", "notes.txt"]
    assert (out / "a.txt").read_text() == "new" and (out / "notes.txt").read_text() == "mine"


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


@pytest.mark.slow
def test_item10_full_disk_is_one_line_and_leaves_nothing(runs, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        _cli("sync", "--reference", runs.ref, "--new", runs.offset.path, "--out", out, "--quiet"),
        capture_output=True,
        text=True,
        env=_env(),
        preexec_fn=_limit_file_size,
        timeout=300,
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "out" in lines[0] and "disk is full" in lines[0]
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


@pytest.mark.slow
def test_item11_second_sync_to_a_locked_folder_is_refused_at_once(runs, tmp_path, capsys):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from mtbsync_core.fileio import output_lock\n"
            f"with output_lock({str(out)!r}):\n print('locked', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        rc = main(
            [
                "sync",
                "--reference",
                str(runs.ref),
                "--new",
                str(runs.offset.path),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        err = capsys.readouterr().err.strip()
        assert rc == 1 and "Another mtbsync run is writing" in err and "\n" not in err
        assert time.monotonic() - t0 < 30  # refused before the work, not after it
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
    with output_lock(out):  # the lock went with the process
        pass


def test_item12_index_out_existing_folder_with_force(tmp_path, capsys):
    (tmp_path / "idx").mkdir()
    rc = main(
        [
            "index",
            "--reference",
            str(SAMPLE / "ref.mp4"),
            "--out",
            str(tmp_path / "idx"),
            "--force",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 1 and "is a folder" in err and "idx" in err and "\n" not in err
    assert (tmp_path / "idx").is_dir()


def test_item13_bad_new_reported_before_the_index_is_read(tmp_path, capsys):
    bad_index = tmp_path / "ref.npz"
    bad_index.write_bytes(b"PK\x03\x04 not really an index")
    not_video = tmp_path / "new.mp4"
    not_video.write_text("not a video")
    rc = main(
        [
            "sync",
            "--reference",
            str(SAMPLE / "ref.mp4"),
            "--new",
            str(not_video),
            "--index",
            str(bad_index),
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1 and "new.mp4" in err and "ref.npz" not in err


def test_item13_missing_track_reported_before_work(tmp_path, capsys):
    rc = main(
        [
            "sync",
            "--reference",
            str(SAMPLE / "ref.mp4"),
            "--new",
            str(SAMPLE / "new.mp4"),
            "--new-gpx",
            str(tmp_path / "none.gpx"),
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1 and "--new-gpx" in err and "none.gpx" in err and not (tmp_path / "out").exists()


KILLS = 50


@pytest.mark.slow
def test_kill_sync_at_random_points_leaves_none_or_a_whole_set(runs, tmp_path):
    """`sync` SIGKILLed 50 times at random moments: the folder is absent or whole each time, and
    each next run (the rerun, without --force) is never refused."""
    import random

    rng = random.Random(13)
    out = tmp_path / "out"
    args = _cli("sync", "--reference", runs.ref, "--new", runs.offset.path, "--out", out, "--quiet")
    t0 = time.monotonic()
    first = subprocess.run(args, capture_output=True, text=True, env=_env(), timeout=300)
    full_s = time.monotonic() - t0
    assert first.returncode == 0 and _complete(out), first.stderr
    outcomes = {"absent": 0, "complete": 0}
    for k in range(KILLS):
        if out.exists():
            for p in out.iterdir():
                p.unlink()
            out.rmdir()
        # half the kills anywhere, half around the end where the outputs are written
        at = rng.uniform(0, full_s) if k % 2 else rng.uniform(0.75 * full_s, 1.1 * full_s)
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
        time.sleep(at)
        proc.kill()
        _, err = proc.communicate(timeout=60)
        assert proc.returncode in (0, -signal.SIGKILL), err
        if out.exists():
            assert _complete(out), sorted(p.name for p in out.iterdir())
            outcomes["complete"] += 1
        else:
            outcomes["absent"] += 1
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]
        assert not leftovers or proc.returncode == -signal.SIGKILL
    if out.exists():
        for p in out.iterdir():
            p.unlink()
        out.rmdir()
    final = subprocess.run(args, capture_output=True, text=True, env=_env(), timeout=300)
    assert final.returncode == 0 and _complete(out), final.stderr
    assert not [
        p for p in tmp_path.iterdir() if p.name.endswith(".part")
    ]  # stale temp folders cleared
    print(f"kill test: {outcomes} over {KILLS} kills; a full sync took {full_s:.1f} s")


def test_item10_warp_left_by_an_interrupted_set_is_not_read(tmp_path):
    import numpy as np

    from mtbsync_core.errors import WarpFileError
    from mtbsync_core.warp import fit_warp, write_warp

    write_warp(fit_warp(np.arange(10.0), np.arange(10.0)), tmp_path / "warp.json")
    (tmp_path / INCOMPLETE_MARK).write_bytes(b"")
    with pytest.raises(WarpFileError, match="interrupted"):
        read_warp(tmp_path / "warp.json")
