"""Validation of a ``warp.json`` object and of manual anchors before they are used.

A warp read from disk may have been hand-edited or tampered with: every field is checked
(shape, finite, monotone, equal lengths, ranges) and the first problem is reported on one
line naming the file and the field.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .checks import MAX_TIME_S, finite_number, number_list
from .errors import WarpFileError, WarpFitError

#: Most samples a warp.json may hold (a day at 20 per second, plus slack).
MAX_SAMPLES = 2_000_000
MAX_ANCHORS = 10_000
#: An anchor may lie this far (seconds) beyond the span the warp was fitted on, no further.
ANCHOR_MARGIN_S = 30.0
_FIX = "Re-run `mtbsync sync` or restore the file."


def check_warp_dict(d: dict[str, Any], source: str) -> dict[str, Any]:
    """The checked fields of a warp.json object (lists of floats), or :class:`WarpFileError`."""
    e = WarpFileError
    n = lambda key, v, lo=-MAX_TIME_S, hi=MAX_TIME_S: number_list(  # noqa: E731
        v, key, source, e, MAX_SAMPLES, lo, hi, _FIX
    )
    t_new = n("t_new_s", d.get("t_new_s"))
    t_ref = n("t_ref_s", d.get("t_ref_s"))
    conf = n("confidence", d.get("confidence", [1.0] * len(t_new)), 0.0, 1.0)
    if len(t_new) < 2 or len(t_ref) != len(t_new) or len(conf) != len(t_new):
        raise e(
            f"{source}: t_new_s, t_ref_s and confidence must hold the same number (>= 2) of samples "
            f"(got {len(t_new)}, {len(t_ref)}, {len(conf)}). {_FIX}"
        )
    if np.any(np.diff(t_new) < 0) or t_new[-1] <= t_new[0]:
        raise e(f"{source}: t_new_s is not increasing. {_FIX}")
    if np.any(np.diff(t_ref) < -1e-6):
        raise e(f"{source}: t_ref_s goes backwards; a warp must be monotone. {_FIX}")
    ov = n("overlap_new_s", d.get("overlap_new_s"))
    if len(ov) != 2 or not ov[0] < ov[1] or ov[0] < t_new[0] - 1e-6 or ov[1] > t_new[-1] + 1e-6:
        raise e(
            f"{source}: overlap_new_s {ov} must be [start, end] with start < end inside "
            f"t_new_s ({t_new[0]}..{t_new[-1]}). {_FIX}"
        )
    anchors = _anchor_list(d.get("anchors", []), source)
    data = d.get("data") or {}
    if not isinstance(data, dict):
        raise e(f"{source}: data is not an object. {_FIX}")
    dx = n("data.t_new_s", data.get("t_new_s", t_new))
    dy = _data_ref(data.get("t_ref_s", t_ref), source)
    dw = n("data.weight", data.get("weight", [1.0] * len(dx)), 0.0, 1e6)
    if not len(dx) == len(dy) == len(dw):
        raise e(f"{source}: data.t_new_s, data.t_ref_s and data.weight differ in length. {_FIX}")
    return {
        "t_new_s": t_new,
        "t_ref_s": t_ref,
        "confidence": conf,
        "overlap_new_s": (ov[0], ov[1]),
        "anchors": anchors,
        "data": (dx, dy, dw),
        "fit": _fit_params(d.get("fit", {}), source),
    }


def _anchor_list(value: Any, source: str) -> list[tuple[float, float]]:
    if not isinstance(value, list) or len(value) > MAX_ANCHORS:
        raise WarpFileError(f"{source}: anchors must be a list of at most {MAX_ANCHORS}. {_FIX}")
    out = []
    for k, a in enumerate(value):
        if not isinstance(a, dict):
            raise WarpFileError(f"{source}: anchors[{k}] is not an object. {_FIX}")
        out.append(
            tuple(
                finite_number(
                    a.get(f), f"anchors[{k}].{f}", source, WarpFileError, -MAX_TIME_S, MAX_TIME_S
                )
                for f in ("t_new_s", "t_ref_s")
            )
        )
    return out


def _data_ref(value: Any, source: str) -> list[float]:
    """data.t_ref_s: finite numbers, or null/NaN for a pair the fit left out."""
    if not isinstance(value, list) or len(value) > MAX_SAMPLES:
        raise WarpFileError(
            f"{source}: data.t_ref_s is not a list of at most {MAX_SAMPLES}. {_FIX}"
        )
    out = []
    for k, v in enumerate(value):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(math.nan)
        else:
            what = f"data.t_ref_s[{k}]"
            out.append(finite_number(v, what, source, WarpFileError, -MAX_TIME_S, MAX_TIME_S, _FIX))
    return out


def _fit_params(value: Any, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WarpFileError(f"{source}: fit is not an object. {_FIX}")
    known = {"kink_penalty", "max_kink_penalty", "outlier_s", "grid_step_s"}
    if set(value) - known:
        raise WarpFileError(f"{source}: fit has unknown keys {sorted(set(value) - known)}. {_FIX}")
    out: dict[str, Any] = {}
    ranges = {
        "kink_penalty": (0.0, 1e6),
        "max_kink_penalty": (0.0, 1e6),
        "outlier_s": (1e-4, 60.0),
        "grid_step_s": (1e-3, 10.0),
    }
    for key, v in value.items():
        if key == "kink_penalty" and v is None:
            out[key] = None
            continue
        lo, hi = ranges[key]
        out[key] = finite_number(v, f"fit.{key}", source, WarpFileError, lo, hi, _FIX)
    return out


def check_anchors_in_range(
    anchors: list[tuple[float, float]] | tuple, data_new: np.ndarray, data_ref: np.ndarray
) -> None:
    """Refuse a non-finite anchor, or one beyond the fitted span by more than ANCHOR_MARGIN_S."""
    new = np.asarray(data_new, np.float64)
    ref = np.asarray(data_ref, np.float64)
    new, ref = new[np.isfinite(new)], ref[np.isfinite(ref)]
    for a in anchors:
        t_new, t_ref = float(a[0]), float(a[1])
        if not (math.isfinite(t_new) and math.isfinite(t_ref)):
            raise WarpFitError(
                f"Anchor {t_new}:{t_ref} is not a pair of finite times. Give T_NEW:T_REF in seconds."
            )
        if not len(new) or not len(ref):
            continue
        lo_n, hi_n = new.min() - ANCHOR_MARGIN_S, new.max() + ANCHOR_MARGIN_S
        lo_r, hi_r = ref.min() - ANCHOR_MARGIN_S, ref.max() + ANCHOR_MARGIN_S
        if not (lo_n <= t_new <= hi_n and lo_r <= t_ref <= hi_r):
            raise WarpFitError(
                f"Anchor {t_new:g}:{t_ref:g} lies outside the runs (new {new.min():.1f}-{new.max():.1f} s, "
                f"reference {ref.min():.1f}-{ref.max():.1f} s, +-{ANCHOR_MARGIN_S:g} s). "
                "Put anchors on times both videos have."
            )
