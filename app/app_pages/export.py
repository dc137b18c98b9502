"""Export: the reviewed markers (rejected ones left out, nudges applied) for the editor of choice.

One start-timecode rule for every format, the same as the CLI's: the camera's own start timecode
when the new run's file has one, else 00:00:00:00. The frame rate, size and duration are the
video's probed ones.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import streamlit as st

from app import ui
from mtbsync_core import MtbSyncError

FORMATS = {  # fmt: (label, file suffix, mime)
    "edl": ("EDL (DaVinci Resolve)", ".edl", "text/plain"),
    "fcpxml": ("FCPXML (Final Cut Pro)", ".fcpxml", "application/xml"),
    "premiere": ("Premiere Pro XML", ".xml", "application/xml"),
    "csv": ("CSV", ".csv", "text/csv"),
    "json": ("JSON", ".json", "application/json"),
}


@st.cache_data(show_spinner=False)
def video_options(path: str, content_hash: str) -> dict:
    """The export options the new run's video gives (probed once per file content)."""
    from mtbsync_core import video_export_options

    return video_export_options(path)


st.title("Export")
store = ui.require_store()
key, res = ui.require_synced(store)
warp, _ = ui.current_warp(store, key, res)
rows = ui.reviewed_markers(store, key, warp)
kept = [r for r in rows if r["status"] != "reject"]
new = store.video("new")
stem = Path(new.path).stem
try:
    opts = dict(video_options(new.path, new.content_hash))
except MtbSyncError as err:
    st.error(str(err))
    st.stop()
source = opts.pop("start_tc_source")
camera_tc = opts.pop("start_tc")

n_out = sum(not math.isfinite(r["t_new_s"]) for r in kept)
n_review = sum(bool(r["needs_review"]) for r in kept)
st.markdown(
    f"**{len(kept)}** markers to export ({len(rows) - len(kept)} rejected left out) · "
    f"{n_review} still flagged for review · {n_out} outside the overlap (left out by the writers)"
)
st.markdown(
    f"Video: `{opts['video_name']}` · {opts['width']}x{opts['height']} · "
    f"{float(opts['fps']):.3f} fps · {opts['duration_s']:.2f} s"
)
if source == "camera":
    rule = f"the camera's own start timecode, **{camera_tc}**, read from the file"
else:
    rule = f"**{camera_tc}**: the file has no start timecode of its own"
st.caption(
    f"Start timecode for every format: {rule}. The CLI uses the same rule. Type another "
    "(HH:MM:SS:FF) to match a timeline that starts elsewhere, e.g. 01:00:00:00 in Resolve."
)
start_tc = st.text_input("Record start timecode", value=camera_tc, key="start_tc").strip()
if start_tc != camera_tc:
    opts.pop("drop_frame", None)  # typed digits follow the rate's own mode

markers = [r["marker"] for r in kept]
tc_error = None
if start_tc:
    from mtbsync_core.export.common import start_frames

    try:
        start_frames(start_tc, opts["fps"])
    except MtbSyncError as err:
        tc_error = str(err)
if tc_error:
    st.error(
        f"{tc_error} Type it as HH:MM:SS:FF (e.g. {camera_tc}); the timecoded downloads wait "
        "until it reads, the CSV does not need it."
    )

for fmt, (label, suffix, mime) in FORMATS.items():
    needs_tc = fmt != "csv"
    text = ""
    if not (needs_tc and tc_error):
        try:
            from mtbsync_core import export_to_string

            with warnings.catch_warnings(record=True):  # the left-out count is shown above
                warnings.simplefilter("always")
                text = export_to_string(fmt, markers, start_tc=start_tc or camera_tc, **opts)
        except (MtbSyncError, ValueError) as err:
            st.error(f"{label}: {err}")
    st.download_button(
        label,
        icon=":material/download:",
        data=text.encode("utf-8"),
        file_name=f"{stem}_markers{suffix}",
        mime=mime,
        key=f"dl_{fmt}",
        disabled=not text,
        on_click="ignore",  # a download changes nothing: no rerun, the other buttons stay valid
    )
with st.expander("Preview"):
    st.dataframe(
        [
            {
                "name": r["name"],
                "colour": r["colour"],
                "t_new_s": r["t_new_s"],
                "confidence": round(r["confidence"], 3),
                "needs_review": r["needs_review"],
                "decision": r["status"] or "",
            }
            for r in kept
        ],
        hide_index=True,
    )
