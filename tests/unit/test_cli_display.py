"""The command line's progress display (rich): bars from plain engine events, status lines."""

from __future__ import annotations

import io

from mtbsync_core.cli.display import BatchDisplay, StageBars
from mtbsync_core.progress import ProgressEvent


def test_batch_display_prints_a_line_per_run_and_the_bar_over_runs():
    out = io.StringIO()
    display = BatchDisplay(3, stream=out)
    display.start("3 run(s) against 'ref.mp4'")
    display(ProgressEvent("index", 50, 100, "samples"))
    display(ProgressEvent("index", 100, 100, "samples"))
    for i, status in enumerate(["ok", "failed: cannot read 'b.mp4'", "ok"], 1):
        display(ProgressEvent("batch", i, 3, "runs", f"run{i}: {status}"))
    display.stop()
    text = out.getvalue()
    assert "3 run(s) against 'ref.mp4'" in text
    assert "[1/3] run1: ok" in text and "[2/3] run2: failed: cannot read 'b.mp4'" in text
    assert "3/3" in text and "100/100" in text  # the runs bar and the index bar, finished


def test_stage_bars_draw_concurrent_stages_and_stop_when_all_finish():
    out = io.StringIO()
    bars = StageBars(stream=out)
    bars(ProgressEvent("index", 10, 40))
    bars(ProgressEvent("decode_new", 5, 20))
    bars(ProgressEvent("index", 40, 40))
    assert bars._running  # decode_new is still going
    bars(ProgressEvent("decode_new", 20, 20))
    assert not bars._running
    text = out.getvalue()
    assert "40/40" in text and "20/20" in text and "index" in text and "decode_new" in text
