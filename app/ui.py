"""Streamlit-side helpers the pages share: the current project, the current warp, reviewed markers."""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import streamlit as st

from app import jobs
from app.state import (
    K_PROJECT,
    ProjectStore,
    default_project_dir,
    list_projects,
    marker_key,
    project_file,
)
from mtbsync_core.checks import safe_file_stem
from mtbsync_core.errors import OutputError

REVIEW_THRESHOLD = 0.6
LAST_PROJECT_FILE = "last_project.txt"


def remember_project(name: str) -> None:
    """Make ``name`` the current project for this session and the next start."""
    st.session_state[K_PROJECT] = name
    base = default_project_dir()
    base.mkdir(parents=True, exist_ok=True)
    (base / LAST_PROJECT_FILE).write_text(name, encoding="utf-8")


def current_project_name() -> str | None:
    """This session's project, else the one used last, else the first one on disk."""
    name = st.session_state.get(K_PROJECT)
    names = list_projects()
    if name in names:
        return name
    last = default_project_dir() / LAST_PROJECT_FILE
    if last.exists():
        name = last.read_text(encoding="utf-8").strip()
        if name in names:
            st.session_state[K_PROJECT] = name
            return name
    return names[0] if names else None


def current_store() -> ProjectStore | None:
    """The current project's store, or None when there is no project yet."""
    name = current_project_name()
    return ProjectStore(project_file(name)) if name else None


def require_store() -> ProjectStore:
    """The current store; stops the page with a hint when there is none."""
    store = current_store()
    if store is None:
        st.info("No project yet: create one on the **Project** page.")
        st.stop()
    return store


def fps_of(info: dict[str, Any]) -> Fraction:
    """The frame rate stored with a video (a Fraction)."""
    return Fraction(str(info.get("fps", "30")))


def info_to_dict(info: Any) -> dict[str, Any]:
    """VideoInfo as JSON-able dict (fps as 'num/den')."""
    d = dataclasses.asdict(info)
    d["fps"] = f"{info.fps.numerator}/{info.fps.denominator}"
    return d


def finished_sync(store: ProjectStore) -> tuple[str | None, dict | None]:
    """(sync key, stored result) for the current inputs; result None until a sync finished."""
    key = jobs.sync_key(store)
    return key, (store.sync(key) if key else None)


def require_synced(store: ProjectStore) -> tuple[str, dict]:
    """Key and successful sync result, or stop with a hint."""
    key, res = finished_sync(store)
    if key is None:
        st.info("Add a reference and a new video on the **Project** page first.")
        st.stop()
    if res is None or res["status"] != "ok":
        job = jobs.get_job(key)
        if job is not None and job.status == "running":
            st.info(f"Sync is running ({job.stage}). See the **Sync** page.")
        elif res is not None:
            st.error(res["error"] or "The last sync failed.")
        else:
            st.info("Not synced yet: run it on the **Sync** page.")
        st.stop()
    return key, res


def current_warp(store: ProjectStore, key: str, res: dict) -> tuple[Any, float]:
    """The fitted warp refitted with the project's anchors; (warp, refit seconds). Cached per session."""
    from mtbsync_core import TimeWarp

    anchors = tuple(store.anchors(key))
    cache = st.session_state.setdefault("_mtb_warp_cache", {})
    ck = (key, res.get("created_at"), anchors)  # a re-run sync stores a new warp
    if ck not in cache:
        base = TimeWarp.from_dict(res["warp"])
        t0 = time.perf_counter()
        warp = base.with_anchors(anchors) if anchors else base
        cache.clear()
        cache[ck] = (warp, time.perf_counter() - t0)
    return cache[ck]


