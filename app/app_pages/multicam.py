"""Multi-camera: simultaneous cameras on one timeline — frames in a grid, one scrubber, a nudge each."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pandas as pd
import streamlit as st

from mtbsync_core import MtbSyncError, MulticamResult, Timeline, read_multicam, sync_cameras
from mtbsync_core.multicam import METHODS, result_to_dict

K_RESULT, K_TIMELINE = "mc_result", "mc_timeline"

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


def roi_value() -> tuple[int, int, int, int] | None:
    """The light's box from the four inputs, or None for the whole frame."""
    vals = [st.session_state.get(f"mc_roi_{c}") for c in "xywh"]
    if any(v is None for v in vals) or vals[2] <= 0 or vals[3] <= 0:
        return None
    return tuple(int(v) for v in vals)  # type: ignore[return-value]


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
