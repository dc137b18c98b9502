"""Warp page: the editor shows the fitted warp; anchors added, refit at once, undone; bad ones refused."""

from __future__ import annotations

import numpy as np
import pytest

from app import jobs
from app.state import ProjectStore, project_file


def _store(project_dir):
    return ProjectStore(project_file("ride", project_dir))


def test_warp_page_adds_and_undoes_an_anchor(app_test, synced_dir):
    store = _store(synced_dir)
    key = jobs.sync_key(store)
    at = app_test("warp")
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Anchors"] == "0"
    assert at.get("bidi_component"), "the warp editor component is mounted"
    at.number_input(key="anchor_t_new").set_value(5.0)
    at.number_input(key="anchor_t_ref").set_value(5.6).run()
    at.button(key="add_anchor_numbers").click().run()
    assert not at.exception and not at.error
    assert store.anchors(key) == [(5.0, 5.6)]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Anchors"] == "1" and metrics["Refit time"].endswith("ms")
    from mtbsync_core import TimeWarp

    warp = TimeWarp.from_dict(store.sync(key)["warp"]).with_anchors([(5.0, 5.6)])
    assert abs(float(warp.to_ref(5.0)) - 5.6) < 0.02  # the refit passes through the anchor
    at.button(key="undo_anchor").click().run()
    assert store.anchors(key) == []
    assert {m.label: m.value for m in at.metric}["Anchors"] == "0"


def test_contradictory_anchor_is_refused_and_project_kept(app_test, synced_dir):
    store = _store(synced_dir)
    key = jobs.sync_key(store)
    store.set_anchors(key, [(3.0, 3.0)])
    at = app_test("warp")
    at.number_input(key="anchor_t_new").set_value(6.0)
    at.number_input(key="anchor_t_ref").set_value(
        1.0
    ).run()  # later on the new run, earlier on the ref
    at.button(key="add_anchor_numbers").click().run()
    assert not at.exception
    assert len(at.error) == 1
    assert store.anchors(key) == [(3.0, 3.0)]


def test_warp_page_without_sync_says_what_to_do(app_test, project_dir):
    ProjectStore(project_file("empty", project_dir))
    at = app_test("warp")
    assert not at.exception
    assert "Project" in at.info[0].value


def test_anchor_form_offers_no_default_anchor(app_test, synced_dir):
    store = _store(synced_dir)
    key = jobs.sync_key(store)
    at = app_test("warp")
    assert at.number_input(key="anchor_t_new").value is None
    assert at.number_input(key="anchor_t_ref").value is None
    assert at.button(key="add_anchor_numbers").disabled  # one click cannot add (0, 0)
    assert store.anchors(key) == []


def test_delta_curve_shows_time_gained_and_lost_with_the_markers(app_test, synced_dir):
    import json

    from app import ui as app_ui
    from mtbsync_core import TimeWarp

    store = _store(synced_dir)
    key = jobs.sync_key(store)
    at = app_test("warp")
    assert not at.exception
    charts = [c for c in at.get("plotly_chart") if "time lost" in c.proto.spec]
    assert len(charts) == 1
    import plotly.graph_objects as go

    fig = go.Figure(json.loads(charts[0].proto.spec))
    line, dots = fig.data[0], fig.data[1]
    warp = TimeWarp.from_dict(store.sync(key)["warp"])
    rows = {
        r["name"]: r
        for r in app_ui.reviewed_markers(store, key, warp)
        if r["t_new_s"] == r["t_new_s"]
    }
    assert list(dots.text) == sorted(rows, key=lambda n: rows[n]["t_ref_s"])
    first = rows[list(dots.text)[0]]
    base = first["t_new_s"] - first["t_ref_s"]
    for name, y in zip(list(dots.text), dots.y, strict=True):
        assert y == pytest.approx(rows[name]["t_new_s"] - rows[name]["t_ref_s"] - base, abs=1e-6)
    assert dots.y[0] == pytest.approx(0.0, abs=1e-9)
    # the new run rode at 0.85x the reference's pace: it falls behind along the trail
    ys = np.asarray(_typed(line.y), float)
    assert ys[-1] > ys[0] + 0.5


def _typed(values):
    """A plotly typed array ({"dtype", "bdata"}) or a list, as a list of numbers."""
    import base64

    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)