def reviewed_markers(store: ProjectStore, key: str, warp: Any) -> list[dict[str, Any]]:
    """Transferred markers with the editor's decisions applied, as dicts for the pages.

    Each has the TransferredMarker fields plus ``key``, ``status`` (accept/reject/None),
    ``nudged`` (bool) and ``marker`` (the TransferredMarker to export).
    """
    from mtbsync_core import transfer_markers

    decisions = store.decisions(key)
    out = []
    for tm in transfer_markers(store.ref_markers(), warp, review_threshold=REVIEW_THRESHOLD):
        mkey = marker_key(tm.name, tm.t_ref_s)
        d = decisions.get(mkey, {})
        if d.get("t_new_s") is not None:
            tm = dataclasses.replace(tm, t_new_s=float(d["t_new_s"]), in_overlap=True)
        if d.get("status") == "accept":
            tm = dataclasses.replace(tm, needs_review=False)
        row = dataclasses.asdict(tm)
        row.update(key=mkey, status=d.get("status"), nudged=d.get("t_new_s") is not None, marker=tm)
        out.append(row)
    return out


def conf_colour(conf: float) -> str:
    """A red -> green colour for a confidence in 0..1."""
    c = 0.0 if conf is None or math.isnan(conf) else max(0.0, min(1.0, conf))
    return f"hsl({round(120 * c)}, 75%, 45%)"


def project_path_caption(store: ProjectStore | None) -> str:
    """Sidebar caption naming the SQLite file."""
    return (
        f"Project file: `{store.path}`" if store else f"Projects folder: `{default_project_dir()}`"
    )


def saved_upload(store: ProjectStore, upload: Any) -> Path:
    """Write an uploaded file into the project's uploads folder; returns its path.

    The name is made safe (no folders, no leading dots). An upload never replaces another file:
    a name in use gets a free variant (``GX010001-2.MP4``), so a reference and a new run both
    called ``GX010001.MP4`` stay two files and the project's hashes stay true.
    """
    d = store.path.parent / "uploads"
    d.mkdir(exist_ok=True)
    safe = safe_file_stem(getattr(upload, "name", ""), "upload")
    fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=d)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(upload.getbuffer())
        return _claim_name(d, safe, tmp)
    finally:
        tmp.unlink(missing_ok=True)


def _claim_name(d: Path, safe: str, tmp: Path) -> Path:
    """Link ``tmp`` under the first free variant of ``safe`` in ``d`` (never over a file)."""
    stem, dot, ext = safe.rpartition(".") if "." in safe else (safe, "", "")
    for k in range(1, 10_000):
        name = safe if k == 1 else f"{stem}-{k}{dot}{ext}"
        dst = d / name
        try:
            os.link(tmp, dst)
            return dst
        except FileExistsError:
            continue
    raise OutputError(f"No free name for the upload '{safe}' in '{d}'. Clear the uploads folder.")


def bind_is_local(address: str | None) -> bool:
    """True when the server listens on this computer only (an unset address means all)."""
    return address in ("127.0.0.1", "localhost", "::1")


def require_local_bind() -> None:
    """Stop the page when the server listens beyond this computer, unless MTBSYNC_ALLOW_REMOTE=1.

    The app has no login and reads paths on this computer, so started from another folder (where
    ``.streamlit/config.toml`` is not read) it must not serve every interface.
    """
    if os.environ.get("MTBSYNC_ALLOW_REMOTE") == "1":
        return
    from streamlit import runtime

    if not runtime.exists() or type(runtime.get_instance()).__name__ != "Runtime":
        return  # AppTest runs pages without a server
    if not bind_is_local(st.get_option("server.address")):
        st.error(
            "This app is listening on every network interface, with no login. Start it with "
            "`make app` or `python app/launch.py` (127.0.0.1 only); to share it, see the README."
        )
        st.stop()


def require_static_serving() -> None:
    """Stop with a fix when app/static is not served (plotly.js and the video proxies live there)."""
    if not st.get_option("server.enableStaticServing"):
        st.error(
            "Static file serving is off, so the plot and the videos cannot load. Start the app from "
            "the repository root with `make app` (it reads .streamlit/config.toml), or pass "
            "`--server.enableStaticServing true`."
        )
        st.stop()
