"""Sampling one H.264 file on several cores at once, with exactly the frames of a sequential pass.

A sequential decode keeps one decoder busy: on a two-core machine the second core idles once the
shorter of two files is done, and FFmpeg's frame threads add copying of their own. Here a file is
cut at IDR frames (nothing after an IDR refers to anything before it) into stretches that
single-threaded decoders work through side by side. The frames a sampling pass keeps depend on
the frames before them (at most one every ``min_gap_s``), so the stretches cannot choose them on
their own: :func:`plan_decode` reads the packets first (demuxing only, no decoding) and predicts
every frame the decoder will hand over in the sampling mode (all, reference frames, keyframes,
from each slice's NAL header), so the choice is made once, in order, before any decoding.

Each stretch checks that the decoder handed over exactly the predicted frames; anything else (a
codec other than H.264, a damaged file, an open GOP) makes :func:`decode_selected` return None
and the caller decodes sequentially: the result never depends on which path ran.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

from .stream import SAMPLE_MODES, _luma, _upright

#: NAL unit types of coded slices (1: non-IDR, 5: IDR).
_SLICE, _IDR = 1, 5
#: Shortest stretch a decoder is given (seconds): long enough that opening a file and seeking
#: cost little against the decoding, short enough that the cores finish close together.
MIN_STRETCH_S = 4.0
#: Threads of each stretch's decoder (0: FFmpeg's own choice, frame threads; decoding then
#: runs outside Python's lock, which keeps the stretches moving on a busy machine).
DECODER_THREADS = 0
#: Whether :func:`mtbsync_core.sampling.sample_run` samples in stretches by default. On: on an
#: idle 2-core machine stretches won every run (long_720p 0.634 of a plain decode on the mean of 3
#: runs, against 0.686; 0.546 against 0.622 at load 6-8), with bit-identical samples; under load
#: 20-35 they lost, and they cost 5-8 % more CPU (``python -m bench.bench_align --speed-ab``).
ENABLED = True


@contextlib.contextmanager
def sequential() -> Iterator[None]:
    """Within this block :func:`mtbsync_core.sampling.sample_run` decodes each file with one
    decoder: for callers whose parallelism is already across files (a batch keeps every core busy
    with one run each; stretches on top only make the runs fight for the cores)."""
    global ENABLED
    saved, ENABLED = ENABLED, False
    try:
        yield
    finally:
        ENABLED = saved


@dataclass(frozen=True)
class DecodePlan:
    """Every frame a decoder hands over in one sampling mode, predicted from the packets.

    ``pts`` (sorted) and ``t_s`` (seconds from the first frame, computed as the decoded frames'
    own times are) describe those frames; ``cuts`` are indices into them where a stretch starts at
    an IDR frame (the first is 0). ``packet_pts`` is every packet's pts in decoding order, and
    ``packet_idr`` says which of them start an IDR frame: what :func:`needed_packets` reads to
    leave out the packets no wanted frame needs (empty: every packet of a stretch is decoded).
    """

    pts: np.ndarray
    t_s: np.ndarray
    cuts: tuple[int, ...]
    packet_pts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    packet_idr: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


def _nal_length_size(extradata: bytes | None) -> int | None:
    """Bytes of each NAL length prefix in an avcC (MP4) H.264 stream; None for Annex B or unknown."""
    if not extradata or len(extradata) < 7 or extradata[0] != 1:
        return None
    return (extradata[4] & 3) + 1


def _slice_header(data: memoryview, length_size: int) -> tuple[int, int] | None:
    """(nal_ref_idc, nal_unit_type) of the first coded slice in one packet, or None."""
    pos, n = 0, len(data)
    while pos + length_size < n:
        size = int.from_bytes(data[pos : pos + length_size], "big")
        pos += length_size
        if size <= 0 or pos + size > n:
            return None
        b = data[pos]
        kind = b & 0x1F
        if kind in (_SLICE, _IDR):
            return (b >> 5) & 3, kind
        pos += size
    return None


def plan_decode(
    path: str | os.PathLike[str],
    mode: str,
    start_time_s: float,
    min_stretch_s: float | None = None,
) -> DecodePlan | None:
    """Predict the frames a decoder of ``path`` hands over in ``mode`` (see :data:`SAMPLE_MODES`),
    with cut points at IDR frames at least ``min_stretch_s`` apart (default
    :data:`MIN_STRETCH_S`). ``start_time_s`` is the first
    video frame's time (the zero of ``t_s``). None when the file is not H.264 in MP4/MOV framing
    or a packet cannot be read: the caller then decodes sequentially."""
    if mode not in SAMPLE_MODES:
        raise ValueError(f"mode must be one of {sorted(SAMPLE_MODES)}, got {mode!r}")
    min_stretch_s = MIN_STRETCH_S if min_stretch_s is None else min_stretch_s
    try:
        with av.open(str(path)) as c:
            st = c.streams.video[0]
            if st.codec_context.name != "h264" or st.time_base is None:
                return None
            length_size = _nal_length_size(st.codec_context.extradata)
            if length_size is None:
                return None
            pts, idr, all_pts, all_idr = [], [], [], []
            for pkt in c.demux(st):
                if pkt.size == 0:
                    continue
                if pkt.pts is None:
                    return None
                head = _slice_header(memoryview(pkt), length_size)
                if head is None:
                    return None
                ref_idc, kind = head
                all_pts.append(int(pkt.pts))
                all_idr.append(kind == _IDR)
                if mode == "key" and kind != _IDR:
                    continue
                if mode == "nonref" and ref_idc == 0:
                    continue
                pts.append(int(pkt.pts))
                idr.append(kind == _IDR)
            tb = st.time_base
    except (av.error.FFmpegError, OSError, ValueError):
        return None
    if not pts:
        return None
    order = np.argsort(pts, kind="stable")
    p = np.asarray(pts, np.int64)[order]
    is_idr = np.asarray(idr, bool)[order]
    if len(np.unique(all_pts)) != len(all_pts):
        return None
    # as av.Frame.time computes it, then measured from the first frame as VideoStream does
    t = np.array([float(x) * tb.numerator / tb.denominator - start_time_s for x in p.tolist()])
    cuts = [0]
    for k in np.flatnonzero(is_idr).tolist():
        if k > 0 and t[k] - t[cuts[-1]] >= min_stretch_s:
            cuts.append(k)
    return DecodePlan(p, t, tuple(cuts), np.asarray(all_pts, np.int64), np.asarray(all_idr, bool))


def needed_packets(plan: DecodePlan, wanted_pts: set[int]) -> np.ndarray | None:
    """Which packets (a mask over ``plan.packet_pts``, decoding order) a decoder must be given
    for the frames ``wanted_pts``: each IDR frame's packet and those after it up to the last
    wanted frame before the next IDR.

    Nothing after an IDR frame refers to anything before it, so the packets after the last wanted
    frame of each IDR group (reference frames sampling skips; on GoPro-like files the last P
    frame of each 8-frame group) feed no wanted frame: leaving them out changes no decoded pixel.
    None when the plan has no packet list (then every packet is decoded)."""
    if len(plan.packet_pts) == 0:
        return None
    mask = np.zeros(len(plan.packet_pts), bool)
    start = 0
    for k, (p, is_idr) in enumerate(
        zip(plan.packet_pts.tolist(), plan.packet_idr.tolist(), strict=True)
    ):
        if is_idr:
            start = k
        if p in wanted_pts:
            mask[start : k + 1] = True
            start = k + 1
    return mask


def select_spaced(t_s: np.ndarray, min_gap_s: float) -> np.ndarray:
    """Indices of the frames a sequential pass keeps: the first, then each at least ``min_gap_s``
    after the last kept (exactly :meth:`VideoStream.iter_gray`'s rule)."""
    keep, last = [], -np.inf
    for k, t in enumerate(t_s.tolist()):
        if t - last < min_gap_s:
            continue
        last = t
        keep.append(k)
    return np.asarray(keep, np.int64)


class _Mismatch(Exception):
    """A stretch's decoder handed over other frames than the plan predicted."""


def _decode_stretch(
    path: str,
    mode: str,
    plan: DecodePlan,
    lo: int,
    hi: int,
    wanted: dict[int, Any],
    width: int | None,
    rotation_deg: int,
    work: Callable[[np.ndarray, Any], Any],
    feed: set[int] | None = None,
) -> list[tuple[int, Any]]:
    """Decode the plan's frames ``lo:hi`` (from the IDR at ``lo``); ``work(grey, wanted[pts])``
    for each frame in ``wanted``. ``feed``: the pts of the only packets to decode (see
    :func:`needed_packets`; None: all), the decoder stopping after the last of them. Raises
    :class:`_Mismatch` when the frames differ from the plan."""
    expect = plan.pts[lo:hi]
    if feed is not None:
        expect = np.asarray([p for p in expect.tolist() if p in feed], np.int64)
        if len(expect) == 0:
            return []
    end_pts = int(plan.pts[hi]) if hi < len(plan.pts) else None
    out: list[tuple[int, Any]] = []
    seen = 0
    with av.open(path) as c:
        st = c.streams.video[0]
        if DECODER_THREADS == 1:
            st.thread_type = "SLICE"  # one core per stretch: the stretches are the parallelism
            st.thread_count = 1
        else:
            st.thread_type = "AUTO"
            st.thread_count = DECODER_THREADS
        st.codec_context.options = {"skip_loop_filter": "all"}  # as VideoStream decodes
        st.codec_context.skip_frame = SAMPLE_MODES[mode]
        c.seek(int(expect[0]), stream=st, backward=True)
        for frame in _frames(c, st, feed):
            if frame.pts is None:
                raise _Mismatch("a frame without a time")
            if frame.pts < expect[0]:
                continue
            if end_pts is not None and frame.pts >= end_pts:
                break
            if seen >= len(expect) or frame.pts != expect[seen]:
                raise _Mismatch(
                    f"frame at pts {frame.pts}, plan says {expect[min(seen, len(expect) - 1)]}"
                )
            seen += 1
            arg = wanted.get(int(frame.pts), _NOT_WANTED)
            if arg is not _NOT_WANTED:
                out.append((int(frame.pts), work(_upright(_luma(frame), width, rotation_deg), arg)))
    if seen != len(expect):
        raise _Mismatch(f"{seen} of {len(expect)} planned frames decoded")
    return out


def _frames(
    c: av.container.InputContainer,
    st: av.video.stream.VideoStream,
    feed: set[int] | None,
) -> Iterator[av.VideoFrame]:
    """Decoded frames from the container's position on: with ``feed`` None every packet (to the
    end of the file), else only the packets whose pts is in ``feed`` and, once the last of them
    is in, the frames still inside the decoder."""
    if feed is None:
        yield from c.decode(st)
        return
    left = len(feed)
    for pkt in c.demux(st):
        if pkt.size == 0 or pkt.pts is None or int(pkt.pts) not in feed:
            continue
        yield from st.decode(pkt)
        left -= 1
        if left == 0:
            break
    yield from st.decode(None)


_NOT_WANTED = object()


def decode_selected(
    path: str | os.PathLike[str],
    mode: str,
    plan: DecodePlan,
    wanted: dict[int, Any],
    width: int | None,
    rotation_deg: int,
    work: Callable[[np.ndarray, Any], Any],
    workers: int | None = None,
    on_stretch: Callable[[int], None] | None = None,
) -> list[Any] | None:
    """``work(grey, wanted[pts])`` for every planned frame whose pts is in ``wanted``, the grey
    image ``width`` px wide and upright as :meth:`VideoStream.iter_gray` gives it; results in
    time order. Stretches run on ``workers`` threads (default: the cores this process may use);
    ``on_stretch(frames_done)`` after each. None when a decoder disagreed with the plan (decode
    sequentially instead)."""
    workers = workers or _cores()
    bounds = list(zip(plan.cuts, [*plan.cuts[1:], len(plan.pts)], strict=True))
    feeds = _stretch_feeds(plan, bounds, needed_packets(plan, set(wanted)))
    done = [0]
    lock = threading.Lock()

    def one(k: int) -> list[tuple[int, Any]]:
        res = _decode_stretch(
            str(path), mode, plan, *bounds[k], wanted, width, rotation_deg, work, feeds[k]
        )
        if on_stretch is not None:
            with lock:
                done[0] += len(res)
                on_stretch(done[0])
        return res

    try:
        with ThreadPoolExecutor(max(1, min(workers, len(bounds))), "mtbsync-decode") as pool:
            parts = list(pool.map(one, range(len(bounds))))
    except (_Mismatch, av.error.FFmpegError, OSError):
        return None
    results = [r for part in parts for r in part]
    if [p for p, _ in results] != sorted(wanted):
        return None
    return [r for _, r in results]


def _stretch_feeds(
    plan: DecodePlan, bounds: list[tuple[int, int]], mask: np.ndarray | None
) -> list[set[int] | None]:
    """For each stretch (``bounds``: plan indices, each starting at an IDR frame), the pts of the
    packets to decode: those ``mask`` marks from its IDR packet to the next stretch's."""
    if mask is None:
        return [None] * len(bounds)
    rank = {p: k for k, p in enumerate(plan.packet_pts.tolist())}
    starts = [rank[int(plan.pts[lo])] for lo, _ in bounds] + [len(plan.packet_pts)]
    starts[0] = 0  # the first stretch holds whatever comes before its IDR too
    return [
        set(plan.packet_pts[a:b][mask[a:b]].tolist())
        for a, b in zip(starts[:-1], starts[1:], strict=True)
    ]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_plan(path: str | os.PathLike[str]) -> bool:
    """True for a plain file (a GoPro chapter folder is sampled sequentially)."""
    return Path(path).is_file()
