"""Audio sync of two cameras: whitened (GCC-PHAT) correlation, windowed, with a drift fit.

1. Coarse: 2 s windows of camera ``j`` (about one a second, at least 16) are each
   GCC-PHAT-correlated against all of camera ``i`` at 2 kHz; a RANSAC line through the window lags gives offset and drift, or ``ambiguous``
   when fewer than three windows agree.
2. Fine: windows across the overlap at the full analysis rate; camera ``i``'s audio is resampled
   onto the predicted clock (so drift does not smear the peak), correlated within a few ms, and
   the peak interpolated to a fraction of a sample. A robust line fit gives offset and drift.
3. Accept only when the windows agree (inlier share, residual RMS, peak uniqueness): unrelated or
   repetitive audio comes out ``ambiguous`` rather than confidently wrong.
4. When the windows cannot place the pair (a few sharp sounds over noise each microphone hears
   alone), :mod:`.events` tries the shared sharp sounds; its answer replaces an ``ambiguous``
   one only when it places the pair. Optionally (``weak_coarse_inliers``, off by default), a
   windowed answer that rests on few coarse windows (a few windows of unrelated rooms line up
   by chance) stands only when the sharp sounds put the pair on the same clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
from scipy import fft as sfft
from scipy.signal import resample_poly

from .media import AudioTrack
from .solve import PairEstimate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioParams:
    """Tuning of :func:`estimate_audio_pair` (seconds, Hz, ppm)."""

    coarse_rate_hz: int = 2000
    coarse_windows: int = 16
    coarse_window_s: float = 2.0
    coarse_tol_s: float = 0.006
    max_drift_ppm: float = 1000.0
    fine_window_s: float = 3.0
    fine_max_windows: int = 60
    fine_margin_s: float = 0.012
    band_hz: tuple[float, float] = (150.0, 3800.0)
    phat_beta: float = 0.8
    min_inliers: int = 3
    min_inlier_share: float = 0.5
    inlier_tol_s: float = 0.0015
    min_peak_ratio: float = 1.3  # best peak over the best one elsewhere (coarse)
    # an answer resting on fewer coarse windows than this must be confirmed by the sharp sounds.
    # Off (0) by default: at 5 it turned one chance match of unrelated rooms (1 in 490) to
    # `ambiguous`, but also 2 of 88 correctly placed held-out room pairs
    weak_coarse_inliers: int = 0
    confirm_tol_s: float = 0.005


def _whiten(
    spec: np.ndarray, freqs: np.ndarray, band: tuple[float, float], beta: float
) -> np.ndarray:
    mag = np.abs(spec)
    out = spec / (mag**beta + 1e-12 * (mag.max() + 1e-30))
    out[(freqs < band[0]) | (freqs > band[1])] = 0
    return out


def _peak_ratio(r: np.ndarray, k: int, excl: int) -> float:
    """Peak value over the largest value further than ``excl`` samples from it."""
    mask = np.ones(len(r), bool)
    mask[max(0, k - excl) : k + excl + 1] = False
    other = r[mask].max() if mask.any() else 0.0
    return float(r[k] / max(other, 1e-12))


def _subsample(r: np.ndarray, k: int) -> float:
    """Parabolic interpolation of the peak at ``k``."""
    if 0 < k < len(r) - 1:
        a, b, c = r[k - 1], r[k], r[k + 1]
        den = a - 2 * b + c
        if den < 0:
            return k + 0.5 * (a - c) / den
    return float(k)


def _ransac_line(t: np.ndarray, y: np.ndarray, w: np.ndarray, tol: float, max_slope: float):
    """Best line y = a + b t by consensus over all point pairs; returns (a, b, inlier mask)."""
    best = (-1.0, 0.0, 0.0, np.zeros(len(t), bool))
    n = len(t)
    for p in range(n):
        for q in range(p, n):
            if q == p:
                b = 0.0
            elif abs(t[q] - t[p]) < 1e-9:
                continue
            else:
                b = (y[q] - y[p]) / (t[q] - t[p])
            if abs(b) > max_slope:
                continue
            a = y[p] - b * t[p]
            inl = np.abs(y - a - b * t) < tol
            score = float(w[inl].sum())
            if score > best[0]:
                best = (score, a, b, inl)
    return best[1], best[2], best[3]


def _windows(n: int, win: int, count: int) -> np.ndarray:
    if n <= win:
        return np.zeros(1, int)
    return np.unique(np.linspace(0, n - win, max(1, count)).astype(int))


def coarse_lags(ref: AudioTrack, cam: AudioTrack, prm: AudioParams):
    """Per coarse window of ``cam``: (cam time, ref-minus-cam time, peak ratio)."""
    sr = prm.coarse_rate_hz
    x = resample_poly(ref.samples, sr, ref.rate_hz).astype(np.float32)
    y = resample_poly(cam.samples, sr, cam.rate_hz).astype(np.float32)
    win = int(min(prm.coarse_window_s, max(0.5, len(y) / sr / 4)) * sr)
    win = min(win, len(y))
    nfft = sfft.next_fast_len(len(x) + win)
    freqs = np.fft.rfftfreq(nfft, 1 / sr)
    band = (prm.band_hz[0], min(prm.band_hz[1], 0.95 * sr / 2))
    xs = _whiten(sfft.rfft(x, nfft), freqs, band, 1.0)
    rows = []
    # about one window a second (short overlaps need several inside them), within a budget of
    # FFT work that keeps ten-minute files fast
    count = int(
        np.clip(len(y) / sr / 1.0, prm.coarse_windows, max(prm.coarse_windows, 2.5e7 / nfft))
    )
    for s in _windows(len(y), win, count):
        seg = y[s : s + win]
        if float(np.std(seg)) < 1e-5:
            continue
        ys = _whiten(sfft.rfft(seg, nfft), freqs, band, 1.0)
        r = sfft.irfft(xs * np.conj(ys), nfft)
        r = np.concatenate([r[nfft - win + 1 :], r[: len(x)]])  # lags -win+1 .. len(x)-1
        k = int(np.argmax(r))
        lag = k - (win - 1)
        ratio = _peak_ratio(r, k, int(0.02 * sr))
        t_cam = cam.t0_s + s / sr
        rows.append((t_cam, ref.t0_s + lag / sr - t_cam, ratio))
    return np.asarray(rows, float).reshape(-1, 3)


def _fine_window(
    ref: AudioTrack, seg: np.ndarray, t_c0: float, off: float, rate: float, prm: AudioParams
) -> tuple[float, float, float] | None:
    """Residual lag (s) of one window against ``ref`` warped onto the predicted clock."""
    sr = ref.rate_hz
    m = int(prm.fine_margin_s * sr)
    tc = t_c0 + (np.arange(-m, len(seg) + m) / sr)
    idx = (off + rate * tc - ref.t0_s) * sr
    if idx[0] < 0 or idx[-1] > len(ref.samples) - 2:
        return None
    lo = int(idx[0])
    local = ref.samples[lo : int(idx[-1]) + 2]
    xw = np.interp(idx - lo, np.arange(len(local)), local)
    nfft = sfft.next_fast_len(len(xw) + len(seg))
    freqs = np.fft.rfftfreq(nfft, 1 / sr)
    band = (prm.band_hz[0], min(prm.band_hz[1], 0.95 * sr / 2))
    xs = _whiten(sfft.rfft(xw, nfft), freqs, band, prm.phat_beta)
    ys = _whiten(sfft.rfft(seg, nfft), freqs, band, prm.phat_beta)
    r = sfft.irfft(xs * np.conj(ys), nfft)[: 2 * m + 1]
    k = int(np.argmax(r))
    if k in (0, 2 * m):
        return None
    return (_subsample(r, k) - m) / sr, float(r[k]), _peak_ratio(r, k, int(0.002 * sr))


def _robust_fit(t: np.ndarray, y: np.ndarray, w: np.ndarray, tol: float):
    """Weighted line fit with iterative outlier rejection; returns (a, b, inlier mask)."""
    inl = np.ones(len(t), bool)
    a, b = float(np.median(y)), 0.0
    for _ in range(5):
        if inl.sum() < 2:
            break
        a_mat = np.stack([np.ones(inl.sum()), t[inl]], 1) * np.sqrt(w[inl])[:, None]
        a, b = np.linalg.lstsq(a_mat, y[inl] * np.sqrt(w[inl]), rcond=None)[0]
        res = y - a - b * t
        mad = 1.4826 * np.median(np.abs(res[inl] - np.median(res[inl])))
        new = np.abs(res) < max(3 * mad, tol / 3) if inl.sum() > 4 else np.abs(res) < tol
        new &= np.abs(res) < tol
        if (new == inl).all():
            break
        inl = new
    return float(a), float(b), inl


def fine_fit(ref: AudioTrack, cam: AudioTrack, off: float, drift: float, prm: AudioParams):
    """Windowed fine lags around the line ``ref = off + (1+drift) cam``; returns a fit dict."""
    sr = cam.rate_hz
    rate = 1.0 + drift
    # cam samples whose predicted ref time lies inside ref (ref = off + rate * cam, rate > 0)
    lo = ((ref.t0_s + 0.05 - off) / rate - cam.t0_s) * sr
    hi = ((ref.t0_s + ref.duration_s - 0.05 - off) / rate - cam.t0_s) * sr
    a0, a1 = max(0, int(np.ceil(lo))), min(len(cam.samples) - 1, int(np.floor(hi)))
    if a1 - a0 < sr:
        return None
    win = int(min(prm.fine_window_s, (a1 - a0) / sr / 3) * sr)
    count = min(prm.fine_max_windows, max(5, int(2 * (a1 - a0) / max(win, 1))))  # half-overlapping
    rows = []
    for s in a0 + _windows(a1 - a0, win, count):
        seg = cam.samples[s : s + win]
        if float(np.std(seg)) < 1e-5:
            continue
        got = _fine_window(ref, seg, cam.t0_s + s / sr, off, rate, prm)
        if got is None:
            continue
        mid = cam.t0_s + (s + win / 2) / sr
        rows.append((mid, off + rate * (mid + got[0]) - mid, got[1], got[2]))
    if len(rows) < 2:
        return None
    arr = np.asarray(rows)
    a, b, inl = _robust_fit(arr[:, 0], arr[:, 1], np.clip(arr[:, 2], 1e-6, None), prm.inlier_tol_s)
    res = arr[:, 1] - a - b * arr[:, 0]
    return {"offset": a, "drift": b, "inliers": inl, "res": res, "rows": arr}


def estimate_audio_pair(
    ref: AudioTrack, cam: AudioTrack, i: int = 0, j: int = 1, prm: AudioParams = AudioParams()
) -> PairEstimate:
    """Camera ``j`` (``cam``) on camera ``i``'s (``ref``) clock from their sound.

    Windowed whitened correlation first; when it cannot place the pair, the shared sharp sounds
    (:func:`.events.estimate_event_pair`), whose reason is kept beside the windows' one.
    """
    ref, cam = trim_digital_silence(ref), trim_digital_silence(cam)
    dense = _estimate_windows(ref, cam, i, j, prm)
    weak = dense.status == "ok" and dense.extra["coarse_inliers"] < prm.weak_coarse_inliers
    if (dense.status == "ok" and not weak) or ref.rate_hz != cam.rate_hz:
        return dense
    from .events import estimate_event_pair

    sparse = estimate_event_pair(ref, cam, i, j)
    if weak:
        return _confirm(dense, sparse, prm)
    if sparse.status == "ok":
        return sparse
    return replace(
        dense,
        message=f"{dense.message}; {sparse.message}",
        extra={**dense.extra, "events": sparse.extra},
    )


def _confirm(dense: PairEstimate, sparse: PairEstimate, prm: AudioParams) -> PairEstimate:
    """A windowed answer from a few coarse windows stands when the sharp sounds place the pair
    on the same clock (within ``confirm_tol_s`` where they were heard); else ``ambiguous``."""
    n_co = f"{dense.extra['coarse_inliers']} of {dense.extra['coarse_windows']} coarse windows"
    if sparse.status == "ok" or "stack_z" in sparse.extra:
        # placed, or not placed but its best offset (the sounds' strongest stack) is known
        t = np.asarray(sparse.extra.get("event_t_s") or [dense.extra.get("t_mid_s", 0.0)])
        gap = (dense.offset_s - sparse.offset_s) + (dense.drift_ppm - sparse.drift_ppm) * 1e-6 * t
        if float(np.max(np.abs(gap))) <= prm.confirm_tol_s:
            how = "confirm the clock" if sparse.status == "ok" else "peak best on the same clock"
            return replace(dense, message=f"{n_co} agree; the sharp sounds {how}")
    why = sparse.message if sparse.status != "ok" else "the sharp sounds place it elsewhere"
    return replace(
        dense,
        confidence=0.0,
        status="ambiguous",
        message=f"audio windows barely agree ({n_co}) and {why}",
        extra={**dense.extra, "events": sparse.extra},
    )


def trim_digital_silence(track: AudioTrack) -> AudioTrack:
    """``track`` without leading / trailing exact zeros (codec padding): the step from sound to
    digital silence is a click in every file that would otherwise line up the files' ends."""
    nz = np.flatnonzero(track.samples)
    if not len(nz) or (nz[0] == 0 and nz[-1] == len(track.samples) - 1):
        return track
    a, b = int(nz[0]), int(nz[-1]) + 1
    return AudioTrack(track.samples[a:b], track.rate_hz, track.t0_s + a / track.rate_hz)


