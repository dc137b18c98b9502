"""Export: each camera trimmed to the common start, frame-exact, audio kept.

The cut frame of a camera is its first frame at or after the common start (within half a frame
period). Where that frame is a keyframe the video is stream-copied (lossless); otherwise the
video is re-encoded from the cut (H.264, CRF 16). Audio packets are copied from the cut on, with
timestamps kept relative to the cut frame so sound stays in sync. A new ``multicam.json`` for
the trimmed files is written beside them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av

from ..errors import MulticamError
from ..fileio import check_writable
from ..progress import ProgressCallback, report
from .io import MulticamResult, write_multicam
from .media import PtsTable, open_media, read_pts_table

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrimmedCamera:
    """What was written for one camera."""

    camera_id: str
    path: str
    cut_frame_idx: int
    cut_t_cam_s: float
    mode: str  # copy | reencode
    frames_written: int


def cut_frames(result: MulticamResult) -> dict[str, tuple[int, PtsTable]]:
    """Per usable camera: (index of the first frame at the common start, its PTS table)."""
    cams = [c for c in result.cameras if c.status != "failed"]
    tables = {c.camera_id: read_pts_table(c.path) for c in cams}
    start = max(c.offset_s for c in cams)
    end = min(c.to_master(tables[c.camera_id].duration_s) for c in cams)
    if end <= start:
        raise MulticamError(
            f"The cameras do not overlap (common span {start:.3f}..{end:.3f} s on the "
            "master clock); nothing to trim. Check the sync or the files."
        )
    out = {}
    for c in cams:
        tab = tables[c.camera_id]
        half = 0.5 * tab.frame_period_s
        t_cam = c.to_camera(start)
        idx = int((tab.t_s >= t_cam - half - 1e-9).argmax())
        out[c.camera_id] = (idx, tab)
    return out


def _copy_streams(src: str, dst: str, tab: PtsTable, idx: int) -> int:
    cut = int(tab.pts[idx])
    with open_media(src) as ic, av.open(dst, "w") as oc:
        vs = ic.streams.video[0]
        ov = oc.add_stream_from_template(vs)
        aud = ic.streams.audio[0] if ic.streams.audio else None
        oa = oc.add_stream_from_template(aud) if aud is not None else None
        cut_s = Fraction(cut) * vs.time_base
        started, n = False, 0
        for pkt in ic.demux([s for s in (vs, aud) if s is not None]):
            if pkt.pts is None or pkt.size == 0:
                continue
            if pkt.stream is vs:
                if not started and pkt.pts == cut and pkt.is_keyframe:
                    started = True
                if not started or pkt.pts < cut:
                    continue
                shift, pkt.stream = cut, ov
                n += 1
            else:
                shift = round(cut_s / aud.time_base)
                if pkt.pts < shift:
                    continue
                pkt.stream = oa
            pkt.pts -= shift
            if pkt.dts is not None:
                pkt.dts -= shift
            oc.mux(pkt)
    return n


def _reencode(src: str, dst: str, tab: PtsTable, idx: int) -> int:
    cut = int(tab.pts[idx])
    with open_media(src) as ic, av.open(dst, "w") as oc:
        vs = ic.streams.video[0]
        rate = vs.average_rate or Fraction(30)
        ov = oc.add_stream("libx264", rate=rate)
        ov.width, ov.height, ov.pix_fmt = tab.width, tab.height, "yuv420p"
        ov.codec_context.time_base = vs.time_base
        ov.options = {"crf": "16", "preset": "veryfast"}
        aud = ic.streams.audio[0] if ic.streams.audio else None
        oa = oc.add_stream_from_template(aud) if aud is not None else None
        n = 0
        ic.seek(cut, stream=vs, backward=True, any_frame=False)
        for fr in ic.decode(vs):
            if fr.pts is None or fr.pts < cut:
                continue
            out = fr.reformat(format="yuv420p")
            out.pts, out.time_base = fr.pts - cut, vs.time_base
            for p in ov.encode(out):
                oc.mux(p)
            n += 1
        for p in ov.encode():
            oc.mux(p)
        if aud is not None:
            shift = round(Fraction(cut) * vs.time_base / aud.time_base)
            ic.seek(0)
            for pkt in ic.demux(aud):
                if pkt.pts is None or pkt.size == 0 or pkt.pts < shift:
                    continue
                pkt.pts -= shift
                if pkt.dts is not None:
                    pkt.dts -= shift
                pkt.stream = oa
                oc.mux(pkt)
    return n


def trim_cameras(
    result: MulticamResult,
    out_dir: str | os.PathLike[str],
    force: bool = False,
    progress: ProgressCallback | None = None,
) -> tuple[MulticamResult, list[TrimmedCamera]]:
    """Write every usable camera trimmed to the common start into ``out_dir``.

    Returns the result for the trimmed files (also written as ``out_dir/multicam.json``) and what
    was done per camera. Refuses existing outputs unless ``force``.
    """
    out = Path(out_dir)
    cuts = cut_frames(result)
    targets = {
        cid: out / f"{cid}{Path(tab.path).suffix or '.mp4'}" for cid, (_, tab) in cuts.items()
    }
    for p in [*targets.values(), out / "multicam.json"]:
        check_writable(p, force)
    out.mkdir(parents=True, exist_ok=True)
    done, cams = [], []
    for n, (cid, (idx, tab)) in enumerate(cuts.items()):
        dst = targets[cid]
        tmp = dst.with_name(f".{dst.name}.part{dst.suffix}")
        copy = bool(tab.keyframe[idx])
        try:
            frames = (_copy_streams if copy else _reencode)(tab.path, str(tmp), tab, idx)
            os.replace(tmp, dst)
        finally:
            if tmp.exists():
                tmp.unlink()
        done.append(
            TrimmedCamera(
                cid, str(dst), idx, float(tab.t_s[idx]), "copy" if copy else "reencode", frames
            )
        )
        report(progress, "trim", n + 1, len(cuts), "files")
    for c in result.cameras:
        if c.camera_id in cuts:
            idx, tab = cuts[c.camera_id]
            t0 = float(tab.t_s[idx])
            cams.append(
                replace(
                    c,
                    path=str(targets[c.camera_id]),
                    offset_s=c.to_master(t0),
                    duration_s=tab.duration_s - t0,
                    frame_count=len(tab.t_s) - idx,
                )
            )
    trimmed = MulticamResult(
        tuple(cams),
        result.master_id,
        result.method,
        {**result.params, "trimmed_from": {t.camera_id: t.cut_frame_idx for t in done}},
    )
    write_multicam(out / "multicam.json", trimmed, force=force)
    return trimmed, done
