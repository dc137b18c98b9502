"""Per-frame metadata of a recording (a CSV beside each copy), as written by miniscope-io.

mio's stream recorder writes one row per received buffer. The columns used here, and their
meaning:

==========================  =====================================================================
``frame_num``               the device's frame number (the same frame has the same number in every copy)
``reconstructed_frame_index``  the row's frame in the video file (0-based); without it, frames are
                            taken in the order their ``frame_num`` first appears
``buffer_count``            optional: one row per buffer received; more rows = more of the frame arrived
``black_padding_px``        optional: pixels padded black because buffers were missing (0 = complete)
==========================  =====================================================================

Other recorders name the columns otherwise: pass a mapping, e.g.
``{"frame_num": "frame_id", "padding": "pad_px"}`` (keys ``frame_num``, ``frame_index``,
``padding``). A CSV with one row per frame works the same way (one buffer per frame).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import StitchError

DEFAULT_COLUMNS = {
    "frame_num": "frame_num",
    "frame_index": "reconstructed_frame_index",
    "padding": "black_padding_px",
}


@dataclass(frozen=True)
class FrameMetadata:
    """One row per video frame: device frame number, buffers received, black padding in pixels."""

    path: str
    frame_num: np.ndarray  # int64, the device's frame number of video frame i
    buffers: np.ndarray  # int32, buffers (rows) received for frame i
    padding_px: np.ndarray  # int64, black padding of frame i (0 when the CSV has no such column)
    rows: tuple[tuple[dict[str, str], ...], ...]  # the CSV rows of each frame, for the stitched CSV
    fieldnames: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.frame_num.size)


def parse_column_map(text: str | None) -> dict[str, str]:
    """``"frame_num=frame_id,padding=pad"`` -> a column mapping (keys as in :data:`DEFAULT_COLUMNS`)."""
    out = dict(DEFAULT_COLUMNS)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, col = part.partition("=")
        if not sep or key.strip() not in DEFAULT_COLUMNS or not col.strip():
            raise ValueError(
                f"column mapping {part!r} must be KEY=COLUMN with KEY one of {sorted(DEFAULT_COLUMNS)}"
            )
        out[key.strip()] = col.strip()
    return out


def read_frame_metadata(
    path: str | os.PathLike[str], columns: dict[str, str] | None = None
) -> FrameMetadata:
    """Read a metadata CSV and group its rows by video frame (see the module doc for columns)."""
    cols = dict(DEFAULT_COLUMNS, **(columns or {}))
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            fieldnames = tuple(reader.fieldnames or ())
            if cols["frame_num"] not in fieldnames:
                raise StitchError(
                    f"Metadata '{p}' has no '{cols['frame_num']}' column (it has: "
                    f"{', '.join(fieldnames) or 'none'}). Pass --metadata-columns frame_num=NAME."
                )
            groups: dict[int, list[dict[str, str]]] = {}
            order: list[int] = []
            for line, row in enumerate(reader, start=2):
                key = _frame_key(row, cols, p, line, order)
                if key not in groups:
                    groups[key] = []
                    order.append(key)
                groups[key].append(row)
    except OSError as err:
        raise StitchError(
            f"Cannot read metadata '{p}' ({err.strerror or err}). Check the path."
        ) from err
    keys = sorted(order) if cols["frame_index"] in fieldnames else order
    frames = [groups[k] for k in keys]
    return FrameMetadata(
        path=str(p),
        frame_num=np.array([_int(r[0][cols["frame_num"]], p) for r in frames], np.int64),
        buffers=np.array([len(r) for r in frames], np.int32),
        padding_px=np.array(
            [max(_int(x.get(cols["padding"]) or "0", p) for x in r) for r in frames], np.int64
        ),
        rows=tuple(tuple(r) for r in frames),
        fieldnames=fieldnames,
    )


def _frame_key(
    row: dict[str, str], cols: dict[str, str], p: Path, line: int, order: list[int]
) -> int:
    """The video frame a row belongs to: its frame index column, else its frame number."""
    col = cols["frame_index"] if cols["frame_index"] in row else cols["frame_num"]
    try:
        return int(float(row[col]))
    except (TypeError, ValueError):
        raise StitchError(
            f"Metadata '{p}' line {line}: '{col}' is {row.get(col)!r}, not a whole number. Fix the row."
        ) from None


def _int(text: str, p: Path) -> int:
    try:
        return int(float(text))
    except ValueError:
        raise StitchError(f"Metadata '{p}': {text!r} is not a number. Fix the CSV.") from None


def trim_to_frames(meta: FrameMetadata, n_frames: int, video: str) -> FrameMetadata:
    """Match the metadata to the video's ``n_frames``: one extra trailing frame is dropped
    (mio's known off-by-one), any other mismatch is an error."""
    n = len(meta)
    if n == n_frames:
        return meta
    if n == n_frames + 1:
        return FrameMetadata(
            meta.path,
            meta.frame_num[:-1],
            meta.buffers[:-1],
            meta.padding_px[:-1],
            meta.rows[:-1],
            meta.fieldnames,
        )
    raise StitchError(
        f"Metadata '{meta.path}' describes {n} frames but video '{video}' has {n_frames}. "
        "Pass the CSV that was recorded with this video."
    )
