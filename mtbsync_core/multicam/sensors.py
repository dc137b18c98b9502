"""Gyroscope and motion pair estimates for :func:`.sync.sync_cameras`, and how methods agree."""

from __future__ import annotations

import logging

from ..errors import MulticamError
from ..progress import report
from .solve import PairEstimate

log = logging.getLogger(__name__)


def read_imu_or_none(path: str, strict: bool):
    """The file's GoPro IMU, or None without one (an error naming the file when ``strict``)."""
    from ..errors import GpsParseError
    from ..gps.read import read_imu

    try:
        return read_imu(path)
    except GpsParseError as err:
        if strict:
            raise MulticamError(
                f"'{path}' has no gyroscope telemetry ({err}) so --method imu cannot place it. "
                "Use --method audio, flash or timecode, or give --offset."
            ) from err
        log.info("no IMU in %s: %s", path, err)
        return None


def imu_pairs(paths: list[str], strict: bool, progress) -> list[PairEstimate]:
    """Gyroscope estimates between every two files that carry IMU telemetry."""
    from .imu import estimate_imu_pair

    imus = {}
    for k, p in enumerate(paths):
        got = read_imu_or_none(p, strict)
        if got is not None and (len(got.t_gyro_s) or len(got.t_accl_s)):
            imus[k] = got
        report(progress, "imu", k + 1, len(paths), "files")
    keys = sorted(imus)
    return [
        estimate_imu_pair(imus[a], imus[b], a, b) for x, a in enumerate(keys) for b in keys[x + 1 :]
    ]


def motion_pairs(paths: list[str], wanted: set[int], progress) -> list[PairEstimate]:
    """Motion estimates between every two of the ``wanted`` videos."""
    from .motion import estimate_motion_pair, read_motion

    sigs = {}
    for n, k in enumerate(sorted(wanted)):
        sigs[k] = read_motion(paths[k])
        report(progress, "motion", n + 1, len(wanted), "files")
    keys = sorted(sigs)
    return [
        estimate_motion_pair(sigs[a], sigs[b], a, b)
        for x, a in enumerate(keys)
        for b in keys[x + 1 :]
    ]


def method_agreement(pairs: list[PairEstimate], ids: list[str]) -> list[dict]:
    """Per camera pair placed by more than one method: each method's offset and the spread (ms).

    Offsets are compared at the middle of the evidence's usual range (camera time 0 and 60 s
    differ only by the drift), so the spread is that of the offsets at camera time 0.
    """
    by_pair: dict[tuple[int, int], list[PairEstimate]] = {}
    for p in pairs:
        if p.usable:
            by_pair.setdefault((p.i, p.j), []).append(p)
    out = []
    for (i, j), ps in sorted(by_pair.items()):
        if len({p.method for p in ps}) < 2:
            continue
        offs = {p.method: round(p.offset_s, 6) for p in ps}
        out.append(
            {
                "a": ids[i],
                "b": ids[j],
                "offsets_s": offs,
                "spread_ms": round((max(offs.values()) - min(offs.values())) * 1e3, 3),
            }
        )
    return out
