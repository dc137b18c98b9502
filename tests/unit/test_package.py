"""The package: importing it has no side effects, pulls in no UI libraries, and its API resolves."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import mtbsync_core

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, logging, os, sys
before = sorted(os.listdir("."))
import mtbsync_core
import mtbsync_core.pipeline, mtbsync_core.video.stream, mtbsync_core.markers, mtbsync_core.index
import mtbsync_core.batch, mtbsync_core.cli
after = sorted(os.listdir("."))
ui = sorted({m.split(".")[0] for m in sys.modules} & {"streamlit", "rich", "tqdm", "typer", "plotly", "pandas"})
handlers = {name: [type(h).__name__ for h in lg.handlers]
            for name, lg in logging.Logger.manager.loggerDict.items()
            if name.startswith("mtbsync") and isinstance(lg, logging.Logger) and lg.handlers}
print(json.dumps({"before": before, "after": after, "ui": ui, "handlers": handlers,
                  "root_handlers": [type(h).__name__ for h in logging.getLogger().handlers],
                  "root_level": logging.getLogger().level}))
"""


def test_import_has_no_side_effects(tmp_path):
    cwd = tmp_path / "cwd"
    home = tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    (cwd / "existing.txt").write_text("x")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "STREAMLIT"))}
    env.update(HOME=str(home), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # nothing printed or warned on import
    out = json.loads(proc.stdout)  # and stdout holds only the probe's own line
    assert out["ui"] == [], f"importing mtbsync_core pulled in {out['ui']}"
    assert out["before"] == out["after"] == ["existing.txt"]
    assert sorted(os.listdir(home)) == []
    assert out["root_handlers"] == [] and out["handlers"] == {}
    assert out["root_level"] == 30  # WARNING: the library did not touch logging configuration


def test_public_api_resolves_and_is_curated():
    names = mtbsync_core.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert getattr(mtbsync_core, name) is not None, name
    for name in (
        "sync_runs",
        "TimeWarp",
        "fit_warp",
        "transfer_markers",
        "read_markers_csv",
        "build_index",
        "load_index",
        "open_video",
        "probe_video",
        "MtbSyncError",
        "parse_fps",
        "read_warp",
        "write_warp",
    ):
        assert name in names, name
    assert not [n for n in names if n in {"annotations", "np", "os", "sys"}]


def test_every_error_derives_from_the_root_with_a_documented_exit_code():
    errors = [getattr(mtbsync_core, n) for n in mtbsync_core.__all__ if n.endswith("Error")]
    assert len(errors) >= 10
    for cls in errors:
        assert issubclass(cls, mtbsync_core.MtbSyncError)
        assert cls.exit_code in (1, 3, 4, 5)
    assert mtbsync_core.OutputExistsError.exit_code == 3
    assert mtbsync_core.NoReliableMatchError.exit_code == 4
    assert mtbsync_core.IndexMismatchError.exit_code == 5


def test_version_matches_pyproject_and_the_cli():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    version = re.search(r'^version = "([^"]+)"', pyproject, re.M)[1]
    assert mtbsync_core.__version__ == version
    from mtbsync_core.cli import build_parser

    parser = build_parser()
    assert parser.prog == "mtbsync"
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"index", "sync", "warp", "transfer", "demo"} <= set(sub.choices)
