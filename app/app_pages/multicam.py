"""Multi-camera: simultaneous cameras on one timeline — frames in a grid, one scrubber, a nudge each."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import av
import numpy as np
import pandas as pd
import streamlit as st

from app.canvas_boxes import box_from_canvas
from mtbsync_core import MtbSyncError, MulticamResult, Timeline, read_multicam, sync_cameras
from mtbsync_core.multicam import METHODS, result_to_dict

K_RESULT, K_TIMELINE, K_BOXES = "mc_result", "mc_timeline", "mc_boxes"
CANVAS_W = 320

st.title("Multi-camera")
st.caption("master time = offset_s + (1 + drift_ppm·1e-6) × camera time (each camera's own PTS).")


_PAGE_WORDS = (  # the engine names the CLI's flags; this page has controls instead
    (re.compile(r"a box \(--roi X,Y,W,H\) around the light"), "a light's box around the light"),
    (re.compile(r"draw an ROI around the light"), "draw a light's box around the light"),
    (re.compile(r"--roi( X,Y,W,H)?"), "a light's box"),
    (re.compile(r"--method (\w+)"), r"the \1 method"),
    (re.compile(r"(give )?--offset( \S+=SECONDS)?", re.I), "a manual nudge"),
)


def page_words(message: str) -> str:
    """An engine message in this page's words: its controls, not command-line flags."""
    for pattern, words in _PAGE_WORDS:
        message = pattern.sub(words, message)
    return message[:1].upper() + message[1:]


def roi_value() -> tuple[int, int, int, int] | dict[str, tuple[int, int, int, int]] | None:
    """The light's boxes drawn on the cameras' frames (camera id -> box), else the box typed
    in the four inputs (for every camera), else None (the whole frame)."""
    drawn = {k: v for k, v in st.session_state.get(K_BOXES, {}).items() if v is not None}
    if drawn:
        return drawn
    vals = [st.session_state.get(f"mc_roi_{c}") for c in "xywh"]
    if any(v is None for v in vals) or vals[2] <= 0 or vals[3] <= 0:
        return None
    return tuple(int(v) for v in vals)  # type: ignore[return-value]


@st.cache_data(show_spinner=False, max_entries=16)
def still_frame(path: str, at_s: float = 0.5) -> np.ndarray | None:
    """One RGB frame of a camera (the first at or after ``at_s``), or None if it has no video."""
    try:
        with av.open(path) as c:
            if not c.streams.video:
                return None
            for fr in c.decode(video=0):
                if fr.time is None or fr.time >= at_s:
                    return fr.to_ndarray(format="rgb24")
    except (av.FFmpegError, OSError):
        return None
    return None


def draw_boxes(paths: list[str]) -> None:
    """A frame of each camera to draw the light's box on (streamlit-drawable-canvas)."""
    from PIL import Image
    from streamlit_drawable_canvas import st_canvas

    from mtbsync_core.multicam.sync import default_camera_ids

    boxes = st.session_state.setdefault(K_BOXES, {})
    ids = default_camera_ids(paths)
    cols = st.columns(min(3, len(paths)))
    for n, (cid, path) in enumerate(zip(ids, paths, strict=True)):
        img = still_frame(path)
        box = cols[n % len(cols)]
        if img is None:
            box.caption(f"{cid}: no picture to draw on (a sound-only file)")
            continue
        scale = CANVAS_W / img.shape[1]
        height = max(1, round(img.shape[0] * scale))
        with box:
            res = st_canvas(
                fill_color="rgba(242, 140, 40, 0.25)",
                stroke_width=2,
                stroke_color="#f28c28",
                background_image=Image.fromarray(img).resize((CANVAS_W, height)),
                height=height,
                width=CANVAS_W,
                drawing_mode="rect",
                key=f"mc_canvas_{cid}",
            )
        boxes[cid] = box_from_canvas(res.json_data, scale)
        b = boxes[cid]
        box.caption(
            f"{cid}: box x {b[0]}, y {b[1]}, {b[2]}x{b[3]} px" if b else f"{cid}: whole frame"
        )


def run_sync(paths: list[str], method: str) -> None:
    roi = roi_value()
    try:
        with st.spinner(f"Syncing {len(paths)} cameras ({method}) ..."):
            st.session_state[K_RESULT] = sync_cameras(paths, method=method, roi=roi)
    except MtbSyncError as err:
        st.session_state.pop(K_RESULT, None)
        st.error(page_words(str(err)))
        return
    for key in [k for k in st.session_state if str(k).startswith("mc_nudge_")]:
        st.session_state[key] = 0.0


