"""Writers of a stitch's outputs: the stitched video, the side-by-side debug video, the CSVs.

All of them write into a private temporary folder; :func:`publish` renames the finished files
into the output folder at the end, so an interrupted stitch leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from ..errors import OutputError
from ..fileio import check_writable

#: Output codecs: name -> (PyAV encoder, container suffix, encoder options).
CODECS = {
    "ffv1": ("ffv1", ".mkv", {"slices": "4", "threads": "2"}),
    "h264": ("libx264", ".mp4", {"crf": "16", "preset": "veryfast"}),
    "h264-lossless": ("libx264", ".mkv", {"qp": "0", "preset": "ultrafast"}),
}
_LOSSLESS_FORMATS = {"yuvj420p": "yuv420p", "yuvj422p": "yuv422p", "yuvj444p": "yuv444p"}


def output_names(codec: str, debug: bool, metadata: bool) -> dict[str, str]:
    """File names the stitch writes, by role."""
    names = {
        "video": "stitched" + CODECS[codec][1],
        "frames": "frames.csv",
        "missing": "missing.csv",
    }
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
        name, _suffix, options = CODECS[codec]
        self._container = av.open(str(path), "w")
        self._stream = self._container.add_stream(name, rate=fps)
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = "yuv420p"
        self._tb = Fraction(1) / fps  # the stream's time base changes once the header is written
        self._stream.codec_context.options = dict(options)
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
            cv2.putText(panel, "missing", (10, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (200, 200, 200), 1)
        else:
            panel = np.ascontiguousarray(f.reformat(width=width, height=height, format="bgr24").to_ndarray())
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
