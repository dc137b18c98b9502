"""Writers of a stitch's outputs: the stitched video, the side-by-side debug video, the CSVs.

All of them write into a private temporary folder; :func:`publish` renames the finished files
into the output folder at the end, so an interrupted stitch leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import csv
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from ..errors import OutputError
from ..fileio import check_writable
from .damage import CandidateScore

#: Output codecs: name -> (PyAV encoder, container suffix, encoder options, thread type or None
#: for the encoder's default). ``ffv1``: slices encoded in parallel (FFV1 version 3 in 16 slices
#: with CRCs measured no faster, so not used). ``utvideo``: Ut Video in AVI, lossless too, about
#: a fifth of FFV1's encoding time per frame and about 1.5 times its size.
CODECS = {
    "ffv1": ("ffv1", ".mkv", {"slices": "4"}, "SLICE"),
    "utvideo": ("utvideo", ".avi", {"pred": "left"}, "FRAME"),
    "h264": ("libx264", ".mp4", {"crf": "16", "preset": "veryfast"}, None),
    "h264-lossless": ("libx264", ".mkv", {"qp": "0", "preset": "ultrafast"}, None),
}
_LOSSLESS_FORMATS = {"yuvj420p": "yuv420p", "yuvj422p": "yuv422p", "yuvj444p": "yuv444p"}


def output_names(codec: str | None, debug: bool, metadata: bool) -> dict[str, str]:
    """File names the stitch writes, by role (no video when ``codec`` is None)."""
    names = {"frames": "frames.csv", "missing": "missing.csv"}
    if codec is not None:
        names["video"] = "stitched" + CODECS[codec][1]
    if metadata:
        names["metadata"] = "stitched_metadata.csv"
    if debug:
        names["debug"] = "debug_side_by_side.mp4"
    return names


@contextlib.contextmanager
def staging(out_dir: Path, names: dict[str, str], force: bool) -> Iterator[Path]:
    """A temporary folder inside ``out_dir``; its files replace the outputs only on success."""
    for name in names.values():
        check_writable(out_dir / name, force)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".stitch-", dir=out_dir))
    except OSError as err:
        raise OutputError(
            f"Cannot write to '{out_dir}' ({err.strerror or err}). Choose a folder you can write to."
        ) from err
    try:
        yield tmp
        for name in names.values():
            os.replace(tmp / name, out_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class VideoWriter:
    """Encodes frames (PyAV frames, any size/format the encoder takes) with explicit frame numbers."""

    def __init__(self, path: Path, codec: str, fps: Fraction, width: int, height: int) -> None:
        name, _suffix, options, thread_type = CODECS[codec]
        self._container = av.open(str(path), "w")
        self._stream = self._container.add_stream(name, rate=fps)
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = "yuv420p"
        self._tb = Fraction(1) / fps  # the stream's time base changes once the header is written
        self._stream.codec_context.options = dict(options)
        if thread_type is not None:
            self._stream.codec_context.thread_type = thread_type
        self._pix_fmt: str | None = None

    def write(self, frame: av.VideoFrame, pts: int) -> None:
        """Encode ``frame`` at frame number ``pts`` (planes copied as they are: lossless codecs stay exact)."""
        fmt = _LOSSLESS_FORMATS.get(frame.format.name, frame.format.name)
        if self._pix_fmt is None:
            self._pix_fmt = fmt if fmt in ("yuv420p", "yuv422p", "yuv444p") else "yuv420p"
            self._stream.pix_fmt = self._pix_fmt
        if frame.format.name != self._pix_fmt:
            frame = frame.reformat(format=self._pix_fmt)
        frame.pts = pts
        frame.time_base = self._tb
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def write_bgr(self, img: np.ndarray, pts: int) -> None:
        """Encode a BGR image."""
        self.write(av.VideoFrame.from_ndarray(img, format="bgr24"), pts)

    def close(self) -> None:
        """Flush the encoder and close the file."""
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()


class ThreadedWriter:
    """Runs a :class:`VideoWriter` on its own thread (encoding overlaps decoding and scoring).

    Frames are handed over through a short queue; an encoder error is raised again by the next
    :meth:`write` or by :meth:`close`.
    """

    def __init__(self, writer: VideoWriter, depth: int = 8) -> None:
        self._writer = writer
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="stitch-encoder", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue
            try:
                method, frame, pts = item
                getattr(self._writer, method)(frame, pts)
            except BaseException as err:  # noqa: BLE001 - handed back to the caller's thread
                self._error = err

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def write(self, frame: av.VideoFrame, pts: int) -> None:
        """Queue ``frame`` for encoding at ``pts``."""
        self._check()
        self._queue.put(("write", frame, pts))

    def write_bgr(self, img: np.ndarray, pts: int) -> None:
        """Queue a BGR image for encoding."""
        self._check()
        self._queue.put(("write_bgr", img, pts))

    def close(self) -> None:
        """Finish encoding, close the file, raise an encoder error if there was one."""
        self._queue.put(None)
        self._thread.join()
        self._check()
        self._writer.close()


def side_by_side(
    frames: Sequence[av.VideoFrame | None], chosen: int, damaged: Sequence[bool], width: int = 320
) -> np.ndarray:
    """The copies next to each other, ``width`` px each: the chosen one outlined green, damaged
    ones red, a missing one dark grey."""
    panels = []
    height = None
    for f in frames:
        if f is not None:
            height = int(round(f.height * width / f.width / 2) * 2)
            break
    height = height or width * 9 // 16
    for i, f in enumerate(frames):
        if f is None:
            panel = np.full((height, width, 3), 40, np.uint8)
            cv2.putText(
                panel,
                "missing",
                (10, height // 2),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.6,
                (200, 200, 200),
                1,
            )
        else:
            panel = np.ascontiguousarray(
                f.reformat(width=width, height=height, format="bgr24").to_ndarray()
            )
            if i == chosen:
                cv2.rectangle(panel, (1, 1), (width - 2, height - 2), (0, 255, 0), 4)
            elif damaged[i]:
                cv2.rectangle(panel, (1, 1), (width - 2, height - 2), (0, 0, 255), 2)
        cv2.putText(panel, f"copy {i}", (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
        panels.append(panel)
    return np.hstack(panels)


class CsvWriter:
    """A CSV written row by row into the staging folder."""

    def __init__(self, path: Path, fieldnames: Sequence[str]) -> None:
        self._fh = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._fh, fieldnames=list(fieldnames), extrasaction="ignore")
        self._writer.writeheader()

    def write(self, row: dict) -> None:
        """Append one row."""
        self._writer.writerow(row)

    def close(self) -> None:
        """Close the file."""
        self._fh.close()


def frames_fields(k: int, meta: bool) -> list[str]:
    """The columns of ``frames.csv`` for ``k`` copies (with metadata columns when ``meta``)."""
    fields = ["out_index", "frame_number", "source_copy", "source_frame_index", "decision", "why"]
    for c in range(k):
        fields += [
            f"c{c}_{x}"
            for x in (
                "present",
                "damaged",
                "kind",
                "bad_blocks",
                "flat_blocks",
                "frozen",
                "disagreement",
            )
        ]
        if meta:
            fields += [f"c{c}_meta_buffers", f"c{c}_meta_padding_px"]
    return fields


def score_cols(c: int, s: CandidateScore) -> dict:
    """Copy ``c``'s columns of one ``frames.csv`` row."""
    return {
        f"c{c}_present": 1,
        f"c{c}_damaged": int(s.damaged),
        f"c{c}_kind": s.kind,
        f"c{c}_bad_blocks": s.bad_blocks,
        f"c{c}_flat_blocks": s.flat_blocks,
        f"c{c}_frozen": int(s.frozen),
        f"c{c}_disagreement": round(s.disagreement, 3),
    }


def why_text(cands, scores, meta_bad, best, all_bad) -> str:
    """The ``why`` column: what the metadata and the picture said, in words."""
    parts = []
    if meta_bad and any(meta_bad.values()):
        parts.append(
            "metadata: " + ", ".join(f"copy {c} incomplete" for c in cands if meta_bad.get(c))
        )
    bad = [
        f"copy {c} {s.kind or 'damaged'} ({s.bad_blocks} blocks)"
        for c, s in zip(cands, scores, strict=False)
        if s.damaged
    ]
    if bad:
        parts.append("picture: " + ", ".join(bad))
    if all_bad:
        parts.append(f"every copy damaged: kept copy {best}, the least damaged")
    elif not parts:
        parts.append("copies agree" if len(cands) > 1 else "only copy with this frame; looks clean")
    return "; ".join(parts)
