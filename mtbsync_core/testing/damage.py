"""Simulated transmission damage with a known answer: copies of real footage for stitch tests.

Frames are yuv420p planes stacked as PyAV's ``to_ndarray()`` gives them (luma rows, then the
chroma rows). Each kind imitates what receivers and DVRs really produce:

``rows``     a band of rows torn sideways (a slice received out of step)
``blocks``   macroblocks showing picture from elsewhere (lost motion vectors)
``noise``    a patch of check-pattern noise (corrupt residuals)
``padding``  the bottom of the frame black (buffers that never arrived)
``fill``     rows of green or grey decoder fill (what a decoder shows for lost slices)
``repeat``   the previous frame shown again (a DVR that re-shows the last good frame)
``drop``     the frame is not in the copy at all

Damage is only applied when it is visible (some 16 px block changes by at least
:data:`VISIBLE_LEVEL` grey levels on average); invisible damage is not damage, so it is not
counted in the truth either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

KINDS = ("rows", "blocks", "noise", "padding", "fill", "repeat", "drop")
VISIBLE_LEVEL = 8.0


@dataclass(frozen=True)
class DamagedCopy:
    """One simulated copy: its frames (None = dropped) and the truth per source frame."""

    frames: list[np.ndarray | None]
    truth: list[str]  # "" clean, else the kind


def read_yuv_frames(
    path: str | Path, max_frames: int | None = None
) -> tuple[list[np.ndarray], Fraction]:
    """Decode a video into yuv420p planes (exact, no range conversion) and its frame rate."""
    out = []
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        st.thread_type = "AUTO"
        fps = Fraction(st.average_rate or 30)
        for frame in c.decode(st):
            if frame.format.name != "yuv420p":
                frame = frame.reformat(format="yuv420p")
            out.append(frame.to_ndarray())
            if max_frames is not None and len(out) >= max_frames:
                break
    return out, fps


def _visible(a: np.ndarray, b: np.ndarray, h: int) -> bool:
    d = np.abs(a[:h].astype(np.int16) - b[:h]).astype(np.float32)
    hh, ww = (h // 16) * 16, (d.shape[1] // 16) * 16
    blocks = d[:hh, :ww].reshape(hh // 16, 16, ww // 16, 16).mean(axis=(1, 3))
    return float(blocks.max()) >= VISIBLE_LEVEL


def damage_frame(
    frame: np.ndarray, prev: np.ndarray | None, kind: str, rng: np.random.Generator
) -> np.ndarray | None:
    """One damaged version of ``frame`` (yuv420p stack), or None if that damage would not show."""
    h = frame.shape[0] * 2 // 3
    w = frame.shape[1]
    for _ in range(6):
        out = frame.copy()
        if kind == "repeat":
            out = prev.copy() if prev is not None else out
        elif kind == "rows":
            y0 = int(rng.integers(0, h - 32))
            y1 = min(h, y0 + int(rng.integers(16, max(17, h // 6))))
            shift = int(rng.integers(w // 16, w // 3)) * (1 if rng.random() < 0.5 else -1)
            out[y0:y1] = np.roll(out[y0:y1], shift, axis=1)
        elif kind == "blocks":
            for _ in range(int(rng.integers(3, 13))):
                by, bx = int(rng.integers(0, h // 16)) * 16, int(rng.integers(0, w // 16)) * 16
                sy, sx = int(rng.integers(0, h - 16)), int(rng.integers(0, w - 16))
                out[by : by + 16, bx : bx + 16] = frame[sy : sy + 16, sx : sx + 16]
        elif kind == "noise":
            ph, pw = int(rng.integers(32, h // 3)), int(rng.integers(32, w // 3))
            y0, x0 = int(rng.integers(0, h - ph)), int(rng.integers(0, w - pw))
            yy, xx = np.mgrid[0:ph, 0:pw]
            check = np.where((yy + xx) % 2 == 0, 45, -45) + rng.normal(0, 12, (ph, pw))
            out[y0 : y0 + ph, x0 : x0 + pw] = np.clip(
                out[y0 : y0 + ph, x0 : x0 + pw] + check, 0, 255
            )
        elif kind == "padding":
            y0 = h - int(rng.integers(h // 20, h * 2 // 5))
            _set_rows(out, y0, h, 16, 128, 128)
        elif kind == "fill":
            y0 = int(rng.integers(0, h // 16 - 1)) * 16
            y1 = min(h, y0 + int(rng.integers(1, 6)) * 16)
            grey = rng.random() < 0.5
            _set_rows(out, y0, y1, *((128, 128, 128) if grey else (0, 0, 0)))
        else:
            raise ValueError(f"unknown damage kind {kind!r}; one of {KINDS}")
        if _visible(out, frame, h):
            return out
    return None


def _set_rows(out: np.ndarray, y0: int, y1: int, y: int, u: int, v: int) -> None:
    """Set luma rows y0..y1 and the chroma rows under them (yuv420p stack) to one colour."""
    h = out.shape[0] * 2 // 3
    w = out.shape[1]
    out[y0:y1] = y
    cw = (w + 1) // 2
    # chroma rows of yuv420p in to_ndarray(): U then V, each h/2 rows of cw pixels, packed into width w
    u_plane = out[h : h + h // 4].reshape(-1)[: (h // 2) * cw].reshape(h // 2, cw)
    v_plane = out[h + h // 4 :].reshape(-1)[: (h // 2) * cw].reshape(h // 2, cw)
    u_plane[y0 // 2 : (y1 + 1) // 2] = u
    v_plane[y0 // 2 : (y1 + 1) // 2] = v


def damage_copy(
    frames: Sequence[np.ndarray], kinds: Sequence[str], rate: float, seed: int
) -> DamagedCopy:
    """A copy of ``frames`` with ``rate`` of them damaged, each by one of ``kinds`` at random."""
    out: list[np.ndarray | None] = []
    truth = []
    for frame, kind in iter_damaged(frames.__getitem__, len(frames), kinds, rate, seed):
        out.append(frame)
        truth.append(kind)
    return DamagedCopy(out, truth)


def iter_damaged(
    get_frame: Callable[[int], np.ndarray], n: int, kinds: Sequence[str], rate: float, seed: int
) -> Iterator[tuple[np.ndarray | None, str]]:
    """:func:`damage_copy` one frame at a time (``get_frame(i)`` gives source frame ``i``), for
    copies too long to hold in memory: yields ``(frame or None if dropped, truth kind)``; the
    same seed gives the same copy as :func:`damage_copy`."""
    rng = np.random.default_rng(seed)
    hit = set(rng.choice(n, size=int(round(rate * n)), replace=False).tolist())
    shown_last: np.ndarray | None = None  # what this copy showed last (a repeat shows it again)
    for i in range(n):
        f = get_frame(i)
        if i not in hit or i == 0:
            shown_last = f
            yield f, ""
            continue
        kind = str(rng.choice(list(kinds)))
        if kind == "drop":
            yield None, "drop"
            continue
        d = damage_frame(f, shown_last if shown_last is not None else get_frame(i - 1), kind, rng)
        shown_last = f if d is None else d
        yield shown_last, "" if d is None else kind


def write_copy(
    path: str | Path, frames: Iterable[np.ndarray | None], fps: Fraction, codec: str = "ffv1"
) -> None:
    """Encode a copy, each frame at its own frame number as PTS (dropped frames leave a gap).

    ``frames`` may be any iterable (a generator from :func:`iter_damaged` for long copies).
    ``codec``: ``ffv1`` (lossless), ``x264-lossless`` (lossless, faster) or ``libx264`` (lossy,
    as a DVR would record).
    """
    with av.open(str(path), "w") as c:
        st = None
        tb = Fraction(1) / fps  # the stream's own time base changes once the header is written
        for i, f in enumerate(frames):
            if f is None:
                continue
            if st is None:
                st = c.add_stream("libx264" if codec == "x264-lossless" else codec, rate=fps)
                st.height, st.width = f.shape[0] * 2 // 3, f.shape[1]
                st.pix_fmt = "yuv420p"
                if codec == "libx264":
                    st.codec_context.options = {"crf": "18", "preset": "veryfast", "bf": "0"}
                elif codec == "x264-lossless":
                    st.codec_context.options = {"qp": "0", "preset": "ultrafast"}
            vf = av.VideoFrame.from_ndarray(f, format="yuv420p")
            vf.pts = i
            vf.time_base = tb
            for p in st.encode(vf):
                c.mux(p)
        if st is not None:
            for p in st.encode():
                c.mux(p)