def _estimate_windows(
    ref: AudioTrack, cam: AudioTrack, i: int, j: int, prm: AudioParams
) -> PairEstimate:
    """The windowed path (steps 1-3 of the module docstring)."""

    def fail(msg: str, status: str = "ambiguous", **kw) -> PairEstimate:
        return PairEstimate(
            i,
            j,
            kw.get("off", 0.0),
            kw.get("drift", 0.0) * 1e6,
            0.0,
            status,
            "audio",
            message=msg,
            n_windows=kw.get("nw", 0),
            n_inliers=kw.get("ni", 0),
        )

    co = coarse_lags(ref, cam, prm)
    good = co[co[:, 2] >= prm.min_peak_ratio] if len(co) else co
    if len(good) < prm.min_inliers:
        return fail(
            f"audio gave no clear match ({len(good)} of {len(co)} windows had a distinct "
            "peak): unrelated, silent or repetitive sound",
            nw=len(co),
        )
    a, b, inl = _ransac_line(
        good[:, 0], good[:, 1], good[:, 2], prm.coarse_tol_s, prm.max_drift_ppm * 1e-6
    )
    if inl.sum() < prm.min_inliers:
        return fail(
            f"audio windows disagree (only {int(inl.sum())} of {len(co)} coarse windows "
            "on one line): unrelated or repetitive sound, or no overlap",
            nw=len(co),
            ni=int(inl.sum()),
        )
    # the line of offsets o(t) = a + b t means ref = a + (1 + b) cam
    fit = None
    for _ in range(2):
        got = fine_fit(ref, cam, a, b, prm)
        if got is None:
            break
        fit = got
        a, b = fit["offset"], fit["drift"]
    if fit is None:
        return fail("audio overlap too short for fine windows", nw=len(co), ni=int(inl.sum()))
    return _accept(i, j, fit, co, int(inl.sum()), prm)


