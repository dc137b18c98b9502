"""The Runs page in Debian's chromium: the sample project's runs synced in a background batch,
compared on one delta-time plot, one opened in Review."""

from __future__ import annotations

import shutil

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TRACES_JS = """() => { const gd = [...document.querySelectorAll('.js-plotly-plot')].find(
  g => (g.layout.xaxis.title.text || '').startsWith('reference time'));
  return gd ? {names: gd.data.map(t => t.name), shapes: (gd.layout.shapes || []).length} : null; }"""


@pytest.fixture(scope="module")
def runs_server(sample_clips, app_server_on, tmp_path_factory):
    """The app on a sample folder holding a second run (run2.mp4, another pace)."""
    from mtbsync_core.synthetic import RenderSpec, WarpProfile, make_trail, render_new

    sample = tmp_path_factory.mktemp("runs_sample")
    shutil.copytree(sample_clips, sample, dirs_exist_ok=True)
    render_new(
        sample / "run2.mp4",
        make_trail(),
        WarpProfile(t_ref_start_s=0.3, mean_ratio=1.1),
        RenderSpec(duration_s=8.0, size=(320, 180)),
    )
    return app_server_on(sample)


def test_runs_page_batch_compare_and_open_in_review(runs_server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    page.set_default_timeout(30_000)
    page.goto(runs_server.base + "/runs")
    page.get_by_role("heading", name="Runs").wait_for()
    page.get_by_role("button", name="Sync all runs").click()
    page.get_by_text("Summary", exact=True).wait_for(timeout=180_000)
    page.reload()  # the finished batch is in the project: a reload shows it again
    page.get_by_text("Split times", exact=True).wait_for(timeout=60_000)
    page.wait_for_function(f"() => ({TRACES_JS})() !== null", timeout=30_000)
    traces = page.evaluate(TRACES_JS)
    assert sorted(traces["names"]) == ["new", "run2"]
    assert traces["shapes"] == 4  # one vertical line per reference marker
    page.get_by_text("Fastest run per segment highlighted").wait_for()
    page.get_by_role("button", name="Open in Review").click()
    page.wait_for_url("**/review", timeout=30_000)
    page.get_by_role("heading", name="Review").wait_for()
