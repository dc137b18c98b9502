"""Baseline for bench_scrub: a scrubber whose frames the server renders from the originals.

``streamlit run bench/scrub_server_app.py -- SRC_DIR``: a number input drives the time; every
change reruns the script, which decodes the new-run frame and the reference frame (through the
pair's known mean ratio) from the 1080p originals and sends them as images.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import streamlit as st

from mtbsync_core import open_video

SRC = Path(sys.argv[1])


@st.cache_resource
def _streams():
    return open_video(SRC / "new.mp4"), open_video(SRC / "ref.mp4")


vn, vr = _streams()
t = st.number_input("t_new (s)", min_value=0.0, value=1.0, step=0.1, key="t")
left, right = st.columns(2)
left.image(cv2.cvtColor(vn.frame_at(t, width=960), cv2.COLOR_BGR2RGB), caption=f"new {t:.2f} s")
right.image(
    cv2.cvtColor(vr.frame_at(max(0.0, 0.9 * t), width=960), cv2.COLOR_BGR2RGB),
    caption=f"reference {0.9 * t:.2f} s",
)
