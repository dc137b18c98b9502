"""Project & upload: create or pick a project; add the videos, reference markers and GPS tracks."""

from __future__ import annotations

import streamlit as st

from app import jobs, ui
from app.project_ops import (
    MARKER_SUFFIXES,
    chapter_hint,
    register_markers,
    register_track,
    register_video,
)
from app.state import ProjectStore, list_projects, project_file
from mtbsync_core import MtbSyncError

ROLES = {"ref": "Reference run", "new": "New run"}

st.title("Project")


def new_project() -> None:
    with st.form("new_project", clear_on_submit=True):
        name = st.text_input("New project name", placeholder="e.g. bike-park-line-a")
        if st.form_submit_button("Create project"):
            try:
                path = project_file(name.strip())
            except ValueError as err:
                st.error(str(err))
                return
            if name.strip() in list_projects():
                st.warning(f"Project '{name.strip()}' exists; it is now open.")
            ProjectStore(path)
            ui.remember_project(name.strip())
            st.rerun()


def _apply(action, *args) -> bool:
    """Run a register_* call; show a clear message on a bad file (the project stays as it was)."""
    try:
        action(*args)
    except MtbSyncError as err:
        st.error(str(err))
        return False
    return True


def video_input(store: ProjectStore, role: str) -> None:
    row = store.video(role)
    st.subheader(ROLES[role])
    if row:
        i = row.info
        st.caption(
            f"`{row.path}` · {i['width']}x{i['height']} · {float(ui.fps_of(i)):.3f} fps · "
            f"{i['duration_s']:.1f} s · hash `{row.content_hash}`"
        )
    path_tab, upload_tab = st.tabs(["Path on disk (large GoPro files)", "Upload"])
    with path_tab:
        path = st.text_input(
            "Video path on this computer",
            key=f"path_{role}",
            help="A video file, or a folder holding one GoPro chapter set (GX01xxxx.MP4, "
            "GX02xxxx.MP4 ...): its chapters are joined losslessly into the project folder.",
        )
        hint = chapter_hint(path.strip()) if path.strip() else None
        if hint:
            st.info(hint)
        if st.button("Use this file or chapter folder", key=f"use_{role}") and path.strip():
            with st.spinner("Reading the video (joining chapters when it is a folder)…"):
                ok = _apply(register_video, store, role, path.strip())
            if ok:
                st.rerun()
    with upload_tab:
        up = st.file_uploader(
            "Video file",
            key=f"upload_{role}",
            type=["mp4", "mov", "mkv", "avi", "m4v", "lrv", "MP4", "MOV"],
        )
        if st.button("Add uploaded video", key=f"add_up_{role}", disabled=up is None):
            saved = ui.saved_upload(store, up)
            if _apply(register_video, store, role, saved):
                st.rerun()
            saved.unlink(missing_ok=True)  # refused: keep nothing of it


def markers_input(store: ProjectStore) -> None:
    st.subheader("Reference markers")
    markers = store.ref_markers()
    if markers:
        st.dataframe(
            [
                {"name": m.name, "t_ref_s": m.t_ref_s, "colour": m.colour, "comment": m.comment}
                for m in markers
            ],
            hide_index=True,
            height=min(300, 40 + 35 * len(markers)),
        )
    st.caption(
        "CSV `name,t_ref[,colour][,comment]` (seconds), or an editor's EDL / FCPXML / Premiere XML."
    )
    up = st.file_uploader(
        "Markers file", key="upload_markers", type=[s.lstrip(".") for s in MARKER_SUFFIXES]
    )
    c1, c2 = st.columns([3, 1])
    path = c1.text_input("…or a markers file path", key="path_markers")
    start_tc = c2.text_input(
        "EDL start timecode",
        key="edl_start_tc",
        placeholder="auto",
        help="An EDL does not say where its timeline starts; blank guesses "
        "01:00:00:00 or 00:00:00:00. It is read at the reference video's rate.",
    )
    if st.button("Load markers", key="load_markers"):
        src = ui.saved_upload(store, up) if up is not None else path.strip()
        if not src:
            st.warning("Choose a markers file first.")
        elif _apply(register_markers, store, src, start_tc.strip() or None):
            st.success(f"Loaded {len(store.ref_markers())} markers.")


def tracks_input(store: ProjectStore) -> None:
    with st.expander(
        "GPS tracks (optional: GPX / FIT / GoPro telemetry; narrows the search on long runs)"
    ):
        for role in ROLES:
            cur = store.track(role)
            st.caption(f"{ROLES[role]}: `{cur}`" if cur else f"{ROLES[role]}: none")
            path = st.text_input(f"{ROLES[role]} track path", key=f"track_{role}")
            up = st.file_uploader(
                f"…or upload the {ROLES[role].lower()} track",
                key=f"track_up_{role}",
                type=["gpx", "fit"],
            )
            c1, c2, c3 = st.columns(3)
            if c1.button("Attach track", key=f"attach_{role}") and (up is not None or path.strip()):
                src = ui.saved_upload(store, up) if up is not None else path.strip()
                if _apply(register_track, store, role, src):
                    st.rerun()
            video = store.video(role)
            if c2.button(
                "Use the video's own GPS (GoPro)", key=f"gpmf_{role}", disabled=video is None
            ) and _apply(register_track, store, role, video.path):
                st.rerun()
            if c3.button("Remove track", key=f"untrack_{role}", disabled=cur is None):
                store.set_track(role, None)
                st.rerun()


store = ui.current_store()
left, right = st.columns([3, 1])
with right:
    new_project()
with left:
    if store is None:
        st.info("Create a project to begin, or run `make app` with the sample data.")
        st.stop()
    st.markdown(f"**{store.name}** — saved continuously to `{store.path}`")
cols = st.columns(2)
for col, role in zip(cols, ROLES, strict=True):
    with col:
        video_input(store, role)
markers_input(store)
tracks_input(store)


def sync_status(store: ProjectStore) -> None:
    key, res = ui.finished_sync(store)
    job = jobs.get_job(key) if key else None
    if job is not None and job.status == "running" and res is None:
        st.info(f"Syncing in the background ({job.stage}) — follow it on the Sync page.")
        st.page_link("app_pages/sync.py", label="Sync page →", icon=":material/sync:")
    elif res is not None and res["status"] == "ok":
        st.success("Synced. Review the markers side by side, or check the warp first.")
        c1, c2 = st.columns(2)
        c1.page_link("app_pages/review.py", label="Review markers →", icon=":material/movie:")
        c2.page_link("app_pages/warp.py", label="Warp →", icon=":material/show_chart:")
    else:
        st.page_link("app_pages/sync.py", label="Next: sync the runs →", icon=":material/sync:")


if store.video("ref") and store.video("new"):
    with left:
        sync_status(store)