def _accept(
    i: int, j: int, fit: dict, co: np.ndarray, n_coarse: int, prm: AudioParams
) -> PairEstimate:
    inl = fit["inliers"]
    n, ni = len(inl), int(inl.sum())
    share = ni / max(n, 1)
    rms = float(np.sqrt(np.mean(fit["res"][inl] ** 2))) if ni else float("inf")
    ratio = float(np.median(fit["rows"][inl, 3])) if ni else 0.0
    ok = ni >= prm.min_inliers and share >= prm.min_inlier_share and rms < prm.inlier_tol_s / 2
    conf = float(
        np.clip(
            share * min(1.0, n_coarse / max(len(co), 1) * 1.5) * min(1.0, (ratio - 1.0) / 1.0),
            0.0,
            1.0,
        )
    )
    status = "ok" if ok else "ambiguous"
    msg = (
        ""
        if ok
        else (
            f"audio windows disagree ({ni} of {n} fine windows fit one clock, "
            f"rms {rms * 1e3:.2f} ms)"
        )
    )
    return PairEstimate(
        i,
        j,
        fit["offset"],
        fit["drift"] * 1e6,
        conf if ok else min(conf, 0.3),
        status,
        "audio",
        tuple(float(r) for r in fit["res"]),
        msg,
        n,
        ni,
        {
            "coarse_windows": len(co),
            "coarse_inliers": n_coarse,
            "rms_s": rms,
            "t_mid_s": float(np.median(fit["rows"][:, 0])),
        },
    )
