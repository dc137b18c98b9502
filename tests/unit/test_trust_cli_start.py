"""The CLI answers `--help` and a missing input before importing the engine (issue 13).

Speed itself is measured by ``python -m bench.run --only cli``; this test checks the cause: no
heavy library (numpy, scipy, OpenCV, PyAV) is imported before the arguments are checked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "scipy", "cv2", "av", "streamlit")

PROBE = (
    f"HEAVY = {HEAVY!r}\n"
    + """
import sys
from mtbsync_core.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as e:
    code = e.code
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(HEAVY))
print('HEAVY', ','.join(heavy), file=sys.stderr)
print('CODE', code, file=sys.stderr)
"""
)


def _run(*args: str) -> tuple[int, list[str], str]:
    r = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    lines = r.stderr.strip().splitlines()
    heavy = next(line for line in lines if line.startswith("HEAVY")).split(" ", 1)[1:]
    code = int(next(line for line in lines if line.startswith("CODE")).split()[1])
    return code, [h for h in ",".join(heavy).split(",") if h], r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("sync", "--help"),
        ("export", "--help"),
        (
            "sync",
            "--reference",
            "/nonexistent/r.mp4",
            "--new",
            "/nonexistent/n.mp4",
            "--out",
            "/tmp/x",
        ),
        ("index", "--reference", "/nonexistent/r.mp4", "--out", "/tmp/mtbsync_none.npz"),
        (
            "transfer",
            "--warp",
            "w.json",
            "--markers",
            "m.csv",
            "--out",
            "o.csv",
            "--review-threshold",
            "nan",
        ),
        ("warp", "refit", "--warp", "w.json", "--anchor", "5:nan", "--out", "o.json"),
    ],
)
def test_cli_checks_arguments_before_importing_the_engine(args):
    code, heavy, err = _run(*args)
    assert code in (0, 1, 2), err
    assert heavy == [], f"{args}: imported {heavy} before answering"
    if "/nonexistent/r.mp4" in args:
        assert code == 1 and "r.mp4" in err and "does not exist" in err


def test_export_format_choices_match_the_engine():
    from mtbsync_core.cli.export import _FORMAT_HELP
    from mtbsync_core.export import FORMATS

    assert tuple(_FORMAT_HELP) == FORMATS
