"""Multi-camera results and their sidecar JSON (``multicam.json``).

Clock model: for camera ``i``, ``master_time_s = offset_s + (1 + drift_ppm * 1e-6) * camera_time_s``
where camera time is the camera's own presentation time in seconds from its first video frame.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..checks import MAX_TIME_S, finite_number, number_list
from ..errors import MulticamError
from ..fileio import write_text_atomic

#: Evidence ``sync_cameras`` can use, in the order ``auto`` tries it (manual offsets always win).
METHODS = ("auto", "audio", "imu", "motion", "flash", "timecode", "manual")

FORMAT = "mtbsync.multicam"
VERSION = 1
STATUSES = ("ok", "ambiguous", "failed")


@dataclass(frozen=True)
class CameraSync:
    """One camera placed on the master timeline."""

    path: str
    camera_id: str
    offset_s: float
    drift_ppm: float
    confidence: float  # 0..1
    method: str  # audio | imu | motion | flash | timecode | manual | master
    status: str  # ok | ambiguous | failed
    residuals_s: tuple[float, ...] = ()  # per-window fit residuals (seconds)
    message: str = ""
    fps: float = 0.0  # average frame rate
    is_vfr: bool = False
    duration_s: float = 0.0  # camera time of the last frame
    frame_count: int = 0

    @property
    def rate(self) -> float:
        """Master seconds per camera second."""
        return 1.0 + self.drift_ppm * 1e-6

    def to_master(self, t_cam_s: float) -> float:
        """Camera time -> master time."""
        return self.offset_s + self.rate * t_cam_s

    def to_camera(self, t_master_s: float) -> float:
        """Master time -> camera time."""
        return (t_master_s - self.offset_s) / self.rate


@dataclass(frozen=True)
class MulticamResult:
    """All cameras on one timeline; ``master_id`` has offset 0 and drift 0 by definition."""

    cameras: tuple[CameraSync, ...]
    master_id: str
    method: str
    params: dict[str, Any] = field(default_factory=dict)

    def camera(self, camera_id: str) -> CameraSync:
        """The camera called ``camera_id``."""
        for cam in self.cameras:
            if cam.camera_id == camera_id:
                return cam
        raise KeyError(f"no camera {camera_id!r}; cameras: {[c.camera_id for c in self.cameras]}")

    @property
    def all_ok(self) -> bool:
        """True when every camera was placed with status ``ok``."""
        return all(c.status == "ok" for c in self.cameras)

    def common_span_s(self) -> tuple[float, float]:
        """(start, end) on the master timeline covered by every usable camera."""
        usable = [c for c in self.cameras if c.status != "failed"]
        start = max(c.offset_s for c in usable)
        end = min(c.to_master(c.duration_s) for c in usable)
        return start, end


def result_to_dict(result: MulticamResult) -> dict[str, Any]:
    """A JSON-able dict of ``result``."""
    from .. import __version__

    cams = []
    for c in result.cameras:
        d = asdict(c)
        d["residuals_s"] = [round(float(r), 7) for r in c.residuals_s]
        cams.append(d)
    return {
        "format": FORMAT,
        "version": VERSION,
        "generator": f"mtbsync {__version__}",
        "master_id": result.master_id,
        "method": result.method,
        "time_model": "master_s = offset_s + (1 + drift_ppm*1e-6) * camera_s",
        "params": result.params,
        "cameras": cams,
    }


def result_from_dict(data: dict[str, Any], source: str = "<dict>") -> MulticamResult:
    """Inverse of :func:`result_to_dict`; names what is wrong in ``source``."""
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise MulticamError(
            f"'{source}' is not a {FORMAT} v{VERSION} file "
            f"(format={_get(data, 'format')!r}, version={_get(data, 'version')!r}). "
            "Create it with `mtbsync multicam sync`."
        )
    cams_in = data.get("cameras")
    if not isinstance(cams_in, list) or not cams_in or len(cams_in) > MAX_CAMERAS:
        raise MulticamError(
            f"'{source}': cameras must be a list of 1 to {MAX_CAMERAS} entries. {_FIX}"
        )
    cams = tuple(_camera(c, k, source) for k, c in enumerate(cams_in))
    ids = [c.camera_id for c in cams]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise MulticamError(f"'{source}': camera_id {dup[0]!r} appears twice. {_FIX}")
    master = data.get("master_id")
    if master not in ids:
        raise MulticamError(
            f"'{source}': master_id {master!r} is none of the cameras {ids}. {_FIX}"
        )
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise MulticamError(f"'{source}': params is not an object. {_FIX}")
    return MulticamResult(cams, str(master), str(data.get("method", "")), dict(params))


_FIX = "Re-create it with `mtbsync multicam sync`."
MAX_CAMERAS = 64
_NUMBERS = {  # field: (lo, hi)
    "offset_s": (-MAX_TIME_S, MAX_TIME_S),
    "drift_ppm": (-1e5, 1e5),
    "confidence": (0.0, 1.0),
    "fps": (0.0, 1e4),
    "duration_s": (0.0, MAX_TIME_S),
    "frame_count": (0, 1e9),
}


def _camera(c: Any, k: int, source: str) -> CameraSync:
    """One checked camera entry (every number finite and in range, names strings)."""
    where = f"'{source}' cameras[{k}]"
    if not isinstance(c, dict):
        raise MulticamError(f"{where} is not an object. {_FIX}")
    for key in ("path", "camera_id", "method", "status"):
        if not isinstance(c.get(key), str) or not c.get(key) or len(c[key]) > 4096:
            raise MulticamError(f"{where}: {key} is {c.get(key)!r}, not a name. {_FIX}")
    if c["status"] not in STATUSES:
        raise MulticamError(f"{where}: status {c['status']!r} is not one of {STATUSES}. {_FIX}")
    vals: dict[str, Any] = {}
    for key, (lo, hi) in _NUMBERS.items():
        if key in c or key in ("offset_s", "drift_ppm", "confidence"):
            vals[key] = finite_number(c.get(key), f"{key}", where, MulticamError, lo, hi, _FIX)
    if "frame_count" in vals:
        vals["frame_count"] = int(vals["frame_count"])
    res = number_list(c.get("residuals_s", []), "residuals_s", where, MulticamError, 100_000)
    return CameraSync(
        path=c["path"],
        camera_id=c["camera_id"],
        method=c["method"],
        status=c["status"],
        residuals_s=tuple(res),
        message=str(c.get("message", ""))[:4096],
        is_vfr=bool(c.get("is_vfr", False)),
        **vals,
    )


def write_multicam(
    path: str | os.PathLike[str], result: MulticamResult, force: bool = False
) -> Path:
    """Write ``result`` as JSON atomically; refuses an existing file unless ``force``."""
    text = json.dumps(result_to_dict(result), indent=2) + "\n"
    return write_text_atomic(path, text, force=force)


def read_multicam(path: str | os.PathLike[str]) -> MulticamResult:
    """Read a ``multicam.json`` (or the folder holding one)."""
    p = Path(path)
    if p.is_dir():
        p = p / "multicam.json"
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise MulticamError(
            f"No multicam file at '{p}'. Run `mtbsync multicam sync` first."
        ) from err
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise MulticamError(
            f"'{p}' is not valid JSON ({str(err).splitlines()[0][:120]}). "
            "Re-create it with `mtbsync multicam sync`."
        ) from err
    return result_from_dict(data, str(p))


def _get(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None
