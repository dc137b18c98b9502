"""Progress counts never pass their totals, even when the total was an estimate."""

from __future__ import annotations

from pathlib import Path

import pytest

from mtbsync_core.progress import report
from mtbsync_core.sampling import SampleParams, sample_run

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def test_report_never_sends_a_count_beyond_its_total():
    seen = []
    report(seen.append, "index", 150, 144, "samples")
    report(seen.append, "index", 10, 144, "samples")
    report(seen.append, "index", 3, None, "samples")
    assert [(e.done, e.total) for e in seen] == [(150, 150), (10, 144), (3, None)]


@pytest.mark.parametrize("mode", ["nonref", "all", "key"])
def test_sampling_progress_stays_within_its_total(mode):
    if not (SAMPLE / "ref.mp4").is_file():
        pytest.skip(f"no sample video at {SAMPLE}: run scripts/make_sample_data.py")
    events = []
    kf, _, _ = sample_run(SAMPLE / "ref.mp4", SampleParams(mode=mode), progress=events.append)
    assert events, "progress was reported"
    assert all(e.total is None or e.done <= e.total for e in events), [
        (e.done, e.total) for e in events if e.total is not None and e.done > e.total
    ]
    assert events[-1].done == events[-1].total == len(kf.t_s)
