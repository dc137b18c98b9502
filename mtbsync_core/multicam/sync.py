"""``sync_cameras``: put N simultaneous cameras on the timeline of one master camera.

Order of evidence for ``method="auto"``: sound (whitened windowed correlation with a drift fit,
or a few shared sharp sounds) and, for files that carry GoPro telemetry, the gyroscopes; then a
flash / LED cue for cameras those could not place, then start timecode. Motion (frame
differences and shake) runs only when asked for (``method="motion"``). Where several methods
place the same pair, ``params["agreement"]`` says how far apart their offsets are. Manual
offsets (``manual_offsets``) override whatever was found for the cameras they name.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path

import numpy as np

from ..errors import AudioMissingError, MulticamError
from ..progress import ProgressCallback, report
from .audio import AudioParams, estimate_audio_pair
from .flash import FlashEvents, estimate_flash_pair, read_flash_events
from .io import METHODS, CameraSync, MulticamResult
from .media import AudioTrack, PtsTable, decode_audio, read_pts_table
from .sensors import imu_pairs, method_agreement, motion_pairs
from .solve import PairEstimate, Solution, solve_joint
from .timecode import estimate_clock_pair, read_start_clocks

log = logging.getLogger(__name__)


def default_camera_ids(paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    """File stems, made unique with ``-2``, ``-3`` suffixes."""
    out: list[str] = []
    for p in paths:
        base, k = Path(p).stem, 2
        name = base
        while name in out:
            name, k = f"{base}-{k}", k + 1
        out.append(name)
    return out


def _master_index(master: str | None, ids: list[str], paths: list[str]) -> int:
    if master is None:
        return 0
    for k, (cid, p) in enumerate(zip(ids, paths, strict=True)):
        if master in (cid, p, Path(p).name):
            return k
    raise MulticamError(
        f"--master {master!r} is not one of the cameras {ids}. Name a camera id or path."
    )


def _reached(n: int, pairs: list[PairEstimate], master: int) -> set[int]:
    seen, grown = {master}, True
    while grown:
        grown = False
        for p in pairs:
            if p.usable and (p.i in seen) != (p.j in seen):
                seen |= {p.i, p.j}
                grown = True
    return seen


def _decode_or_none(path: str, rate_hz: int, strict: bool) -> AudioTrack | None:
    try:
        return decode_audio(path, rate_hz)
    except AudioMissingError:
        if strict:
            raise
        return None


def _audio_pairs(
    paths: list[str],
    tables: list[PtsTable],
    strict: bool,
    rate_hz: int,
    prm: AudioParams,
    progress: ProgressCallback | None,
    executor: Executor | None = None,
) -> list[PairEstimate]:
    keys = [k for k in range(len(paths)) if strict or tables[k].has_audio]
    run = executor.map if executor is not None else map
    tracks: dict[int, AudioTrack] = {}
    got = run(
        _decode_or_none, [paths[k] for k in keys], [rate_hz] * len(keys), [strict] * len(keys)
    )
    for n, (k, track) in enumerate(zip(keys, got, strict=True)):
        if track is not None:
            tracks[k] = track
        report(progress, "audio", n + 1, len(keys), "files")
    keys = sorted(tracks)
    todo = [(a, b) for x, a in enumerate(keys) for b in keys[x + 1 :]]
    out = []
    ests = run(
        estimate_audio_pair,
        [tracks[a] for a, _ in todo],
        [tracks[b] for _, b in todo],
        [a for a, _ in todo],
        [b for _, b in todo],
        [prm] * len(todo),
    )
    for n, est in enumerate(ests):
        out.append(est)
        report(progress, "audio pairs", n + 1, len(todo), "pairs")
    return out


def _flash_pairs(paths: list[str], wanted: set[int], flash: tuple, progress) -> list[PairEstimate]:
    roi, exposure, ids = flash
    events: dict[int, FlashEvents] = {}
    for k in sorted(wanted):
        box = roi.get(ids[k]) if isinstance(roi, dict) else roi
        events[k] = read_flash_events(paths[k], box, exposure)
        report(progress, "flash", len(events), len(wanted), "files")
    keys = sorted(events)
    return [
        estimate_flash_pair(events[a], events[b], a, b)
        for x, a in enumerate(keys)
        for b in keys[x + 1 :]
    ]


def _clock_pairs(paths: list[str], tables: list[PtsTable], wanted: set[int]) -> list[PairEstimate]:
    clocks = {k: read_start_clocks(paths[k], tables[k].fps) for k in sorted(wanted)}
    keys = sorted(clocks)
    return [
        estimate_clock_pair(clocks[a], clocks[b], a, b)
        for x, a in enumerate(keys)
        for b in keys[x + 1 :]
    ]


def clock_check(
    paths: list[str], tables: list[PtsTable], ids: list[str], master: int, sol: Solution
) -> dict[str, dict]:
    """Start-clock offsets against the master beside the found ones (a sanity check, seconds)."""
    ref = read_start_clocks(paths[master], tables[master].fps)
    out = {}
    for k in range(len(paths)):
        if k == master:
            continue
        est = estimate_clock_pair(ref, read_start_clocks(paths[k], tables[k].fps), master, k)
        if est.status == "failed":
            continue
        found = float(sol.offset_s[k])
        out[ids[k]] = {
            "clock": est.extra.get("clock"),
            "clock_offset_s": round(est.offset_s, 4),
            "difference_s": None if np.isnan(found) else round(found - est.offset_s, 4),
        }
    return out


def _estimate(
    method: str,
    paths: list[str],
    tables: list[PtsTable],
    master: int,
    flash: tuple,
    rate_hz: int,
    prm: AudioParams,
    progress,
    executor: Executor | None = None,
) -> list[PairEstimate]:
    n, every = len(paths), set(range(len(paths)))
    pairs: list[PairEstimate] = []
    if method in ("audio", "auto"):
        pairs += _audio_pairs(paths, tables, method == "audio", rate_hz, prm, progress, executor)
    if method in ("imu", "auto"):
        pairs += imu_pairs(paths, method == "imu", progress)
    if method == "flash" or (method == "auto" and len(_reached(n, pairs, master)) < n):
        missing = every - _reached(n, pairs, master)
        wanted = every if method == "flash" else missing | {master} | _reached(n, pairs, master)
        pairs += _flash_pairs(paths, {k for k in wanted if tables[k].has_video}, flash, progress)
    if method == "motion":  # not in auto: see the motion module's docstring
        videos = {k for k in every if tables[k].has_video}
        pairs += motion_pairs(paths, videos, progress)
    if method == "timecode" or (method == "auto" and len(_reached(n, pairs, master)) < n):
        pairs += _clock_pairs(paths, tables, every)
    return pairs


def sync_cameras(
    paths: Sequence[str | os.PathLike[str]],
    *,
    master: str | None = None,
    method: str = "auto",
    manual_offsets: dict[str, float] | None = None,
    camera_ids: Sequence[str] | None = None,
    roi: tuple[int, int, int, int] | dict[str, tuple[int, int, int, int]] | None = None,
    flash_exposure: float | None = 1.0,
    audio_rate_hz: int = 8000,
    audio_params: AudioParams | None = None,
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> MulticamResult:
    """Offsets and drifts of every camera against the master (see :mod:`.io` for the clock model).

    ``method``: ``auto`` (sound and gyroscopes, then flash, then start clocks),
    ``audio``, ``imu`` (GoPro gyroscopes), ``motion`` (silent cameras: frame differences and
    shake), ``flash``, ``timecode`` or ``manual``; ``manual_offsets`` (camera id -> master seconds) override any method. Cameras
    are named by file stem unless ``camera_ids`` are given. ``roi`` (x, y, w, h) limits the flash
    search to a box (one for every camera, or a dict camera id -> box; a camera left out of
    the dict is searched whole); ``flash_exposure`` is the share of the frame period the shutters are open
    (None: estimate it from the events). ``executor`` (any
    ``concurrent.futures`` executor, e.g. a process pool or Dask's) decodes the cameras' sound
    and runs the pair estimates in parallel.
    """
    paths_s = [os.fspath(p) for p in paths]
    ids = list(camera_ids) if camera_ids else default_camera_ids(paths_s)
    manual = dict(manual_offsets or {})
    _check_inputs(paths_s, method, ids, manual)
    m = _master_index(master, ids, paths_s)
    if method == "manual":
        missing = [ids[k] for k in range(len(ids)) if k != m and ids[k] not in manual]
        if missing:
            raise MulticamError(
                f"--method manual needs --offset for every camera but the master; "
                f"missing {missing}. Example: --offset {missing[0]}=1.25"
            )
    tables = [read_pts_table(p, allow_audio_only=True) for p in paths_s]
    pairs: list[PairEstimate] = []
    if method != "manual":
        prm = audio_params or AudioParams()
        flash = (roi, flash_exposure, ids)
        pairs = _estimate(method, paths_s, tables, m, flash, audio_rate_hz, prm, progress, executor)
    sol = solve_joint(len(paths_s), pairs, m)
    cams = [_camera(k, m, ids, tables, pairs, sol, manual) for k in range(len(paths_s))]
    params = _params(method, audio_rate_hz, roi, flash_exposure, sol, ids, pairs)
    params["clock_check"] = clock_check(paths_s, tables, ids, m, sol)
    params["agreement"] = method_agreement(pairs, ids)
    return MulticamResult(tuple(_check_overlap(cams, m)), ids[m], method, params)


def _params(
    method: str,
    audio_rate_hz: int,
    roi,
    flash_exposure,
    sol: Solution,
    ids: list[str],
    pairs: list[PairEstimate],
) -> dict:
    """Provenance for ``multicam.json``: settings, every pair estimate, the cycle check."""
    return {
        "method": method,
        "audio_rate_hz": audio_rate_hz,
        "roi": ({k: list(v) for k, v in roi.items()} if isinstance(roi, dict) else list(roi))
        if roi
        else None,
        "flash_exposure": flash_exposure,
        "dropped_pairs": [list(p) for p in sol.dropped],
        "pair_errors_s": {
            f"{ids[i]}~{ids[j]}": round(e, 6) for (i, j), e in sol.pair_error_s.items()
        },
        "pairs": [_pair_summary(p, ids) for p in pairs],
    }


def _check_inputs(paths: list[str], method: str, ids: list[str], manual: dict[str, float]) -> None:
    if len(paths) < 2:
        raise MulticamError(
            f"Multi-camera sync needs at least two cameras, got {len(paths)} "
            f"({paths}). Pass two or more video files."
        )
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if len(ids) != len(paths) or len(set(ids)) != len(ids):
        raise ValueError(f"camera_ids must be {len(paths)} distinct names, got {ids}")
    unknown = sorted(set(manual) - set(ids))
    if unknown:
        raise MulticamError(f"--offset names unknown cameras {unknown}; cameras are {ids}.")


def _pair_summary(p: PairEstimate, ids: list[str]) -> dict:
    return {
        "a": ids[p.i],
        "b": ids[p.j],
        "method": p.method,
        "status": p.status,
        "offset_s": round(p.offset_s, 6),
        "drift_ppm": round(p.drift_ppm, 3),
        "confidence": round(p.confidence, 3),
        "inliers": p.n_inliers,
        "windows": p.n_windows,
        "message": p.message,
    }


def _notes(t: PtsTable) -> str:
    """What the user should know about a file's timing."""
    out = " Variable frame rate: frame times are taken from PTS." if t.is_vfr else ""
    if not t.has_video:
        out += " Sound only (no pictures): its time is the audio's own."
    if t.dropped_frames:
        out += f" {t.dropped_frames} dropped frame(s): frame times are taken from PTS."
    return out


def _camera(
    k: int,
    m: int,
    ids: list[str],
    tables: list[PtsTable],
    pairs: list[PairEstimate],
    sol: Solution,
    manual: dict[str, float],
) -> CameraSync:
    """Camera ``k``'s entry: manual, master, placed by the joint solve, or why not."""
    t, notes = tables[k], _notes(tables[k])
    base = {
        "path": t.path,
        "camera_id": ids[k],
        "fps": round(t.fps, 6),
        "is_vfr": t.is_vfr,
        "duration_s": t.duration_s,
        "frame_count": len(t.t_s) if t.has_video else 0,
    }
    if ids[k] in manual or k == m:
        how = (
            ("manual", float(manual[ids[k]]), "manual offset")
            if ids[k] in manual
            else ("master", 0.0, "master camera")
        )
        return CameraSync(
            offset_s=how[1],
            drift_ppm=0.0,
            confidence=1.0,
            method=how[0],
            status="ok",
            message=how[2] + notes,
            **base,
        )
    mine = [p for p in pairs if k in (p.i, p.j)]
    if not np.isnan(sol.offset_s[k]):
        best = max([p for p in mine if p.usable] or mine, key=lambda p: p.confidence)
        return CameraSync(
            offset_s=float(sol.offset_s[k]),
            drift_ppm=float(sol.drift_ppm[k]),
            confidence=round(best.confidence, 4),
            method=best.method,
            status="ok",
            residuals_s=best.residuals_s,
            message=_evidence(best, mine) + notes,
            **base,
        )
    direct = [p for p in mine if {p.i, p.j} == {k, m} and p.status == "ambiguous"]
    if direct:
        return _ambiguous(max(direct, key=lambda q: q.confidence), k, mine, base, notes)
    why = "; ".join(f"{p.method}: {p.message}" for p in mine if p.message) or "no evidence"
    return CameraSync(
        offset_s=0.0,
        drift_ppm=0.0,
        confidence=0.0,
        method="none",
        status="failed",
        message=f"could not place this camera: {why}. {_next_step(mine, ids[k])}{notes}",
        **base,
    )


def _next_step(mine: list[PairEstimate], camera_id: str) -> str:
    """What to try next, never a method that just failed."""
    tried = {p.method for p in mine}
    untried = [m for m in ("audio", "imu", "flash", "motion", "timecode") if m not in tried]
    box = "a box (--roi X,Y,W,H) around the light" if "flash" in tried else ""
    options = [f"--method {m}" for m in untried] + ([box] if box else [])
    first = f"Try {' or '.join(options)}, or " if options else "Give "
    return f"{first}--offset {camera_id}=SECONDS."


def _evidence(best: PairEstimate, mine: list[PairEstimate]) -> str:
    """Which method placed the camera, and how the other methods on the same pair agree."""
    out = f"placed by {best.method}" + (f": {best.message}" if best.message else "")
    same = [p for p in mine if p is not best and (p.i, p.j) == (best.i, best.j)]
    for p in same:
        if p.usable:
            out += f"; {p.method} agrees within {abs(p.offset_s - best.offset_s) * 1e3:.2f} ms"
        else:
            out += f"; {p.method} {p.status}"
    return out


def _ambiguous(
    p: PairEstimate, k: int, mine: list[PairEstimate], base: dict, notes: str
) -> CameraSync:
    """Camera ``k`` at the best doubtful estimate against the master, with every method's reason."""
    off, rate = p.offset_s, 1 + p.drift_ppm * 1e-6
    if p.i == k:  # t_k = off + rate t_m  ->  t_m = -off/rate + t_k/rate
        off, rate = -off / rate, 1 / rate
    why = "; ".join(f"{q.method}: {q.message}" for q in [p] + [q for q in mine if q is not p])
    return CameraSync(
        offset_s=float(off),
        drift_ppm=float((rate - 1) * 1e6),
        confidence=p.confidence,
        method=p.method,
        status="ambiguous",
        residuals_s=p.residuals_s,
        message=why + notes,
        **base,
    )


def _check_overlap(cams: list[CameraSync], m: int) -> list[CameraSync]:
    ref = cams[m]
    out = []
    for c in cams:
        start, end = (
            max(ref.offset_s, c.offset_s),
            min(ref.to_master(ref.duration_s), c.to_master(c.duration_s)),
        )
        if c.status == "ok" and end <= start:
            c = CameraSync(
                **{
                    **c.__dict__,
                    "status": "failed",
                    "message": f"no overlap with the master on the found clock "
                    f"(gap {start - end:.2f} s). {c.message}".strip(),
                }
            )
        out.append(c)
    return out
