"""Multi-camera page: sync real encoded cameras, table of offsets, frame grid, scrubber, nudge, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mtbsync_core.multicam.synth import make_camera_set, standard_specs, true_clock

PAGE = str(Path(__file__).resolve().parents[2] / "app" / "app_pages" / "multicam.py")


@pytest.fixture(scope="module")
def cams(tmp_path_factory):
    return make_camera_set(tmp_path_factory.mktemp("page_mc"), standard_specs(4.0), seed=6)


def _sync(cams) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.text_area(key="mc_paths").input("\n".join(str(c.path) for c in cams))
    at.selectbox(key="mc_method").set_value("audio")
    at.button[0].click().run()  # the form's "Sync cameras"
    return at


def _table(at: AppTest):
    return at.dataframe[0].value.set_index("camera")


def test_sync_shows_offsets_and_frames(cams):
    at = _sync(cams)
    assert not at.exception and not at.error
    table = _table(at)
    for tr, (off, _) in zip(cams, true_clock(cams), strict=True):
        row = table.loc[tr.spec.camera_id]
        assert row["status"] == "ok"
        assert abs(row["offset_s"] - off) < 0.002
    assert len(at.get("image")) == 3  # one frame per camera in the grid
    at.slider(key="mc_t").set_value(2.5).run()
    assert not at.exception and len(at.get("image")) == 3


def test_nudge_moves_the_offset(cams):
    at = _sync(cams)
    before = float(_table(at).loc["bar", "offset_s"])
    at.number_input(key="mc_nudge_bar").set_value(40.0).run()
    row = _table(at).loc["bar"]
    assert abs(float(row["offset_s"]) - (before + 0.040)) < 1e-4 and row["method"] == "manual"
    at.button(key="mc_rerun").click().run()
    assert not at.exception
    assert abs(float(_table(at).loc["bar", "offset_s"]) - before) < 1e-4  # re-run clears the nudge


def test_one_camera_shows_an_error(cams):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.text_area(key="mc_paths").input(str(cams[0].path))
    at.button[0].click().run()
    assert not at.exception
    assert at.error and "at least two cameras" in at.error[0].value


def test_unplaced_camera_is_flagged(tmp_path):
    from fractions import Fraction

    from mtbsync_core.multicam.synth import CamSpec

    a = make_camera_set(
        tmp_path / "a",
        [CamSpec("ridge", 1.0, 0.0, Fraction(30), 4.0, seed=1)],
        seed=11,
        flashes=False,
    )
    b = make_camera_set(
        tmp_path / "b",
        [CamSpec("valley", 1.0, 0.0, Fraction(30), 4.0, seed=2)],
        seed=12,
        flashes=False,
    )
    at = _sync([a[0], b[0]])
    assert not at.exception
    assert _table(at).loc["valley", "status"] != "ok"
    assert any("valley" in w.value for w in at.warning)
    # defect 7: the page speaks of its own controls, not of command-line flags
    assert not any("--" in w.value for w in at.warning), [w.value for w in at.warning]


def _two_dark_cameras(tmp_path):
    from fractions import Fraction

    from mtbsync_core.multicam.synth import CamSpec

    a = make_camera_set(
        tmp_path / "a",
        [CamSpec("ridge", 1.0, 0.0, Fraction(30), 4.0, seed=1)],
        seed=11,
        flashes=False,
    )
    b = make_camera_set(
        tmp_path / "b",
        [CamSpec("valley", 1.0, 0.0, Fraction(30), 4.0, seed=2)],
        seed=12,
        flashes=False,
    )
    return [a[0], b[0]]


def test_after_flash_fails_the_page_does_not_offer_flash_again(tmp_path):
    cams = _two_dark_cameras(tmp_path)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.text_area(key="mc_paths").input("\n".join(str(c.path) for c in cams))
    at.selectbox(key="mc_method").set_value("flash")
    at.button[0].click().run()
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "valley" in text and "--" not in text
    assert "the flash method" not in text  # flash just failed
    assert "light's box" in text  # the control that can help


def test_the_lights_box_reaches_the_flash_search(tmp_path):
    cams = _two_dark_cameras(tmp_path)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.text_area(key="mc_paths").input("\n".join(str(c.path) for c in cams))
    at.selectbox(key="mc_method").set_value("flash")
    for c, v in zip("xywh", (5000, 10, 20, 20), strict=True):  # far outside the frames
        at.number_input(key=f"mc_roi_{c}").set_value(v)
    at.button[0].click().run()
    assert not at.exception
    assert len(at.error) == 1 and "5000" in at.error[0].value and "--" not in at.error[0].value


def test_page_is_reachable_from_the_app(app_test, project_dir):
    at = app_test("multicam")
    assert not at.exception
    assert at.text_area(key="mc_paths") is not None and at.info


def test_each_camera_offers_a_frame_to_draw_the_lights_box_on(cams):
    at = _sync(cams)
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    for tr in cams:
        assert f"{tr.spec.camera_id}: whole frame" in captions  # nothing drawn yet
    # the dual-purpose bidi components: one canvas per camera
    assert len(at.get("bidi_component")) == len(cams)
