"""The Highlights page in Debian's chromium: find two fast stretches, click one on the timeline to
play it, reject the other, export the accepted one as a clip and markers."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path

import av
import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

T0 = 1_714_557_600.0  # 2024-05-01T10:00:00Z
STRETCHES = ((8, 15), (30, 37))

# pixel of highlight n's triangle on the timeline (the last trace), relative to the page
POINT_JS = """(n) => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].pop();
  const fl = gd._fullLayout, tr = gd.data[gd.data.length - 1];
  const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
  return {x: box.left + fl.xaxis.d2p(tr.x[n]), y: box.top + fl.yaxis.d2p(tr.y[n]), shapes: fl.shapes.length};
}"""


def _ride(d: Path) -> tuple[Path, Path]:
    vid, gpx = d / "ride.mp4", d / "ride.gpx"
    with av.open(str(vid), "w") as out:
        out.metadata["creation_time"] = "2024-05-01T10:00:00.000000Z"
        vs = out.add_stream("libx264", rate=30)
        vs.width, vs.height, vs.pix_fmt = 128, 72, "yuv420p"
        vs.options = {"g": "15", "preset": "ultrafast"}
        rng = np.random.default_rng(0)
        for k in range(45 * 30):
            img = np.full((72, 128, 3), (k * 3) % 256, np.uint8)
            img[:8] = rng.integers(0, 255, (8, 128, 3), np.uint8)
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = k
            for p in vs.encode(f):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
    t = np.arange(46, dtype=float)
    v = np.where(np.any([(t >= a) & (t <= b) for a, b in STRETCHES], axis=0), 14.0, 5.0)
    lat = 46.0 + np.concatenate([[0], np.cumsum(v[1:])]) / 111_195.0
    stamp = lambda s: dt.datetime.fromtimestamp(T0 + s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    pts = "".join(
        f'<trkpt lat="{la:.8f}" lon="7.0"><time>{stamp(s)}</time></trkpt>'
        for s, la in zip(t, lat, strict=True)
    )
    gpx.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{pts}</trkseg></trk></gpx>"
    )
    return vid, gpx


def test_highlights_page_in_chromium(app_server, browser, tmp_path):
    vid, gpx = _ride(tmp_path)
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.set_default_timeout(60_000)
    page.goto(app_server.base + "/highlights")
    page.get_by_label("Run: a GoPro file").fill(str(vid))
    page.get_by_label("GPX / FIT track").fill(str(gpx))
    page.get_by_role("button", name="Find highlights").click()
    page.get_by_text("highlight(s) from").wait_for()
    assert "2 highlight(s) from 2 event(s)" in page.get_by_text("highlight(s) from").inner_text()

    page.locator(".js-plotly-plot .nsewdrag").first.wait_for()
    pt = page.evaluate(POINT_JS, 1)
    assert pt["shapes"] == 2 * 3  # one shaded span per event on each of the three rows
    page.mouse.click(pt["x"], pt["y"])  # the second highlight's triangle
    page.get_by_text("#2 fast: ").wait_for()
    video = page.locator("video").first
    video.wait_for(state="attached")
    # the player may still be the first highlight's for a moment (5 s) before its element is
    # replaced: wait for the second's clip start, then check it
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            "() => Math.abs(document.querySelector('video').currentTime - 28) <= 1",
            timeout=30_000,
        )
    t = page.locator("video").first.evaluate("v => v.currentTime")
    assert t == pytest.approx(28.0, abs=1.0)  # its clip start

    grid = page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    # the accept checkbox sits in the middle of the first column; rows are 35 px under a 35 px header
    page.mouse.click(box["x"] + 65, box["y"] + 35 + 35 + 17)  # untick the second row (rank 2)
    page.wait_for_timeout(1500)
    out = tmp_path / "export"
    page.get_by_label("Output folder").fill(str(out))
    page.get_by_label("Output folder").press("Enter")
    button = page.get_by_role("button", name="Export clips and markers")
    expect(button).to_be_enabled()
    for _ in range(3):  # a click that lands while the output folder's rerun redraws is lost
        button.click()
        for _ in range(60):
            if (out / "highlights.json").exists():
                break
            page.wait_for_timeout(500)
        if (out / "highlights.json").exists():
            break
    page.get_by_text("Wrote 1 clip(s)").wait_for()
    doc = json.loads((out / "highlights.json").read_text())
    assert [h["rank"] for h in doc["highlights"]] == [1]
    assert (out / "ride_01_fast.mp4").is_file() and (out / "highlights.edl").is_file()