with st.form("mc_inputs"):
    paths_text = st.text_area("Camera files, one path per line", key="mc_paths", height=110)
    method = st.selectbox("Method", METHODS, key="mc_method")
    st.markdown(
        "**Light's box** (flash / LED cue, in pixels of the frames; leave empty for the whole "
        "frame)"
    )
    r1, r2, r3, r4 = st.columns(4)
    for col, c, label in zip((r1, r2, r3, r4), "xywh", ("x", "y", "width", "height"), strict=True):
        col.number_input(label, min_value=0, step=1, value=None, key=f"mc_roi_{c}")
    json_path = st.text_input("… or open a multicam.json (or its folder)", key="mc_json")
    c1, c2 = st.columns(2)
    do_sync = c1.form_submit_button("Sync cameras", type="primary")
    do_open = c2.form_submit_button("Open multicam.json")

paths = [p.strip() for p in (paths_text or "").splitlines() if p.strip()]
if len(paths) >= 2:
    with st.expander("Draw the light's box on each camera (flash / LED cue)", expanded=False):
        st.caption(
            "Drag a rectangle around the flash or LED on each camera's frame; the last one drawn "
            "counts. A camera without a box is searched whole; boxes drawn here win over the "
            "numbers typed above."
        )
        draw_boxes(paths)
if do_sync:
    run_sync(paths, method)
if do_open and json_path:
    try:
        st.session_state[K_RESULT] = read_multicam(json_path)
    except MtbSyncError as err:
        st.error(page_words(str(err)))

result: MulticamResult | None = st.session_state.get(K_RESULT)
if result is None:
    st.info("Give two or more camera files and press **Sync cameras**.")
    st.stop()

if st.button("Re-run sync", key="mc_rerun", icon=":material/refresh:"):
    run_sync([c.path for c in result.cameras], method)
    result = st.session_state.get(K_RESULT)
    if result is None:
        st.stop()

st.subheader("Manual nudge (ms, added to the offset)")
nudge_cols = st.columns(len(result.cameras))
cams = []
for col, cam in zip(nudge_cols, result.cameras, strict=True):
    nudge_ms = col.number_input(
        cam.camera_id,
        step=1.0,
        format="%.1f",
        key=f"mc_nudge_{cam.camera_id}",
        disabled=cam.camera_id == result.master_id,
    )
    if nudge_ms:
        cam = replace(cam, offset_s=cam.offset_s + nudge_ms / 1000.0, method="manual", status="ok")
    cams.append(cam)
shown = replace(result, cameras=tuple(cams))

table = pd.DataFrame(
    [
        {
            "camera": c.camera_id,
            "status": c.status,
            "method": c.method,
            "offset_s": round(c.offset_s, 5),
            "drift_ppm": round(c.drift_ppm, 2),
            "confidence": round(c.confidence, 2),
            "fps": round(c.fps, 3),
            "vfr": c.is_vfr,
            "note": c.message,
        }
        for c in shown.cameras
    ]
)
st.dataframe(table, hide_index=True, key="mc_table")
for cam in shown.cameras:
    if cam.status != "ok":
        st.warning(
            f"{cam.camera_id}: {cam.status}: {page_words(cam.message)} Then press **Re-run sync**, "
            "or nudge it by hand above."
        )
st.download_button(
    "Download multicam.json",
    json.dumps(result_to_dict(shown), indent=2),
    file_name="multicam.json",
    mime="application/json",
    key="mc_download",
)

sig = tuple((c.path, c.offset_s, c.drift_ppm, c.status) for c in shown.cameras)
held = st.session_state.get(K_TIMELINE)
if held is None or held[0] != sig:
    if held is not None:
        held[1].close()
    try:
        st.session_state[K_TIMELINE] = held = (sig, Timeline(shown, width=320))
    except MtbSyncError as err:
        st.error(str(err))
        st.stop()
timeline: Timeline = held[1]
t0, t1 = timeline.span_s()
t = st.slider(
    "Master time (s)",
    float(t0),
    float(t1),
    float(min(max(t0, timeline.common_span_s()[0]), t1)),
    step=1 / 60,
    format="%.3f",
    key="mc_t",
)
frames = timeline.frame_at(t)
grid = st.columns(min(3, len(frames)))
for n, (cid, fr) in enumerate(frames.items()):
    box = grid[n % len(grid)]
    if fr.valid and fr.image is not None:
        box.image(
            fr.image,
            caption=f"{cid}: frame {fr.frame_idx} at {fr.pts_s:.3f} s "
            f"(residual {1000 * fr.residual_s:+.1f} ms)",
        )
    else:
        box.warning(f"{cid}: no frame at {t:.3f} s")
