"""``stitch_recordings``: one clean video from several damaged copies of the same recording.

The copies are decoded in lockstep by frame number (see :mod:`.copies`); for each frame the
damage detector (:mod:`.damage`) compares the copies that have it, metadata first when there is
some (fewer missing buffers, less black padding), and the best copy's frame is written as it was
decoded (lossless FFV1 by default, so a clean frame comes out bit for bit). Every decision is
written to ``frames.csv``; frames missing or damaged in every copy to ``missing.csv``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import StitchError
from ..progress import ProgressCallback, report
from .copies import (
    ALIGN_MODES,
    CopyInfo,
    Numbering,
    check_overlap,
    content_offsets,
    iter_copy,
    prefetch,
    probe_copies,
)
from .damage import DamageParams, block_change, reduce_luma, score_candidates
from .metadata import FrameMetadata, read_frame_metadata, trim_to_frames
from .outputs import (
    CODECS,
    CsvWriter,
    ThreadedWriter,
    VideoWriter,
    frames_fields,
    output_names,
    score_cols,
    side_by_side,
    staging,
    why_text,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StitchResult:
    """What a stitch wrote and decided. Arrays have one row per output frame."""

    out_dir: Path
    files: dict[str, Path]  # role ("video", "frames", "missing", "metadata", "debug") -> path
    copies: tuple[str, ...]
    align: str  # the alignment used: "metadata" | "pts" | "content"
    frame_number: np.ndarray  # int64, shared frame number of each output frame
    source_copy: np.ndarray  # int16, the copy each output frame came from
    damaged: np.ndarray  # bool (n_out, n_copies): the detector's verdict (False where absent)
    present: np.ndarray  # bool (n_out, n_copies): the copy has this frame
    missing: tuple[int, ...]  # frame numbers no copy has
    damaged_everywhere: tuple[int, ...]  # frame numbers every present copy has damaged
    elapsed_s: float
    params: DamageParams = field(default_factory=DamageParams)

    @property
    def n_frames(self) -> int:
        """Frames written."""
        return int(self.frame_number.size)


def stitch_recordings(
    recordings: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    metadata: Sequence[str | os.PathLike[str]] | None = None,
    metadata_columns: dict[str, str] | None = None,
    align: str = "auto",
    crop: tuple[int, int | None] | None = None,
    codec: str | None = "ffv1",
    debug: bool = False,
    force: bool = False,
    params: DamageParams | None = None,
    progress: ProgressCallback | None = None,
) -> StitchResult:
    """Stitch copies of one recording into ``out_dir`` and return what was decided.

    ``metadata`` is one CSV per copy (see :mod:`.metadata`); ``align`` is ``auto`` (metadata
    when given, else PTS), ``metadata``, ``pts`` or ``content``; ``crop`` keeps frame numbers
    ``START <= n < END`` (END None: to the end); ``codec`` None writes no video, only the
    decisions (``frames.csv``, ``missing.csv``): a quick look at which copy is good where. Raises :class:`StitchError` for copies that do
    not fit together and :class:`OutputExistsError` for existing outputs without ``force``.
    """
    t_start = time.perf_counter()
    paths = [str(p) for p in recordings]
    _check_args(paths, metadata, align, codec, crop)
    metas = _read_metas(metadata, metadata_columns, len(paths))
    infos = probe_copies(paths, metas)
    mode = ("metadata" if metas[0] is not None else "pts") if align == "auto" else align
    if mode == "metadata" and metas[0] is None:
        raise StitchError("--align metadata needs a metadata CSV per copy. Pass --metadata.")
    metas = [
        None if m is None else trim_to_frames(m, ci.n_frames, ci.path)
        for m, ci in zip(metas, infos, strict=False)
    ]
    numberings = _numberings(mode, infos, metas, paths)
    check_overlap(
        paths, [_range(n, ci, m) for n, ci, m in zip(numberings, infos, metas, strict=False)]
    )
    names = output_names(codec, debug, metas[0] is not None)
    out = Path(out_dir)
    with staging(out, names, force) as tmp:
        run = _Run(
            paths, infos, metas, numberings, tmp, names, codec, params or DamageParams(), progress
        )
        try:
            run.loop(crop)
        except BaseException:
            run.abort()
            raise
        run.close()
    files = {role: out / name for role, name in names.items()}
    return run.result(out, files, mode, time.perf_counter() - t_start)


def _check_args(paths, metadata, align, codec, crop) -> None:
    if len(paths) < 2:
        raise ValueError("stitching needs at least two copies of the recording")
    if align not in ALIGN_MODES:
        raise ValueError(f"align must be one of {ALIGN_MODES}, got {align!r}")
    if codec is not None and codec not in CODECS:
        raise ValueError(f"codec must be one of {sorted(CODECS)}, got {codec!r}")
    if metadata is not None and len(metadata) != len(paths):
        raise StitchError(
            f"{len(metadata)} metadata CSVs for {len(paths)} copies. Pass one --metadata per copy, in order."
        )
    if crop is not None and crop[1] is not None and crop[1] <= crop[0]:
        raise ValueError(f"crop end {crop[1]} must be after its start {crop[0]}")


def _read_metas(metadata, columns, n) -> list[FrameMetadata | None]:
    if metadata is None:
        return [None] * n
    return [read_frame_metadata(m, columns) for m in metadata]


def _numberings(mode: str, infos: list[CopyInfo], metas, paths) -> list[Numbering]:
    fps = float(infos[0].fps)
    if mode == "metadata":
        return [Numbering("metadata", fps, 0.0, 0, m.frame_num) for m in metas]
    if mode == "content":
        return [Numbering("content", fps, 0.0, off) for off in content_offsets(paths)]
    t0 = min(ci.first_pts_s for ci in infos)
    return [Numbering("pts", fps, t0) for _ in infos]


def _range(num: Numbering, ci: CopyInfo, meta: FrameMetadata | None) -> tuple[int, int]:
    if num.mode == "metadata" and meta is not None:
        return int(meta.frame_num.min()), int(meta.frame_num.max())
    if num.mode == "pts":
        return num.number(0, ci.first_pts_s), num.number(0, ci.last_pts_s)
    return num.offset, num.offset + ci.n_frames - 1


class _Run:
    """The lockstep loop and its writers (one instance per stitch)."""

    def __init__(
        self, paths, infos, metas, numberings, tmp, names, codec, params, progress
    ) -> None:
        self.paths, self.metas, self.params, self.progress = paths, metas, params, progress
        self.k = len(paths)
        self.total = max(ci.n_frames for ci in infos)
        self.fps = infos[0].fps
        self.iters = [prefetch(iter_copy(p, n)) for p, n in zip(paths, numberings, strict=False)]
        self.video = None
        if "video" in names:
            self.video = ThreadedWriter(
                VideoWriter(tmp / names["video"], codec, self.fps, infos[0].width, infos[0].height)
            )
        self.debug = None
        if "debug" in names:
            size = (320 * self.k, _even(320 * infos[0].height / infos[0].width))
            self.debug = ThreadedWriter(VideoWriter(tmp / names["debug"], "h264", self.fps, *size))
        self.frames_csv = CsvWriter(
            tmp / names["frames"], frames_fields(self.k, metas[0] is not None)
        )
        self.missing_csv = CsvWriter(
            tmp / names["missing"], ["frame_number", "status", "copies_present"]
        )
        self.meta_csv = None
        if "metadata" in names:
            fields = [*metas[0].fieldnames, "stitched_frame_index", "source_copy"]
            self.meta_csv = CsvWriter(tmp / names["metadata"], fields)
        self.rows: list[tuple[int, int, np.ndarray, np.ndarray]] = []
        self.missing: list[int] = []
        self.damaged_everywhere: list[int] = []
        self.prev: list[np.ndarray | None] = [None] * self.k
        self.prev_out: np.ndarray | None = None
        self.motion_before: float | None = None

    def loop(self, crop: tuple[int, int | None] | None) -> None:
        heads = [next(it, None) for it in self.iters]
        start, end = (crop[0], crop[1]) if crop else (None, None)
        first = last = None
        done = 0
        while any(h is not None for h in heads):
            n = min(h[0] for h in heads if h is not None)
            cands = [i for i, h in enumerate(heads) if h is not None and h[0] == n]
            if end is not None and n >= end:
                break
            halves = {i: reduce_luma(_luma(heads[i][2])) for i in cands}
            if start is None or n >= start:
                first = n if first is None else first
                if last is not None:
                    self._missing_between(last, n)
                self._decide(n, n - first, {i: heads[i] for i in cands}, halves)
                last = n
            for i in cands:
                self.prev[i] = halves[i]
                heads[i] = next(self.iters[i], None)
            done += 1
            if done % 25 == 0:
                report(self.progress, "stitch", done, self.total)
        if first is None:
            raise StitchError(
                "No frame of the copies lies in the crop range. Check --crop START:END."
            )
        report(self.progress, "stitch", self.total, self.total)

    def _missing_between(self, last: int, n: int) -> None:
        for m in range(last + 1, n):
            self.missing.append(m)
            self.missing_csv.write({"frame_number": m, "status": "missing", "copies_present": ""})

    def _decide(self, n: int, pts: int, heads: dict, halves: dict) -> None:
        cands = sorted(heads)
        full = _luma(heads[cands[0]][2]) if len(cands) == 1 else None
        scores = score_candidates(
            [halves[i] for i in cands],
            [self.prev[i] for i in cands],
            self.params,
            self.prev_out,
            full,
            self.motion_before,
        )
        meta_bad = self._meta_bad(heads)
        order = sorted(
            range(len(cands)),
            key=lambda j: (
                meta_bad.get(cands[j], 0),
                scores[j].damaged,
                scores[j].bad_blocks,
                scores[j].disagreement,
                j,
            ),
        )
        best = cands[order[0]]
        if self.prev_out is not None:
            moved = float(block_change(halves[best], self.prev_out, self.params.block_px))
            if moved >= self.params.frozen_level:  # a repeat keeps the motion seen before it
                self.motion_before = moved
        self.prev_out = halves[best]
        frame = heads[best][2]
        if self.video is not None:
            self.video.write(frame, pts)
        damaged = np.zeros(self.k, bool)
        present = np.zeros(self.k, bool)
        for c, s in zip(cands, scores, strict=False):
            damaged[c] = s.damaged or meta_bad.get(c, 0) > 0
            present[c] = True
        all_bad = bool(damaged[present].all())
        if all_bad:
            self.damaged_everywhere.append(n)
            self.missing_csv.write(
                {
                    "frame_number": n,
                    "status": "damaged",
                    "copies_present": " ".join(map(str, cands)),
                }
            )
        why = why_text(cands, scores, meta_bad, best, all_bad)
        self.rows.append((n, best, damaged, present))
        self.frames_csv.write(
            self._frame_row(
                len(self.rows) - 1, n, best, heads, scores, cands, meta_bad, why, all_bad
            )
        )
        if self.meta_csv is not None:
            for row in self.metas[best].rows[heads[best][1]]:
                self.meta_csv.write(
                    {**row, "stitched_frame_index": len(self.rows) - 1, "source_copy": best}
                )
        if self.debug is not None:
            panels = [heads[i][2] if i in heads else None for i in range(self.k)]
            self.debug.write_bgr(side_by_side(panels, best, list(damaged)), pts)

    def _meta_bad(self, heads: dict) -> dict[int, int]:
        """Per copy: 0 when its metadata shows the frame complete, else how incomplete (lower is better)."""
        if self.metas[0] is None:
            return {}
        bufs = {i: int(self.metas[i].buffers[heads[i][1]]) for i in heads}
        pads = {i: int(self.metas[i].padding_px[heads[i][1]]) for i in heads}
        most = max(bufs.values())
        return {i: (most - bufs[i]) * 1_000_000 + pads[i] for i in heads}

    def _frame_row(self, out_idx, n, best, heads, scores, cands, meta_bad, why, all_bad) -> dict:
        row = {
            "out_index": out_idx,
            "frame_number": n,
            "source_copy": best,
            "source_frame_index": heads[best][1],
            "decision": "least_damaged"
            if all_bad
            else ("only_copy" if len(cands) == 1 else "clean"),
            "why": why,
        }
        for c, s in zip(cands, scores, strict=False):
            row.update(score_cols(c, s))
            if self.metas[0] is not None:
                row[f"c{c}_meta_buffers"] = int(self.metas[c].buffers[heads[c][1]])
                row[f"c{c}_meta_padding_px"] = int(self.metas[c].padding_px[heads[c][1]])
        for c in range(self.k):
            row.setdefault(f"c{c}_present", 0)
        return row

    def close(self) -> None:
        """Stop the decoders and finish every writer."""
        for it in self.iters:
            it.close()
        if self.video is not None:
            self.video.close()
        if self.debug is not None:
            self.debug.close()
        for w in (self.frames_csv, self.missing_csv, self.meta_csv):
            if w is not None:
                w.close()

    def result(
        self, out: Path, files: dict[str, Path], mode: str, elapsed_s: float
    ) -> StitchResult:
        """The :class:`StitchResult` of this run."""
        rows = self.rows
        return StitchResult(
            out_dir=out,
            files=files,
            copies=tuple(self.paths),
            align=mode,
            frame_number=np.array([r[0] for r in rows], np.int64),
            source_copy=np.array([r[1] for r in rows], np.int16),
            damaged=np.array([r[2] for r in rows], bool).reshape(len(rows), self.k),
            present=np.array([r[3] for r in rows], bool).reshape(len(rows), self.k),
            missing=tuple(self.missing),
            damaged_everywhere=tuple(self.damaged_everywhere),
            elapsed_s=elapsed_s,
            params=self.params,
        )


def _luma(frame) -> np.ndarray:
    plane = frame.planes[0]
    buf = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)
    return buf[:, : frame.width]


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)
