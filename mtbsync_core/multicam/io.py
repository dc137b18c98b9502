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
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise MulticamError(
            f"'{source}' is not a {FORMAT} v{VERSION} file "
            f"(format={data.get('format')!r}, version={data.get('version')!r}). "
            "Create it with `mtbsync multicam sync`."
        )
    names = {f for f in CameraSync.__dataclass_fields__}
    try:
        cams = tuple(
            CameraSync(
                **{
                    **{k: v for k, v in c.items() if k in names},
                    "residuals_s": tuple(c.get("residuals_s", ())),
                }
            )
            for c in data["cameras"]
        )
        return MulticamResult(
            cams, str(data["master_id"]), str(data.get("method", "")), dict(data.get("params", {}))
        )
    except (KeyError, TypeError) as err:
        raise MulticamError(
            f"'{source}' has a malformed camera entry ({err}). "
            "Re-create it with `mtbsync multicam sync`."
        ) from err


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
    except json.JSONDecodeError as err:
        raise MulticamError(
            f"'{p}' is not valid JSON (line {err.lineno}). "
            "Re-create it with `mtbsync multicam sync`."
        ) from err
    return result_from_dict(data, str(p))
