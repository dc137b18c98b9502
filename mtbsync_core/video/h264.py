"""Just enough H.264 bitstream handling for a smart cut: avcC parameter-set ids, Annex B -> AVCC.

A smart cut re-encodes only the frames from the cut to the next keyframe and stream-copies the
rest. The re-encoded head carries its own SPS/PPS in-band under ids the camera does not use, so
one MP4 track can hold both parts and a standard decoder switches parameter sets per slice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_START = re.compile(b"\x00\x00\x01")


@dataclass(frozen=True)
class AvcConfig:
    """What a smart cut needs from an ``avcC`` record."""

    length_size: int  # bytes of each NAL length prefix
    sps_ids: frozenset[int]
    pps_ids: frozenset[int]


def _ue(data: bytes, bit: int) -> tuple[int, int]:
    """Exp-Golomb unsigned value starting at ``bit``; returns (value, next bit)."""
    zeros = 0
    while not (data[(bit + zeros) // 8] >> (7 - (bit + zeros) % 8)) & 1:
        zeros += 1
    bit += zeros + 1
    value = 0
    for _ in range(zeros):
        value = (value << 1) | ((data[bit // 8] >> (7 - bit % 8)) & 1)
        bit += 1
    return (1 << zeros) - 1 + value, bit


def parse_avcc(extradata: bytes) -> AvcConfig | None:
    """Parse an ``avcC`` record (None when ``extradata`` is not one, e.g. Annex B)."""
    if len(extradata) < 7 or extradata[0] != 1:
        return None
    try:
        length_size = (extradata[4] & 3) + 1
        pos, sps, pps = 6, set(), set()
        for _ in range(extradata[5] & 0x1F):
            n = int.from_bytes(extradata[pos : pos + 2], "big")
            sps.add(
                _ue(extradata[pos + 2 : pos + 2 + n], 8 + 24)[0]
            )  # after header, profile, flags, level
            pos += 2 + n
        for _ in range(extradata[pos]):
            n = int.from_bytes(extradata[pos + 1 : pos + 3], "big")
            pps.add(_ue(extradata[pos + 3 : pos + 3 + n], 8)[0])
            pos += 2 + n
        return AvcConfig(length_size, frozenset(sps), frozenset(pps))
    except IndexError:
        return None


def annexb_to_avcc(data: bytes, length_size: int = 4) -> bytes:
    """Replace Annex B start codes by ``length_size``-byte NAL lengths."""
    starts = [m.end() for m in _START.finditer(data)]
    out = bytearray()
    for k, s in enumerate(starts):
        e = starts[k + 1] - 3 if k + 1 < len(starts) else len(data)
        nal = data[s:e]
        if k + 1 < len(starts):
            nal = nal.rstrip(b"\x00")  # the zero byte of a 4-byte start code
        out += len(nal).to_bytes(length_size, "big") + nal
    return bytes(out)


def nal_types(avcc: bytes, length_size: int = 4) -> list[int]:
    """NAL unit types in an AVCC packet (for checks and tests)."""
    out, i = [], 0
    while i + length_size < len(avcc):
        n = int.from_bytes(avcc[i : i + length_size], "big")
        out.append(avcc[i + length_size] & 0x1F)
        i += length_size + n
    return out


def free_id(cfg: AvcConfig) -> int:
    """A parameter-set id used by neither the camera's SPS nor its PPS."""
    return next(k for k in range(1, 32) if k not in cfg.sps_ids and k not in cfg.pps_ids)
