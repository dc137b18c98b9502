"""mtbsync review app: st.navigation router, project picker and the sample project on first start.

Run with ``make app`` (or ``streamlit run app/streamlit_app.py``). Listens on 127.0.0.1.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import ui  # noqa: E402
from app.components import ensure_static_assets  # noqa: E402
from app.project_ops import ensure_sample_project  # noqa: E402
from app.state import default_project_dir, list_projects  # noqa: E402
from mtbsync_core import MtbSyncError  # noqa: E402

PAGES = Path(__file__).parent / "app_pages"

st.set_page_config(page_title="mtbsync", page_icon=":material/directions_bike:", layout="wide")
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")


@st.cache_resource(show_spinner=False)
def _startup(project_dir: str) -> str | None:
    """Once per projects folder: vendor plotly.js, make the sample project if there is none."""
    ensure_static_assets()
    try:
        return ensure_sample_project()
    except MtbSyncError as err:
        logging.getLogger("mtbsync.app").warning("sample project not created: %s", err)
        return None


def sidebar() -> None:
    """Project picker and the path of the project's SQLite file."""
    names = list_projects()
    current = ui.current_project_name()
    with st.sidebar:
        st.markdown("### :material/directions_bike: mtbsync")
        if names:
            st.session_state["sidebar_project"] = current if current in names else names[0]
            st.selectbox(
                "Project",
                names,
                key="sidebar_project",
                on_change=lambda: ui.remember_project(st.session_state["sidebar_project"]),
            )
        st.caption(ui.project_path_caption(ui.current_store()))


ui.require_local_bind()
_startup(str(default_project_dir()))
sidebar()
project_page = st.Page(
    PAGES / "project.py", title="Project", icon=":material/folder_open:", url_path="project"
)


def _home() -> None:
    """The root URL opens the Project page, so /project is a real address (and its link)."""
    st.switch_page(project_page)


pages = [
    st.Page(_home, title="mtbsync", url_path="home", default=True, visibility="hidden"),
    project_page,
    st.Page(PAGES / "sync.py", title="Sync", icon=":material/sync:", url_path="sync"),
    st.Page(PAGES / "warp.py", title="Warp", icon=":material/show_chart:", url_path="warp"),
    st.Page(PAGES / "review.py", title="Review", icon=":material/movie:", url_path="review"),
    st.Page(PAGES / "export.py", title="Export", icon=":material/download:", url_path="export"),
    st.Page(PAGES / "runs.py", title="Runs", icon=":material/leaderboard:", url_path="runs"),
    st.Page(PAGES / "stitch.py", title="Stitch", icon=":material/call_merge:", url_path="stitch"),
    st.Page(
        PAGES / "multicam.py", title="Multicam", icon=":material/videocam:", url_path="multicam"
    ),
    st.Page(
        PAGES / "highlights.py", title="Highlights", icon=":material/bolt:", url_path="highlights"
    ),
]
st.navigation(pages).run()
