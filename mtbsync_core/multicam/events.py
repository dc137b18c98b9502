"""Audio sync from a few sharp sounds over noise (a clap, a beep, a shout, a bike dropped).

The windowed path of :mod:`.audio` needs sound that both cameras hear most of the time. Real
shoots often give a handful of impulsive events between long stretches where each microphone
hears only its own wind. Here:

1. Events: onsets where the band-passed short-time energy rises well above the track's own
   running background (``min_rise_db``).
2. Candidate offsets: the strongest peaks of one whitened (GCC-PHAT) correlation of the whole
   overlap, and every ref-minus-cam onset difference (pooled when close).
3. Evidence: around a candidate, each cam event is GCC-PHAT-correlated with the ref near its
   predicted place and expressed as a z-score against its own correlation noise. The events'
   curves are stacked over a grid of clock drifts: sounds of one shared clock add up, chance
   peaks of unrelated sounds do not.
4. Support: an event supports the stacked answer when its own curve peaks near the line
   (``support_z``, ``support_tol_s``) and is its curve's clear maximum (``support_unique``); beside
   one such sound, others need only be their curve's maximum (``companion_unique``: in rooms a
   reflection can come close to the direct sound). The peaks are interpolated to a fraction of
   a sample.
5. Decision: the best candidate must stand out of the stacked noise (``min_stack_z``) and above
   every other candidate (``min_ratio``) with at least two supporting sounds (optionally, one of
   them alike in both files unless the stack is far above the next offset: ``multi_min_ncc``,
   off by default). One sound alone places the pair with ``low`` confidence only when its
   peak is strong and unique and neither file holds more than a couple of sounds, or when it
   stands far above every other offset and looks alike in both files (``lone_*``; optionally
   also when it peaks very strongly and uniquely, ``lone_strong_z``, off by default): one match
   among many sounds is otherwise chance.
6. Clock: drift is fitted only when the supporting sounds span ``drift_min_span_s`` (otherwise
   0, and the message says why), shrunk towards 0 by how well the sounds' spread in time tells
   it from their path differences; see :func:`_clock`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft
from scipy.ndimage import percentile_filter
from scipy.signal import butter, sosfiltfilt

from .media import AudioTrack
from .solve import PairEstimate

log = logging.getLogger(__name__)

#: Confidence given to a pair placed on a single shared sound.
LOW_CONFIDENCE = 0.25


@dataclass(frozen=True)
class EventParams:
    """Tuning of :func:`estimate_event_pair` (seconds, dB, ppm)."""

    band_hz: tuple[float, float] = (150.0, 3800.0)
    hop_s: float = 0.004
    background_s: float = 1.5
    min_rise_db: float = 9.0  # an event of the file (counted for the one-sound rule)
    curve_rise_db: float = 6.0  # an event whose curve enters the stack
    min_gap_s: float = 0.25
    max_events: int = 40
    edge_s: float = 0.3  # onsets this close to a file end are not trusted
    pool_s: float = 0.03  # onset differences pooled into one candidate
    max_candidates: int = 10
    gcc_peaks: int = 5
    seg_before_s: float = 0.08
    seg_after_s: float = 0.35
    search_s: float = 0.03  # how far the stacked answer may sit from the candidate
    noise_span_s: float = 0.6  # lag span whose correlation gives an event's noise level
    max_drift_ppm: float = 500.0
    max_shift_s: float = 0.012  # drift shifts an event's curve by at most this much
    support_z: float = 4.0
    support_unique: float = 1.3  # its peak must be its curve's clear maximum
    # further sounds beside one that passes ``support_unique`` need only pass this (a reflection
    # may come close to a sound's direct path); 1.3 gives the rule before: every sound unique
    companion_unique: float = 1.0
    support_tol_s: float = 0.004  # acoustic paths of different sounds differ by a few ms
    unique_s: float = 0.001  # a rival peak further than this makes a lag ambiguous
    min_stack_z: float = 7.0
    min_ratio: float = 1.25  # best candidate's stack over any other's
    single_min_z: float = 12.0  # one shared sound alone: a strong, unique peak
    single_min_unique: float = 2.0
    ncc_s: tuple[float, float] = (0.03, 0.15)  # early sound (before / after onset) for likeness
    # one supporting sound among many: the stack must stand out and the waveform be alike
    lone_min_stack_z: float = 10.0
    lone_min_ratio: float = 2.0
    lone_min_ncc: float = 0.5
    # ... or its own peak this strong and unique (reverb spoils the likeness). Off by default:
    # it placed more pairs within 1 ms but also more 1-5 ms off (drift unknown from one sound)
    lone_strong_z: float = float("inf")
    lone_strong_unique: float = 1.5
    # two or more sounds with a stack under ``multi_sure_ratio`` x the next offset: at least one
    # of them must look alike in both files (unrelated clicks line up by chance, not in shape).
    # Off by default: at 0.35 it removed one chance match in 490 unrelated room pairs but also
    # 2 of 88 correctly placed held-out pairs
    multi_sure_ratio: float = 3.0
    multi_min_ncc: float = float("-inf")
    single_max_events: int = 2
    drift_min_span_s: float = 8.0
    path_scatter_s: float = 0.002  # spread of path differences between sounds (metres / c)
    prior_drift_ppm: float = 150.0  # spread of two recorders' relative drift


@dataclass(frozen=True)
class Events:
    """Onset times (track seconds) and their rise above the background (dB)."""

    t_s: np.ndarray
    rise_db: np.ndarray


def _bandpass(track: AudioTrack, band: tuple[float, float]) -> np.ndarray:
    hi = min(band[1], 0.45 * track.rate_hz)
    sos = butter(4, [band[0], hi], btype="band", fs=track.rate_hz, output="sos")
    return sosfiltfilt(sos, track.samples.astype(np.float64))


def detect_events(
    track: AudioTrack,
    prm: EventParams = EventParams(),
    min_rise_db: float | None = None,
    band: np.ndarray | None = None,
) -> Events:
    """Sharp rises of band energy above the track's running background, strongest first.

    ``band``: the track already band-passed to ``prm.band_hz`` (saves filtering it again).
    """
    min_rise = prm.min_rise_db if min_rise_db is None else min_rise_db
    x = _bandpass(track, prm.band_hz) if band is None else band
    hop = max(1, int(prm.hop_s * track.rate_hz))
    n = len(x) // hop
    if n < 8:
        return Events(np.zeros(0), np.zeros(0))
    e = (x[: n * hop].reshape(n, hop) ** 2).mean(1)
    e = np.convolve(e, np.ones(2) / 2, mode="same")  # 2-hop frames
    e_db = 10 * np.log10(e + 1e-12 + 1e-9 * e.max())
    bg = percentile_filter(e_db, 30, size=max(3, int(prm.background_s / prm.hop_s)), mode="nearest")
    rise = e_db - bg
    peaks = np.flatnonzero(
        (rise[1:-1] >= min_rise) & (rise[1:-1] >= rise[:-2]) & (rise[1:-1] > rise[2:])
    )
    peaks += 1
    order = peaks[np.argsort(-rise[peaks], kind="stable")]
    gap = int(prm.min_gap_s / prm.hop_s)
    kept: list[int] = []
    for k in order:
        if all(abs(k - q) > gap for q in kept):
            kept.append(int(k))
        if len(kept) >= prm.max_events:
            break
    t, r = [], []
    edge = int(prm.edge_s / prm.hop_s)
    for k in kept:
        if k < edge or k > n - edge:
            continue  # filter and codec transients at the ends of the file
        on, floor = k, max(3.0, rise[k] / 4)
        while on > 0 and k - on < gap and rise[on - 1] > floor:
            on -= 1  # back to where the rise began (slow attacks, several bounces)
        t.append(track.t0_s + on * hop / track.rate_hz)
        r.append(float(rise[k]))
    return Events(np.asarray(t, float), np.asarray(r, float))


def _onset_candidates(ev_ref: Events, ev_cam: Events, prm: EventParams) -> list[float]:
    """Ref-minus-cam offsets suggested by onset pairs, best supported first."""
    if not len(ev_ref.t_s) or not len(ev_cam.t_s):
        return []
    d = np.sort((ev_ref.t_s[:, None] - ev_cam.t_s[None, :]).ravel())
    lo = np.searchsorted(d, d - prm.pool_s)
    hi = np.searchsorted(d, d + prm.pool_s, side="right")
    return [float(np.median(d[lo[k] : hi[k]])) for k in np.argsort(-(hi - lo), kind="stable")]


def _gcc_candidates(x: np.ndarray, y: np.ndarray, sr: int, dt0: float, prm: EventParams):
    """Offsets of the strongest peaks of one GCC-PHAT over the whole of both tracks."""
    n = sfft.next_fast_len(len(x) + len(y))
    r = _phat(x, y, n)
    r = np.concatenate([r[n - len(y) + 1 :], r[: len(x)]])  # lags -(len(y)-1) .. len(x)-1
    excl, out = int(prm.pool_s * sr), []
    for _ in range(prm.gcc_peaks):
        k = int(np.argmax(r))
        out.append((k - (len(y) - 1)) / sr + dt0)
        r[max(0, k - excl) : k + excl + 1] = -np.inf
    return out


def _candidates(x, y, sr, dt0, ev_ref: Events, ev_cam: Events, prm: EventParams) -> list[float]:
    out: list[float] = []
    for c in _gcc_candidates(x, y, sr, dt0, prm) + _onset_candidates(ev_ref, ev_cam, prm):
        if all(abs(c - q) > 2 * prm.pool_s for q in out):
            out.append(c)
        if len(out) >= prm.max_candidates:
            break
    return out


def _phat(a: np.ndarray, b: np.ndarray, nfft: int) -> np.ndarray:
    """GCC-PHAT of ``a`` against ``b``: r[k] large when ``a[n + k] ~ b[n]``."""
    cross = sfft.rfft(a, nfft) * np.conj(sfft.rfft(b, nfft))
    return sfft.irfft(cross / (np.abs(cross) + 1e-12 * np.abs(cross).max() + 1e-30), nfft)


def _curves(x, y, sr: int, dt0: float, t_cam: np.ndarray, d: float, prm: EventParams):
    """Per cam event, its z-scored correlation with the ref over lags ``d0 + (k - w) / sr``.

    Returns (event times, (events, 2w+1) z curves, d0, w); ``d0`` is ``d`` on the sample grid.
    """
    w = int((prm.search_s + prm.max_shift_s) * sr)
    span = max(int(prm.noise_span_s * sr), w + int(0.01 * sr))
    lag0 = int(round((d - dt0) * sr))
    nseg = int((prm.seg_before_s + prm.seg_after_s) * sr)
    ts, zs = [], []
    for t in t_cam:
        c0 = int(round((t - prm.seg_before_s) * sr))
        r0 = c0 + lag0 - span
        if c0 < 0 or c0 + nseg > len(y) or r0 < 0 or r0 + nseg + 2 * span > len(x):
            continue
        r = _phat(
            x[r0 : r0 + nseg + 2 * span], y[c0 : c0 + nseg], sfft.next_fast_len(nseg * 2 + 2 * span)
        )
        r = r[: 2 * span + 1]
        core = r[span - w : span + w + 1]
        k = int(np.argmax(core)) + span - w
        mask = np.ones(len(r), bool)
        mask[max(0, k - int(0.005 * sr)) : k + int(0.005 * sr) + 1] = False
        med = float(np.median(r[mask]))
        sigma = 1.4826 * float(np.median(np.abs(r[mask] - med))) + 1e-12
        ts.append(float(t))
        zs.append((core - med) / sigma)
    return np.asarray(ts), np.asarray(zs).reshape(len(ts), 2 * w + 1), lag0 / sr + dt0, w


def _stack(ts: np.ndarray, zs: np.ndarray, w: int, sr: int, prm: EventParams):
    """Best (stacked z, centre index, drift, mid time) over lags near the candidate and drifts."""
    t_mid = float(np.median(ts))
    half = float(np.max(np.abs(ts - t_mid))) if len(ts) else 0.0
    b_max = min(prm.max_drift_ppm * 1e-6, prm.max_shift_s / max(half, 1e-9))
    n_b = 1 if half * sr * b_max < 0.5 else min(2001, 2 * int(b_max * half * sr * 2) + 1)
    m = int(prm.search_s * sr)
    k = np.arange(w - m, w + m + 1)
    best = (-np.inf, w, 0.0)
    for b in np.linspace(-b_max, b_max, n_b) if n_b > 1 else [0.0]:
        idx = k[None, :] + np.round(b * (ts - t_mid) * sr).astype(int)[:, None]
        s = zs[np.arange(len(ts))[:, None], np.clip(idx, 0, 2 * w)].sum(0)
        j = int(np.argmax(s))
        if s[j] > best[0]:
            best = (float(s[j]), int(k[j]), float(b))
    return best[0], best[1], best[2], t_mid


def _peak(z: np.ndarray, lo: int, hi: int) -> tuple[float, float, float]:
    """(sub-sample index, z, uniqueness) of the largest value of ``z[lo:hi]``."""
    lo, hi = max(lo, 1), min(hi, len(z) - 1)
    k = lo + int(np.argmax(z[lo:hi]))
    a, b, c = z[k - 1], z[k], z[k + 1]
    den = a - 2 * b + c
    kf = k + 0.5 * (a - c) / den if den < 0 else float(k)
    return kf, float(b), 0.0


def _support(ts, zs, w, sr, d0, k_c, drift, t_mid, prm: EventParams) -> np.ndarray:
    """Rows (cam time, ref-minus-cam offset, z, uniqueness) of events peaking near the line."""
    tol, excl = int(prm.support_tol_s * sr), int(prm.unique_s * sr)
    rows = []
    for t, z in zip(ts, zs, strict=True):
        p = int(round(k_c + drift * (t - t_mid) * sr))
        kf, zk, _ = _peak(z, p - tol, p + tol + 1)
        if zk < prm.support_z:
            continue
        rival = z.copy()
        rival[max(0, int(kf) - excl) : int(kf) + excl + 2] = -np.inf
        unique = zk / max(float(rival.max()), 1e-9)
        if unique < min(prm.support_unique, prm.companion_unique):
            continue
        rows.append((float(t), d0 + (kf - w) / sr, zk, unique))
    kept: list[tuple] = []
    for r in sorted(rows, key=lambda r: -r[2]):  # one sound, one vote (bounces, re-triggers)
        if all(abs(r[0] - q[0]) > prm.min_gap_s for q in kept):
            kept.append(r)
    arr = np.asarray(sorted(kept), float).reshape(-1, 4)
    if len(arr) and float(arr[:, 3].max()) < prm.support_unique:
        return arr[:0]  # no sound vouches for the line on its own
    return arr


def _likeness(x, y, sr: int, dt0: float, t_cam: float, off: float, prm: EventParams) -> float:
    """Normalised correlation of the early sound (``ncc_s`` around the onset) at the found lag:
    near 1 for the same sound heard twice, low for two different clicks."""
    c0 = int(round((t_cam - prm.ncc_s[0]) * sr))
    r0 = int(round((t_cam + off - dt0 - prm.ncc_s[0]) * sr))
    n = int(sum(prm.ncc_s) * sr)
    if c0 < 0 or r0 < 0 or c0 + n > len(y) or r0 + n > len(x):
        return 0.0
    a, b = y[c0 : c0 + n], x[r0 : r0 + n]
    return float(a @ b / np.sqrt(float(a @ a) * float(b @ b) + 1e-30))


def _clock(arr: np.ndarray, prm: EventParams) -> tuple[float, float, str]:
    """(offset at cam time 0, drift, reason drift is 0 or '') from the supporting sounds.

    Sounds from different places reach two recorders with different path differences (a few
    ms), which a line through few sounds would read as drift. The fitted drift is therefore
    shrunk towards 0 by how well the sounds' spread in time can tell the two apart
    (``path_scatter_s`` against the prior spread of clock drifts, ``prior_drift_ppm``).
    """
    t, y, w = arr[:, 0], arr[:, 1], np.clip(arr[:, 2], 1e-3, None)
    span = float(t.max() - t.min()) if len(t) else 0.0
    if len(t) >= 2 and span >= prm.drift_min_span_s:
        a_mat = np.stack([np.ones(len(t)), t], 1)
        coef, *_ = np.linalg.lstsq(a_mat * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)
        var_b = prm.path_scatter_s**2 / float(((t - t.mean()) ** 2).sum())
        prior = (prm.prior_drift_ppm * 1e-6) ** 2
        b = float(coef[1]) * prior / (prior + var_b)
        b = float(np.clip(b, -prm.max_drift_ppm * 1e-6, prm.max_drift_ppm * 1e-6))
        return _weighted_median(y - b * t, w), b, ""
    why = f"drift set to 0: the shared sounds span only {span:.1f} s"
    if len(t) < 2:
        why = "drift set to 0: one shared sound; the offset holds at that sound"
    return _weighted_median(y, w), 0.0, why


def _weighted_median(v: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(v)
    c = np.cumsum(w[order])
    return float(v[order][int(np.searchsorted(c, c[-1] / 2))])


def _assess(x, y, sr, dt0, ev_cam: Events, d: float, prm: EventParams) -> dict:
    ts, zs, d0, w = _curves(x, y, sr, dt0, ev_cam.t_s, d, prm)
    if not len(ts):
        return {"d": d, "stack": 0.0, "z": 0.0, "rows": np.zeros((0, 5))}
    s, k_c, drift, t_mid = _stack(ts, zs, w, sr, prm)
    rows = _support(ts, zs, w, sr, d0, k_c, drift, t_mid, prm)
    like = np.array([_likeness(x, y, sr, dt0, r[0], r[1], prm) for r in rows])
    rows = np.column_stack([rows, like]) if len(rows) else np.zeros((0, 5))
    return {"d": d0 + (k_c - w) / sr, "stack": s, "z": s / np.sqrt(len(ts)), "rows": rows}


def estimate_event_pair(
    ref: AudioTrack, cam: AudioTrack, i: int = 0, j: int = 1, prm: EventParams = EventParams()
) -> PairEstimate:
    """Camera ``j`` (``cam``) on camera ``i``'s (``ref``) clock from a few shared sharp sounds."""
    if ref.rate_hz != cam.rate_hz:
        raise ValueError(f"tracks must share one rate, got {ref.rate_hz} and {cam.rate_hz} Hz")
    sr, dt0 = ref.rate_hz, ref.t0_s - cam.t0_s
    x, y = _bandpass(ref, prm.band_hz), _bandpass(cam, prm.band_hz)
    ev_ref, ev_cam = detect_events(ref, prm, band=x), detect_events(cam, prm, band=y)
    ev_curve = detect_events(cam, prm, prm.curve_rise_db, band=y)
    tried = [
        _assess(x, y, sr, dt0, ev_curve, d, prm)
        for d in _candidates(x, y, sr, dt0, ev_ref, ev_cam, prm)
    ]
    tried.sort(key=lambda c: c["stack"], reverse=True)
    extra = {"events_ref": len(ev_ref.t_s), "events_cam": len(ev_cam.t_s), "path": "events"}
    base = dict(i=i, j=j, method="audio", n_windows=len(ev_curve.t_s), extra=extra)
    if not tried:
        return PairEstimate(
            offset_s=0.0,
            drift_ppm=0.0,
            confidence=0.0,
            status="ambiguous",
            message="no sharp sounds to match",
            **base,
        )
    best = tried[0]
    second = max(
        [c["stack"] for c in tried[1:] if abs(c["d"] - best["d"]) > 2 * prm.pool_s] + [0.0]
    )
    ratio = best["stack"] / max(second, 1e-9)
    rows = best["rows"]
    n_in = len(rows)
    extra.update(stack_z=round(best["z"], 2), stack_ratio=round(ratio, 2), shared_events=n_in)
    single_ok = (
        n_in == 1
        and max(len(ev_ref.t_s), len(ev_cam.t_s)) <= prm.single_max_events
        and rows[0, 2] >= prm.single_min_z
        and rows[0, 3] >= prm.single_min_unique
    )
    lone_ok = (
        n_in == 1
        and best["z"] >= prm.lone_min_stack_z
        and ratio >= prm.lone_min_ratio
        and (
            rows[0, 4] >= prm.lone_min_ncc
            or (rows[0, 2] >= prm.lone_strong_z and rows[0, 3] >= prm.lone_strong_unique)
        )
    )
    single_ok = single_ok or lone_ok
    multi_ok = (
        n_in >= 2
        and best["z"] >= prm.min_stack_z
        and (ratio >= prm.multi_sure_ratio or float(rows[:, 4].max()) >= prm.multi_min_ncc)
    )
    if not ((multi_ok or single_ok) and ratio >= prm.min_ratio):
        return PairEstimate(
            offset_s=best["d"],
            drift_ppm=0.0,
            confidence=0.0,
            status="ambiguous",
            message=f"sharp sounds did not match ({n_in} of {len(ev_curve.t_s)} cam sounds "
            f"support the best offset; stack z {best['z']:.1f}, {ratio:.2f}x the next offset; "
            f"{len(ev_ref.t_s)} sounds in the other file)",
            n_inliers=n_in,
            **base,
        )
    off, drift, why = _clock(rows, prm)
    res = rows[:, 1] - off - drift * rows[:, 0]
    extra["event_t_s"] = [round(float(t), 4) for t in rows[:, 0]]
    if n_in == 1:
        conf = LOW_CONFIDENCE
        msg = "low confidence: placed on one shared sound only; check it by eye or ear"
    else:
        conf = float(np.clip(0.35 + 0.1 * n_in, 0, 0.9) * min(1.0, (ratio - 1.0) / 0.5))
        msg = f"placed on {n_in} shared sharp sounds"
    msg += f" ({why})" if why else ""
    return PairEstimate(
        offset_s=off,
        drift_ppm=drift * 1e6,
        confidence=conf,
        status="ok",
        residuals_s=tuple(float(v) for v in res),
        message=msg,
        n_inliers=n_in,
        **base,
    )
