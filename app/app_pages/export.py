"""Export: the reviewed markers (rejected ones left out, nudges applied) for the editor of choice."""

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

st.title("Export")
store = ui.require_store()
key, res = ui.require_synced(store)
warp, _ = ui.current_warp(store, key, res)
rows = ui.reviewed_markers(store, key, warp)
kept = [r for r in rows if r["status"] != "reject"]
new = store.video("new")
fps = ui.fps_of(new.info)
stem = Path(new.path).stem

n_out = sum(not math.isfinite(r["t_new_s"]) for r in kept)
n_review = sum(bool(r["needs_review"]) for r in kept)
st.markdown(
    f"**{len(kept)}** markers to export ({len(rows) - len(kept)} rejected left out) · "
    f"{n_review} still flagged for review · {n_out} outside the overlap (left out by the writers)"
)
start_tc = st.text_input("Record start timecode", value="00:00:00:00", key="start_tc")

markers = [r["marker"] for r in kept]
for fmt, (label, suffix, mime) in FORMATS.items():
    try:
        from mtbsync_core import export_to_string

        with warnings.catch_warnings(record=True):  # the count of left-out markers is shown above
            warnings.simplefilter("always")
            text = export_to_string(
                fmt,
                markers,
                fps=fps,
                start_tc=start_tc or None,
                video_name=Path(new.path).name,
                duration_s=float(new.info["duration_s"]),
            )
    except (MtbSyncError, ValueError) as err:
        st.error(f"{label}: {err}")
        continue
    st.download_button(
        label,
        icon=":material/download:",
        data=text.encode("utf-8"),
        file_name=f"{stem}_markers{suffix}",
        mime=mime,
        key=f"dl_{fmt}",
    )
with st.expander("Preview"):
    st.dataframe(
        [
            {
                "name": r["name"],
                "t_new_s": r["t_new_s"],
                "confidence": round(r["confidence"], 3),
                "needs_review": r["needs_review"],
                "decision": r["status"] or "",
            }
            for r in kept
        ],
        hide_index=True,
    )
