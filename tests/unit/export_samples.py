"""Shared inputs for the export tests: a few transferred markers of every kind."""

from __future__ import annotations

import math
from fractions import Fraction

from mtbsync_core.model import TransferredMarker

#: Every rate the exporters promise, with the name the tests print.
RATES: dict[str, Fraction] = {
    "23.976": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97": Fraction(30000, 1001),
    "30": Fraction(30),
    "50": Fraction(50),
    "59.94": Fraction(60000, 1001),
    "60": Fraction(60),
}


def sample_markers() -> list[TransferredMarker]:
    """Ok, borderline, needs-review, commented, unicode and out-of-overlap markers."""
    return [
        TransferredMarker("start gate", 1.0, 0.5, 0.97, False, "", in_overlap=True),
        TransferredMarker("rock garden", 12.0, 12.345, 0.91, False, "big rocks, stay left"),
        TransferredMarker("drop", 20.0, 25.5, 0.62, False, "borderline match"),
        TransferredMarker("split 2", 30.0, 61.0, 0.31, True, "check: rider stopped"),
        TransferredMarker("Wurzelteppich é→ü", 41.0, 75.04, 0.88, False, "roots & <mud>"),
        TransferredMarker("finish", 90.0, math.nan, 0.0, True, "outside overlap", in_overlap=False),
    ]


def placed(markers: list[TransferredMarker]) -> list[TransferredMarker]:
    """The markers an editor export keeps (a time on the new run), in time order."""
    return sorted((m for m in markers if not math.isnan(m.t_new_s)), key=lambda m: m.t_new_s)


GOLDEN_DIR = __import__("pathlib").Path(__file__).resolve().parents[1] / "golden"


def golden_text(name: str, text: str) -> str:
    """The stored golden file ``name``; with MTBSYNC_UPDATE_GOLDEN=1 it is rewritten first."""
    import os

    path = GOLDEN_DIR / name
    if os.environ.get("MTBSYNC_UPDATE_GOLDEN") == "1":
        path.write_bytes(text.encode("utf-8"))
    return path.read_bytes().decode("utf-8")


def assert_same_xml(got: str, want: str) -> None:
    """Two XML documents agree element by element: tag, every attribute, text."""
    import xml.etree.ElementTree as ET

    def walk(a: ET.Element, b: ET.Element, where: str) -> None:
        assert a.tag == b.tag, f"{where}: <{a.tag}> != <{b.tag}>"
        assert a.attrib == b.attrib, f"{where}/{a.tag}: {a.attrib} != {b.attrib}"
        assert (a.text or "").strip() == (b.text or "").strip(), f"{where}/{a.tag} text"
        assert len(a) == len(b), f"{where}/{a.tag}: {len(a)} children != {len(b)}"
        for i, (ca, cb) in enumerate(zip(a, b, strict=True)):
            walk(ca, cb, f"{where}/{a.tag}[{i}]")

    walk(ET.fromstring(got.encode()), ET.fromstring(want.encode()), "")


def encode_video(
    path,
    fps: Fraction,
    n_frames: int,
    size: tuple[int, int] = (320, 180),
    timecode: str | None = None,
) -> None:
    """A small H.264 MP4 written with PyAV; ``timecode`` makes a tmcd track (mov muxer)."""
    import av
    import numpy as np

    w, h = size
    with av.open(str(path), "w") as out:
        if timecode is not None:
            out.metadata["timecode"] = timecode
        st = out.add_stream("libx264", rate=fps)
        st.width, st.height, st.pix_fmt = w, h, "yuv420p"
        st.options = {"preset": "ultrafast"}
        ramp = np.tile(np.linspace(0, 255, w, dtype=np.uint8), (h, 1))
        for i in range(n_frames):
            img = np.dstack([np.roll(ramp, 7 * i, axis=1)] * 3)
            vf = av.VideoFrame.from_ndarray(img, format="bgr24")
            vf.pts = i
            for pkt in st.encode(vf):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
