"""Stitch page: stitch real encoded damaged copies, see the decision strip and table, download."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from mtbsync_core.testing.damage import KINDS, damage_copy, read_yuv_frames, write_copy

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app" / "app_pages" / "stitch.py")


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    d = tmp_path_factory.mktemp("page_stitch")
    frames, fps = read_yuv_frames(ROOT / "sample_data" / "ref.mp4", max_frames=24)
    paths = []
    for seed in range(3):
        c = damage_copy(frames, KINDS, 0.3, seed=seed + 40)
        paths.append(d / f"copy{seed}.mkv")
        write_copy(paths[-1], c.frames, fps)
    return paths


def _stitch(paths, out: Path) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.text_area(key="st_paths").input("\n".join(str(p) for p in paths))
    at.text_input(key="st_out").input(str(out))
    at.button[0].click().run()
    return at


def test_stitch_shows_strip_table_and_downloads(copies, tmp_path):
    at = _stitch(copies, tmp_path / "out")
    assert not at.exception and not at.error
    assert (tmp_path / "out" / "stitched.mkv").exists()
    assert len(at.get("image")) == 1  # the decision strip
    table = at.dataframe[0].value
    full = pd.read_csv(tmp_path / "out" / "frames.csv")
    assert len(table) == (full["why"] != "copies agree").sum() > 0
    at.checkbox(key="st_only_bad").uncheck().run()
    assert len(at.dataframe[0].value) == len(full) == 24
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Frames"] == "24"
    assert len(at.get("download_button")) == 2  # frames.csv, missing.csv
    assert pd.read_csv(io.StringIO((tmp_path / "out" / "missing.csv").read_text())).shape[1] == 3


def test_existing_output_and_one_copy_show_errors(copies, tmp_path):
    _stitch(copies, tmp_path / "out")
    at = _stitch(copies, tmp_path / "out")
    assert at.error and "--force" in at.error[0].value
    at = _stitch(copies[:1], tmp_path / "other")
    assert at.error and "two or more copies" in at.error[0].value
