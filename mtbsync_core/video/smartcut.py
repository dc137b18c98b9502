"""Frame-exact cuts of H.264 without re-encoding a whole file (the "smart cut").

Between keyframes packets are stream-copied; only the frames from a cut to the next keyframe
(or from the last keyframe to a cut) are re-encoded (CRF 10, ``bf=0``) with their own SPS/PPS
in-band under ids the camera does not use (:mod:`.h264`), so one MP4 track holds both. What the
smart cut cannot handle (not 8-bit 4:2:0 H.264 in MP4) is re-encoded whole (H.264 CRF 16).
Multi-camera trim and highlight clips both cut through here.
"""

from __future__ import annotations

from fractions import Fraction

import av

from .h264 import annexb_to_avcc, free_id, parse_avcc
from .pts import PtsTable, open_media


def mux_reencoded(oc, ov, head: list, cut: int, delay: int, time_base: Fraction) -> int:
    """Mux re-encoded packets re-timed by ``cut`` with decode times ``delay`` before them.

    ``time_base`` is the source stream's: the packets from ``reencode_head`` carry a time base
    read from a stream whose container was already closed, so it is set again here, before and
    after the stream (PyAV rescales a packet's times when its stream changes).
    """
    for pkt in head:
        pts = pkt.pts
        pkt.time_base = time_base
        pkt.stream = ov
        pkt.time_base = time_base
        pkt.pts, pkt.dts = pts - cut, pts - delay - cut
        oc.mux(pkt)
    return len(head)


def reencode_head(src: str, tab: PtsTable, idx: int, key_idx: int) -> list[av.Packet] | None:
    """Frames ``idx`` .. ``key_idx - 1`` re-encoded as AVCC packets with their own in-band
    parameter sets, or None when the stream is not 8-bit 4:2:0 H.264 in MP4 (then re-encode)."""
    with open_media(src) as ic:
        vs = ic.streams.video[0]
        cc = vs.codec_context
        cfg = parse_avcc(bytes(cc.extradata or b"")) if cc.name == "h264" else None
        if cfg is None or cc.pix_fmt not in ("yuv420p", "yuvj420p"):
            return None
        enc = av.CodecContext.create("libx264", "w")
        enc.width, enc.height, enc.pix_fmt, enc.time_base = (
            cc.width,
            cc.height,
            cc.pix_fmt,
            vs.time_base,
        )
        enc.framerate = vs.average_rate or Fraction(30)
        profile = (cc.profile or "high").lower()
        enc.options = {
            "crf": "10",
            "preset": "veryfast",
            "bf": "0",
            "g": "100000",
            "profile": "baseline" if "baseline" in profile else profile.split()[0],
            "x264-params": f"sps-id={free_id(cfg)}:repeat-headers=1:scenecut=0",
        }
        enc.open()
        cut, key = int(tab.pts[idx]), int(tab.pts[key_idx])
        ic.seek(cut, stream=vs, backward=True, any_frame=False)
        raw: list[av.Packet] = []
        for fr in ic.decode(vs):
            if fr.pts is None or fr.pts < cut:
                continue
            if fr.pts >= key:
                break
            fr.pict_type = av.video.frame.PictureType.NONE
            raw += enc.encode(fr)
        raw += enc.encode(None)
    out = []
    for pkt in raw:
        q = av.Packet(annexb_to_avcc(bytes(pkt), cfg.length_size))
        # tab.time_base, not the stream's: the container is closed here and the stream's
        # time base can read back as garbage (a mux then fails on non-monotonic DTS)
        q.pts, q.time_base, q.is_keyframe = pkt.pts, tab.time_base, pkt.is_keyframe
        out.append(q)
    return out if len(out) == key_idx - idx else None


def decodes_ok(path: str, n: int) -> bool:
    """True when the first ``n`` frames of ``path`` decode without error."""
    try:
        with av.open(path) as c:
            got = sum(1 for _, _ in zip(range(n), c.decode(video=0), strict=False))
    except av.error.FFmpegError:
        return False
    return got == n


def reencode_span(src: str, dst: str, tab: PtsTable, idx: int, end_idx: int | None = None) -> int:
    """Frames ``idx`` .. ``end_idx - 1`` (None: to the end) re-encoded (H.264 CRF 16) from PTS 0,
    audio over the same span copied; the number of frames written."""
    cut = int(tab.pts[idx])
    end = int(tab.pts[end_idx]) if end_idx is not None and end_idx < len(tab.pts) else None
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
            if end is not None and fr.pts >= end:
                break
            out = fr.reformat(format="yuv420p")
            out.pts, out.time_base = fr.pts - cut, vs.time_base
            for p in ov.encode(out):
                oc.mux(p)
            n += 1
        for p in ov.encode():
            oc.mux(p)
        if aud is not None:
            shift = round(Fraction(cut) * vs.time_base / aud.time_base)
            stop = None if end is None else round(Fraction(end) * vs.time_base / aud.time_base)
            ic.seek(0)
            copy_packets(ic, aud, oa, oc, shift, stop)
    return n


def copy_packets(ic, src, dst, oc, shift: int, stop: int | None = None) -> None:
    """Mux ``src``'s packets from ``shift`` up to ``stop`` (in its time base; None: the end) into
    ``dst``, re-timed to start at 0."""
    for pkt in ic.demux(src):
        if pkt.pts is None or pkt.size == 0 or pkt.pts < shift:
            continue
        if stop is not None and pkt.pts >= stop:
            continue
        pkt.pts -= shift
        if pkt.dts is not None:
            pkt.dts -= shift
        pkt.stream = dst
        oc.mux(pkt)
