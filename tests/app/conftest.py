"""Fixtures for the app tests: tiny real runs with a known warp, projects in temp folders."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the app package lives beside mtbsync_core, not installed
    sys.path.insert(0, str(ROOT))
APP = str(ROOT / "app" / "streamlit_app.py")
SIZE = (320, 180)
DURATION_S = 10.0
MARKERS_CSV = "name,t_ref,colour,comment\nrock garden,2.0,red,\ndrop,4.0,,big one\nroot,6.0,,\nsplit 2,8.0,blue,\nfinish,9.6,,past the end of the new run\n"
BAD_MARKERS_CSV = "name,t_ref\nrock garden,2.0\ndrop,four seconds\n"


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """ref.mp4, new.mp4 (same trail, known warp), other.mp4 (unrelated), marker files, a non-video."""
    from mtbsync_core.synthetic import (
        RenderSpec,
        WarpProfile,
        make_trail,
        render_new,
        render_reference,
    )

    d = tmp_path_factory.mktemp("clips")
    trail = make_trail()
    spec = RenderSpec(duration_s=DURATION_S, size=SIZE)
    render_reference(d / "ref.mp4", trail, spec)
    render_new(
        d / "new.mp4", trail, WarpProfile(t_ref_start_s=0.5, mean_ratio=0.85, wobble=0.1), spec
    )
    other = make_trail("other")
    render_reference(d / "other.mp4", other, RenderSpec(duration_s=DURATION_S, size=SIZE))
    (d / "ref_markers.csv").write_text(MARKERS_CSV, encoding="utf-8")
    (d / "bad_markers.csv").write_text(BAD_MARKERS_CSV, encoding="utf-8")
    (d / "notes.mp4").write_text("this is not a video\n", encoding="utf-8")
    return {p.stem: p for p in d.iterdir()}


def make_project(
    base: Path, name: str, clips: dict[str, Path], new: str = "new", sync: bool = True
):
    """A project with videos and markers; synced (in this thread) when ``sync``."""
    from app import jobs
    from app.project_ops import register_markers, register_video
    from app.state import ProjectStore, project_file

    store = ProjectStore(project_file(name, base))
    register_video(store, "ref", clips["ref"])
    register_video(store, "new", clips[new])
    register_markers(store, clips["ref_markers"])
    if sync:
        job = jobs.start_sync(store)
        job.thread.join(timeout=120)
    return store


@pytest.fixture(scope="session")
def synced_template(clips: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A projects folder holding one synced project "ride" (made once per session)."""
    base = tmp_path_factory.mktemp("template")
    store = make_project(base, "ride", clips)
    from app import jobs

    res = store.sync(jobs.sync_key(store))
    assert res is not None and res["status"] == "ok", res
    return base


@pytest.fixture()
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty projects folder the app uses (no sample project)."""
    base = tmp_path / "projects"
    base.mkdir()
    monkeypatch.setenv("MTBSYNC_PROJECT_DIR", str(base))
    monkeypatch.setenv("MTBSYNC_NO_SAMPLE", "1")
    return base


@pytest.fixture()
def synced_dir(project_dir: Path, synced_template: Path) -> Path:
    """A projects folder with a copy of the synced project "ride"."""
    shutil.copytree(synced_template / "ride", project_dir / "ride")
    return project_dir


@pytest.fixture()
def new_project() -> Callable:
    """``make_project`` as a fixture (tests do not import conftest)."""
    return make_project


@pytest.fixture()
def app_test() -> Callable:
    """AppTest factory for the app, optionally opened on a page."""
    from streamlit.testing.v1 import AppTest

    def make(page: str | None = None):
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        if page:
            at.switch_page(f"app_pages/{page}.py").run()
        return at

    return make
