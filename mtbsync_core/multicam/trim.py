"""Export: each camera trimmed to the common start, frame-exact, audio kept.

The cut frame of a camera is its first frame at or after the common start (within half a frame
period). Where that frame is a keyframe the video is stream-copied (lossless). Otherwise the
smart cut of :mod:`mtbsync_core.video.smartcut` re-encodes only the frames up to the next
keyframe and copies the rest; the result is decoded back to verify it, and anything else is
re-encoded whole (H.264, CRF 16). Audio packets are copied from the cut on, with timestamps kept
relative to the cut frame so sound stays in sync. A new ``multicam.json`` for the trimmed files
is written beside them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..checks import inside_folder, safe_file_stem
from ..errors import MulticamError
from ..fileio import check_writable
from ..progress import ProgressCallback, report
from ..video.smartcut import copy_packets, decodes_ok, mux_reencoded, reencode_head, reencode_span
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
    mode: str  # copy | smart (re-encoded up to the next keyframe, then copied) | reencode | audio-*
    frames_written: int
    frames_reencoded: int = 0


def cut_frames(result: MulticamResult) -> dict[str, tuple[int, PtsTable, float]]:
    """Per usable camera: (index of the first frame at the common start, its PTS table, the cut
    in camera seconds). A sound-only file is cut at the common start itself (index 0)."""
    cams = [c for c in result.cameras if c.status != "failed"]
    tables = {c.camera_id: read_pts_table(c.path, allow_audio_only=True) for c in cams}
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
        t_cam = c.to_camera(start)
        if not tab.has_video:
            out[c.camera_id] = (0, tab, max(0.0, t_cam))
            continue
        half = 0.5 * tab.frame_period_s
        idx = int((tab.t_s >= t_cam - half - 1e-9).argmax())
        out[c.camera_id] = (idx, tab, float(tab.t_s[idx]))
    return out


def _trim_audio(src: str, dst: str, cut_s: float) -> str:
    """A sound-only file from ``cut_s`` on: PCM cut to the sample (decoded and re-written, which
    is lossless), compressed audio by copying packets from the cut (their times kept)."""
    with open_media(src) as ic, av.open(dst, "w") as oc:
        st = ic.streams.audio[0]
        if not st.codec_context.name.startswith("pcm_"):
            oa = oc.add_stream_from_template(st)
            shift = round(Fraction(cut_s) / st.time_base)
            copy_packets(ic, st, oa, oc, shift)
            return "audio-copy"
        oa = oc.add_stream(st.codec_context.name, rate=st.rate)
        oa.layout = st.layout.name
        first = round(cut_s * st.rate)
        pos = written = 0
        for fr in ic.decode(st):
            arr, n = fr.to_ndarray(), fr.samples
            skip = min(n, max(0, first - pos))
            pos += n
            if skip == n:
                continue
            ch = 1 if fr.format.is_planar else arr.shape[1] // n
            out = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(arr[:, skip * ch :]),
                format=fr.format.name,
                layout=fr.layout.name,
            )
            out.sample_rate, out.pts = fr.sample_rate, written
            written += n - skip
            for pkt in oa.encode(out):
                oc.mux(pkt)
        for pkt in oa.encode():
            oc.mux(pkt)
    return "audio-pcm"


def _copy_streams(
    src: str,
    dst: str,
    tab: PtsTable,
    idx: int,
    start_idx: int | None = None,
    head: list[av.Packet] | None = None,
) -> int:
    """Copy video from keyframe ``start_idx`` (default ``idx``) after the ``head`` packets, and audio.

    Timestamps are rebased so frame ``idx`` is at 0; head packets get decode times that keep the
    camera's own decode delay, so the track's DTS stays increasing across the splice.
    """
    cut = int(tab.pts[idx])
    first = int(tab.pts[idx if start_idx is None else start_idx])
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
                if not started and pkt.pts == first and pkt.is_keyframe:
                    started = True
                    delay = pkt.pts - (pkt.dts if pkt.dts is not None else pkt.pts)
                    n += mux_reencoded(oc, ov, head or [], cut, delay, tab.time_base)
                if not started or pkt.pts < first:
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


def _smart_cut(src: str, dst: str, tab: PtsTable, idx: int) -> int | None:
    """Re-encode only up to the next keyframe, copy the rest; None when that cannot be done."""
    later = np.flatnonzero(tab.keyframe[idx + 1 :])
    if len(later) == 0:
        return None
    key_idx = idx + 1 + int(later[0])
    head = reencode_head(src, tab, idx, key_idx)
    if head is None:
        return None
    n = _copy_streams(src, dst, tab, idx, key_idx, head)
    if n != len(tab.pts) - idx or not decodes_ok(dst, key_idx - idx + 2):
        log.warning("smart cut of %s did not verify; re-encoding the whole video", src)
        return None
    return key_idx - idx


def _write_one(tab: PtsTable, idx: int, tmp: str) -> tuple[str, int, int]:
    """(mode, frames written, frames re-encoded) after writing camera ``tab`` cut at ``idx``."""
    if tab.keyframe[idx]:
        return "copy", _copy_streams(tab.path, tmp, tab, idx), 0
    head = _smart_cut(tab.path, tmp, tab, idx)
    if head is not None:
        return "smart", len(tab.pts) - idx, head
    n = reencode_span(tab.path, tmp, tab, idx)
    return "reencode", n, n


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
    targets = _target_paths(out, {cid: tab.path for cid, (_, tab, _) in cuts.items()})
    for p in [*targets.values(), out / "multicam.json"]:
        check_writable(p, force)
    out.mkdir(parents=True, exist_ok=True)
    done, cams = [], []
    for n, (cid, (idx, tab, t_cut)) in enumerate(cuts.items()):
        dst = targets[cid]
        tmp = dst.with_name(f".{dst.name}.part{dst.suffix}")
        try:
            if tab.has_video:
                mode, frames, head = _write_one(tab, idx, str(tmp))
            else:
                mode, frames, head = _trim_audio(tab.path, str(tmp), t_cut), 0, 0
            os.replace(tmp, dst)
        finally:
            if tmp.exists():
                tmp.unlink()
        done.append(TrimmedCamera(cid, str(dst), idx, t_cut, mode, frames, head))
        report(progress, "trim", n + 1, len(cuts), "files")
    for c in result.cameras:
        if c.camera_id in cuts:
            idx, tab, t0 = cuts[c.camera_id]
            cams.append(
                replace(
                    c,
                    path=str(targets[c.camera_id]),
                    offset_s=c.to_master(t0),
                    duration_s=tab.duration_s - t0,
                    frame_count=len(tab.t_s) - idx if tab.has_video else 0,
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


def _target_paths(out: Path, sources: dict[str, str]) -> dict[str, Path]:
    """One file per camera inside ``out``, named from its id made safe; refuses clashes."""
    targets: dict[str, Path] = {}
    seen: dict[str, str] = {}
    for cid, src in sources.items():
        suffix = safe_file_stem(Path(src).suffix, "") if Path(src).suffix else ""
        name = safe_file_stem(cid, "camera") + ("." + suffix.lstrip(".") if suffix else ".mp4")
        if name.lower() in seen or name.lower() == "multicam.json":
            raise MulticamError(
                f"Cameras {seen.get(name.lower(), 'multicam')!r} and {cid!r} would both be written to "
                f"'{name}'. Give them distinct camera ids in multicam.json."
            )
        seen[name.lower()] = cid
        targets[cid] = inside_folder(out / name, out)
    return targets
