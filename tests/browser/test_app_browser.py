"""The real app in Debian's chromium: sample project, sync, anchor edit, scrub, decide, reload, EDL."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WARP_PATH_JS = """() => {
  const t = document.querySelectorAll('[data-testid=warp-plot] .tracemtbwarp path.js-line');
  return t.length ? t[0].getAttribute('d') : null; }"""

# pixel (relative to the plot area) of a point 0.4 s above the warp at 60 % of the x range
TARGET_JS = """() => {
  const gd = document.querySelector('[data-testid=warp-plot]');
  const fl = gd._fullLayout, w = gd.data[1];
  const i = Math.floor(w.x.length * 0.6);
  return {px: fl.xaxis.d2p(w.x[i]), py: fl.yaxis.d2p(w.y[i] + 0.4), x: w.x[i], y: w.y[i] + 0.4}; }"""

PLAYER_JS = """() => {
  const st = document.querySelector('.mtb-dual').parentElement.__mtbDual;
  const d = st.data, t = st.vNew.currentTime;
  let r = NaN;
  for (let i = 1; i < d.warp_new.length; i++) {
    if (d.warp_new[i] >= t) { const f = (t - d.warp_new[i-1]) / (d.warp_new[i] - d.warp_new[i-1]);
      r = d.warp_ref[i-1] + f * (d.warp_ref[i] - d.warp_ref[i-1]); break; } }
  return {t_new: t, t_ref: st.vRef.currentTime, expected_ref: r, ready: [st.vNew.readyState, st.vRef.readyState],
          scrubs: (window.__mtbScrub || []).length}; }"""


ANCHORS_JS = """() => [...document.querySelectorAll('[data-testid=stMetric]')].some(
  m => m.innerText.includes('Anchors') && m.querySelector('[data-testid=stMetricValue]').innerText.trim() === 'N')"""


def metric_value(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label)
    return box.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_review_flow_in_chromium(app_server, browser, tmp_path):
    base = app_server.base
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.set_default_timeout(30_000)

    # the sample project was made on first start; its sync runs (or ran) in the background
    page.goto(base + "/sync")
    page.get_by_text("Timings per stage").wait_for(timeout=120_000)
    assert "sample" in page.locator('[data-testid="stSidebar"]').inner_text()

    # warp: click near the curve adds an anchor, the warp refits; dragging it moves the warp again
    page.goto(base + "/warp")
    plot = page.locator("[data-testid=warp-plot] .nsewdrag")
    plot.wait_for()
    plot.scroll_into_view_if_needed()
    assert metric_value(page, "Anchors") == "0"
    before = page.evaluate(WARP_PATH_JS)
    tgt = page.evaluate(TARGET_JS)
    box = plot.bounding_box()
    page.mouse.click(box["x"] + tgt["px"], box["y"] + tgt["py"])
    page.wait_for_function(ANCHORS_JS.replace("N", "1"))
    page.wait_for_function(f"() => ({WARP_PATH_JS})() !== {before!r}")
    after_add = page.evaluate(WARP_PATH_JS)
    assert after_add != before
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    x0, y0 = box["x"] + tgt["px"], box["y"] + tgt["py"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    for k in range(1, 6):
        page.mouse.move(x0, y0 + 6 * k)
    page.mouse.up()
    page.wait_for_function(f"() => ({WARP_PATH_JS})() !== {after_add!r}")
    assert metric_value(page, "Anchors") == "1"
    # right-click deletes the anchor (now 30 px lower); undo brings it back
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    page.mouse.click(box["x"] + tgt["px"], box["y"] + tgt["py"] + 30, button="right")
    page.wait_for_function(ANCHORS_JS.replace("N", "0"))
    page.get_by_role("button", name="Undo anchor edit").click()
    page.wait_for_function(ANCHORS_JS.replace("N", "1"))

    # review: one scrub control moves both videos, the reference through the warp
    page.goto(base + "/review")
    scrub = page.locator("[data-testid=scrub]")
    scrub.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.mtb-dual video')].every(v => v.readyState >= 2)"
    )
    n0 = page.evaluate("() => (window.__mtbScrub || []).length")  # the mount-time seek counts too
    scrub.evaluate(
        "(el) => { el.value = '3'; el.dispatchEvent(new Event('input', {bubbles: true}));"
        " el.dispatchEvent(new Event('change', {bubbles: true})); }"
    )
    page.wait_for_function(f"() => (window.__mtbScrub || []).length > {n0}")
    state = page.evaluate(PLAYER_JS)
    assert abs(state["t_new"] - 3.0) < 0.05
    assert abs(state["t_ref"] - state["expected_ref"]) < 0.05, state
    assert min(state["ready"]) >= 2
    # one frame forward moves both; the arrow key (player focused) steps back again
    n = len(page.evaluate("() => window.__mtbScrub"))
    page.locator(".mtb-dual .fwd").click()
    page.wait_for_function(f"() => window.__mtbScrub.length > {n}")
    state = page.evaluate(PLAYER_JS)
    assert abs(state["t_new"] - (3.0 + 1 / 30)) < 0.01
    assert abs(state["t_ref"] - state["expected_ref"]) < 0.05, state
    page.locator(".mtb-dual").focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"() => window.__mtbScrub.length > {n + 1}")
    assert abs(page.evaluate(PLAYER_JS)["t_new"] - 3.0) < 0.01

    # decide a marker (select one first: the previous marker before the playhead); reload keeps it
    page.get_by_role("button", name="Previous").click()
    page.get_by_text("Selected:").first.wait_for()
    page.get_by_role("button", name="Accept").first.click()
    page.get_by_text("accepted", exact=True).first.wait_for()
    scrub.evaluate(  # back to 3 s (going to the marker moved the playhead)
        "(el) => { el.value = '3'; el.dispatchEvent(new Event('input', {bubbles: true}));"
        " el.dispatchEvent(new Event('change', {bubbles: true})); }"
    )
    page.get_by_text("Playhead: new 3.00 s").wait_for()
    page.reload()
    page.get_by_text("accepted", exact=True).first.wait_for()

    # export: the EDL download parses back with every marker
    page.goto(base + "/export")
    button = page.get_by_role("button", name=re.compile("EDL"))
    button.wait_for()
    with page.expect_download() as dl:
        button.click()
    path = tmp_path / "markers.edl"
    dl.value.save_as(path)
    from mtbsync_core import read_edl

    names = sorted(m.name for m in read_edl(path, fps=Fraction(30)))
    assert names == sorted(["rock garden", "drop", "root", "split 2"])
    page.close()


def test_restart_returns_the_editor_to_where_they_were(app_server, browser):
    """Runs after the flow above: a new server process on the same projects folder."""
    app_server.restart()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    page.goto(app_server.base + "/review")
    page.get_by_text("accepted", exact=True).first.wait_for()
    page.get_by_text("Playhead: new 3.00 s").wait_for()
    page.wait_for_function(
        "() => { const v = document.querySelector('.mtb-dual .v-new');"
        " return v && Math.abs(v.currentTime - 3.0) < 0.05; }"
    )
    page.goto(app_server.base + "/warp")
    page.locator("[data-testid=warp-plot] .nsewdrag").wait_for()
    assert metric_value(page, "Anchors") == "1"
    page.close()
