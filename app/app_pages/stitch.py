"""Stitch: one clean video from several damaged copies of one recording (receivers, DVRs, cards)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from mtbsync_core import MtbSyncError
from mtbsync_core.stitch import StitchResult, stitch_recordings

K_RESULT = "st_result"
# strip colours: chosen copy, damaged, present and clean but not used, absent
CHOSEN, DAMAGED, SPARE, ABSENT = (40, 170, 80), (210, 50, 50), (150, 150, 150), (25, 25, 25)

st.title("Stitch copies")
st.caption(
    "Copies of one recording: each frame is taken from the copy the damage detector finds intact "
    "(the copies are compared with each other). Lossless FFV1 output by default."
)

with st.form("st_inputs"):
    paths_text = st.text_area("Copies, one path per line", key="st_paths", height=110)
    out_dir = st.text_input("Output folder", key="st_out")
    c1, c2, c3 = st.columns(3)
    align = c1.selectbox("Align by", ("auto", "pts", "content", "metadata"), key="st_align")
    codec = c2.selectbox(
        "Video", ("ffv1", "utvideo", "h264", "h264-lossless", "none"), key="st_codec"
    )
    force = c3.checkbox("Overwrite outputs", key="st_force")
    do_stitch = st.form_submit_button("Stitch", type="primary")


def decision_strip(res: StitchResult, width_px: int = 900) -> np.ndarray:
    """An image: one column per output frame, one band per copy, coloured by the decision."""
    n, k = res.damaged.shape
    img = np.empty((k, n, 3), np.uint8)
    img[:] = SPARE
    img[~res.present.T] = ABSENT
    img[res.damaged.T] = DAMAGED
    img[res.source_copy.astype(int), np.arange(n)] = CHOSEN
    band = np.repeat(img, 14, axis=0)
    reps = max(1, width_px // max(1, n))
    return np.repeat(band, reps, axis=1)[:, :width_px]


paths = [p.strip() for p in (paths_text or "").splitlines() if p.strip()]
if do_stitch:
    if len(paths) < 2 or not out_dir:
        st.error("Give two or more copies (one path per line) and an output folder.")
    else:
        try:
            with st.spinner(f"Stitching {len(paths)} copies ..."):
                st.session_state[K_RESULT] = stitch_recordings(
                    paths,
                    out_dir,
                    align=align,
                    codec=None if codec == "none" else codec,
                    force=force,
                )
        except MtbSyncError as err:
            st.session_state.pop(K_RESULT, None)
            st.error(str(err))

res: StitchResult | None = st.session_state.get(K_RESULT)
if res is None:
    st.info("Give the copies and an output folder, then press **Stitch**.")
    st.stop()

m1, m2, m3, m4 = st.columns(4)
m1.metric("Frames", res.n_frames)
m2.metric("From another copy", int((res.source_copy != 0).sum()))
m3.metric("Missing everywhere", len(res.missing))
m4.metric("Damaged everywhere", len(res.damaged_everywhere))
st.image(
    decision_strip(res),
    caption="Per frame (left to right), one band per copy: green chosen, red damaged, "
    "grey intact but not needed, black absent.",
)
frames = pd.read_csv(res.files["frames"])
only_bad = st.checkbox("Only frames where a copy was damaged", value=True, key="st_only_bad")
shown = frames[frames["why"] != "copies agree"] if only_bad else frames
st.dataframe(
    shown[["out_index", "frame_number", "source_copy", "decision", "why"]],
    hide_index=True,
    key="st_table",
)
for role, path in res.files.items():
    p = Path(path)
    if role in ("frames", "missing", "metadata"):
        st.download_button(
            f"Download {p.name}",
            p.read_bytes(),
            file_name=p.name,
            mime="text/csv",
            key=f"st_dl_{role}",
        )
    else:
        st.caption(f"{role}: `{p}` ({p.stat().st_size / 1e6:.1f} MB)")
