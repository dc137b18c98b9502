"""The Stitch page in Debian's chromium: stitch real damaged copies, see the strip, download frames.csv."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from mtbsync_core.testing.damage import KINDS, damage_copy, read_yuv_frames, write_copy

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_stitch_page_in_chromium(app_server, browser, tmp_path):
    frames, fps = read_yuv_frames(ROOT / "sample_data" / "ref.mp4", max_frames=20)
    paths = []
    for seed in range(3):
        c = damage_copy(frames, KINDS, 0.3, seed=seed + 70)
        paths.append(tmp_path / f"copy{seed}.mkv")
        write_copy(paths[-1], c.frames, fps)
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.set_default_timeout(60_000)
    page.goto(app_server.base + "/stitch")
    page.get_by_label("Copies, one path per line").fill("\n".join(str(p) for p in paths))
    page.get_by_label("Output folder").fill(str(tmp_path / "out"))
    page.get_by_role("button", name="Stitch").click()
    box = page.locator('[data-testid="stMetric"]', has_text="Frames")
    box.wait_for()
    assert box.locator('[data-testid="stMetricValue"]').inner_text().strip() == "20"
    strip = page.locator('[data-testid="stImage"] img').first
    strip.wait_for()
    assert strip.bounding_box()["width"] > 300
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download frames.csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text())))
    assert [int(r["frame_number"]) for r in rows] == list(range(20))
    assert (tmp_path / "out" / "stitched.mkv").exists()
    page.close()
