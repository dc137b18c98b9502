"""Audio sync from a few sharp sounds over noise (a clap, a beep, a shout, a bike dropped).

The windowed path of :mod:`.audio` needs sound that both cameras hear most of the time. Real
shoots often give a handful of impulsive events between long stretches where each microphone
hears only its own wind. Here:

1. Events: onsets where the band-passed short-time energy rises well above the track's own
   running background (``min_rise_db``).
2. Candidates: every ref-minus-cam onset difference; nearby differences are pooled so that an
   offset supported by several event pairs comes first.
3. Verification: around each candidate, every cam event is GCC-PHAT-correlated with the ref near
   its predicted place. An event votes only when its peak stands out of its own correlation noise
   (a robust z-score over a wider lag span, ``min_z``); the peak is interpolated to a fraction of
   a sample.
4. Decision: the candidate whose votes fit one clock best wins when it has at least two votes
   and more than any other candidate; one event alone places the pair with ``low`` confidence
   only when nothing else competes and neither file holds more than a couple of sounds (one
   match among many sounds is chance). Drift is fitted only when
   the votes span enough time and the slope is significant; otherwise drift is 0 and the message
   says why.
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
    min_rise_db: float = 9.0
    min_gap_s: float = 0.25
    max_events: int = 40
    edge_s: float = 0.3  # onsets this close to a file end are not trusted
    pool_s: float = 0.03  # onset differences pooled into one candidate
    max_candidates: int = 8
    seg_before_s: float = 0.05
    seg_after_s: float = 0.35
    search_s: float = 0.04  # how far a verified peak may sit from the candidate
    noise_span_s: float = 0.6  # lag span whose correlation gives the noise level
    # A vote needs a peak standing out of its correlation noise (z) and the same early waveform
    # (ncc: normalised correlation, so that one click does not vote for another click); in a
    # reverberant room the peak is weaker but the waveform still alike, hence two ways in.
    min_z: float = 8.0
    min_ncc: float = 0.25
    alike_ncc: float = 0.6
    alike_min_z: float = 4.5
    ncc_s: tuple[float, float] = (0.01, 0.12)  # early sound (before / after onset) for ncc
    single_min_z: float = 14.0  # one shared sound alone: both, stricter
    single_min_ncc: float = 0.3
    single_alike_ncc: float = 0.8
    single_max_events: int = 2  # one match among many sounds is chance, not a shared sound
    inlier_tol_s: float = 0.012  # votes of one clock (acoustic paths differ by up to ~4 m)
    max_drift_ppm: float = 500.0
    drift_min_span_s: float = 8.0


@dataclass(frozen=True)
class Events:
    """Onset times (track seconds) and their rise above the background (dB)."""

    t_s: np.ndarray
    rise_db: np.ndarray


def _bandpass(track: AudioTrack, band: tuple[float, float]) -> np.ndarray:
    hi = min(band[1], 0.45 * track.rate_hz)
    sos = butter(4, [band[0], hi], btype="band", fs=track.rate_hz, output="sos")
    return sosfiltfilt(sos, track.samples.astype(np.float64))


def detect_events(track: AudioTrack, prm: EventParams = EventParams()) -> Events:
    """Sharp rises of band energy above the track's running background, strongest first."""
    x = _bandpass(track, prm.band_hz)
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
        (rise[1:-1] >= prm.min_rise_db) & (rise[1:-1] >= rise[:-2]) & (rise[1:-1] > rise[2:])
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
        on = k
        while on > 0 and k - on < gap and rise[on - 1] > rise[k] / 2:
            on -= 1  # back to where the rise began
        t.append(track.t0_s + on * hop / track.rate_hz)
        r.append(float(rise[k]))
    return Events(np.asarray(t, float), np.asarray(r, float))


def _candidates(ev_ref: Events, ev_cam: Events, prm: EventParams) -> list[float]:
    """Ref-minus-cam offsets suggested by onset pairs, best supported first."""
    if not len(ev_ref.t_s) or not len(ev_cam.t_s):
        return []
    d = (ev_ref.t_s[:, None] - ev_cam.t_s[None, :]).ravel()
    d.sort()
    lo = np.searchsorted(d, d - prm.pool_s)
    hi = np.searchsorted(d, d + prm.pool_s, side="right")
    support = hi - lo
    out: list[float] = []
    for k in np.argsort(-support, kind="stable"):
        c = float(np.median(d[lo[k] : hi[k]]))
        if all(abs(c - q) > 2 * prm.pool_s for q in out):
            out.append(c)
        if len(out) >= prm.max_candidates:
            break
    return out


def _phat(a: np.ndarray, b: np.ndarray, nfft: int) -> np.ndarray:
    """GCC-PHAT of ``a`` against ``b``: r[k] large when ``a[n + k] ~ b[n]``."""
    fa, fb = sfft.rfft(a, nfft), sfft.rfft(b, nfft)
    cross = fa * np.conj(fb)
    return sfft.irfft(cross / (np.abs(cross) + 1e-12 * np.abs(cross).max() + 1e-30), nfft)


def _vote(
    ref: np.ndarray,
    cam: np.ndarray,
    sr: int,
    t_ref0: float,
    t_cam0: float,
    t_cam: float,
    d: float,
    prm: EventParams,
) -> tuple[float, float, float] | None:
    """(fine ref-minus-cam offset, z, ncc) of the cam event at ``t_cam`` near offset ``d``."""
    c0 = int(round((t_cam - prm.seg_before_s - t_cam0) * sr))
    c1 = c0 + int((prm.seg_before_s + prm.seg_after_s) * sr)
    span = int(prm.noise_span_s * sr)
    r0 = int(round((t_cam + d - prm.seg_before_s - t_ref0) * sr)) - span
    r1 = r0 + (c1 - c0) + 2 * span
    if c0 < 0 or c1 > len(cam) or r0 < 0 or r1 > len(ref):
        return None
    seg, loc = cam[c0:c1], ref[r0:r1]
    r = _phat(loc, seg, sfft.next_fast_len(len(loc) + len(seg)))[: 2 * span + 1]
    m = int(prm.search_s * sr)
    k = span - m + int(np.argmax(r[span - m : span + m + 1]))
    mask = np.ones(len(r), bool)
    mask[max(0, k - int(0.005 * sr)) : k + int(0.005 * sr) + 1] = False
    med = float(np.median(r[mask]))
    sigma = 1.4826 * float(np.median(np.abs(r[mask] - med))) + 1e-12
    kf = float(k)
    if 0 < k < len(r) - 1:
        a, b, c = r[k - 1], r[k], r[k + 1]
        den = a - 2 * b + c
        if den < 0:
            kf = k + 0.5 * (a - c) / den
    lag_s = (r0 + kf - c0) / sr + (t_ref0 - t_cam0)
    return lag_s, (float(r[k]) - med) / sigma, _ncc(ref, cam, r0 + k, c0, sr, prm)


def _ncc(
    ref: np.ndarray, cam: np.ndarray, r_at: int, c_at: int, sr: int, prm: EventParams
) -> float:
    """Normalised correlation of the early sound at the matched lag (1: the same waveform)."""
    b0 = int((prm.seg_before_s - prm.ncc_s[0]) * sr)
    n = int(sum(prm.ncc_s) * sr)
    a, b = cam[c_at + b0 : c_at + b0 + n], ref[r_at + b0 : r_at + b0 + n]
    if len(a) != n or len(b) != n:
        return 0.0
    return float(a @ b / np.sqrt(float(a @ a) * float(b @ b) + 1e-30))


def _votes(
    z: float, ncc: float, min_z: float, min_ncc: float, prm: EventParams, alike: float = 0.0
) -> bool:
    """A significant peak of a like waveform, or a weaker peak of a very like one."""
    alike = alike or prm.alike_ncc
    return (z >= min_z and ncc >= min_ncc) or (z >= prm.alike_min_z and ncc >= alike)


def _fit(t: np.ndarray, y: np.ndarray, w: np.ndarray, prm: EventParams):
    """Largest set of votes on one clock: (offset at t=0, drift, inlier mask) by consensus."""
    best = (-1.0, 0.0, 0.0, np.zeros(len(t), bool))
    for p in range(len(t)):
        for q in range(p, len(t)):
            b = 0.0 if q == p or abs(t[q] - t[p]) < 1e-6 else (y[q] - y[p]) / (t[q] - t[p])
            if abs(b) > prm.max_drift_ppm * 1e-6:
                continue
            a = y[p] - b * t[p]
            inl = np.abs(y - a - b * t) < prm.inlier_tol_s
            score = float(inl.sum()) + 1e-3 * float(w[inl].sum())
            if score > best[0]:
                best = (score, a, b, inl)
    return best[1], best[2], best[3]


def _verify(ref, cam, sr, t_ref0, t_cam0, ev_cam: Events, d: float, prm: EventParams):
    votes = []
    for t in ev_cam.t_s:
        got = _vote(ref, cam, sr, t_ref0, t_cam0, float(t), d, prm)
        if got is not None and _votes(got[1], got[2], prm.min_z, prm.min_ncc, prm):
            votes.append((float(t), got[0], got[1], got[2]))
    arr = np.asarray(votes, float).reshape(-1, 4)
    if not len(arr):
        return arr, np.zeros(0, bool), d, 0.0
    a, b, inl = _fit(arr[:, 0], arr[:, 1], arr[:, 2], prm)
    return arr, inl, a, b


def _clock(arr: np.ndarray, inl: np.ndarray, prm: EventParams) -> tuple[float, float, str]:
    """(offset at cam time 0, drift, reason drift is 0 or '') from the inlier votes."""
    t, y, w = arr[inl, 0], arr[inl, 1], arr[inl, 2]
    span = float(t.max() - t.min()) if len(t) else 0.0
    if len(t) >= 3 and span >= prm.drift_min_span_s:
        a_mat = np.stack([np.ones(len(t)), t], 1)
        coef, *_ = np.linalg.lstsq(a_mat * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)
        b = float(np.clip(coef[1], -prm.max_drift_ppm * 1e-6, prm.max_drift_ppm * 1e-6))
        return float(np.median(y - b * t)), b, ""
    why = f"drift set to 0: the shared sounds span only {span:.1f} s"
    if len(t) < 3:
        why = f"drift set to 0: only {len(t)} shared sound(s)"
    return float(np.median(y)), 0.0, why


def estimate_event_pair(
    ref: AudioTrack, cam: AudioTrack, i: int = 0, j: int = 1, prm: EventParams = EventParams()
) -> PairEstimate:
    """Camera ``j`` (``cam``) on camera ``i``'s (``ref``) clock from a few shared sharp sounds."""
    if ref.rate_hz != cam.rate_hz:
        raise ValueError(f"tracks must share one rate, got {ref.rate_hz} and {cam.rate_hz} Hz")
    ev_ref, ev_cam = detect_events(ref, prm), detect_events(cam, prm)
    sr = ref.rate_hz
    x, y = _bandpass(ref, prm.band_hz), _bandpass(cam, prm.band_hz)
    tried = []
    for d in _candidates(ev_ref, ev_cam, prm):
        arr, inl, a, b = _verify(x, y, sr, ref.t0_s, cam.t0_s, ev_cam, d, prm)
        tried.append((int(inl.sum()), float(arr[inl, 2].sum()) if len(arr) else 0.0, arr, inl, a))
    extra = {"events_ref": len(ev_ref.t_s), "events_cam": len(ev_cam.t_s), "path": "events"}
    base = dict(i=i, j=j, method="audio", n_windows=len(ev_cam.t_s), extra=extra)
    tried.sort(key=lambda c: (c[0], c[1]), reverse=True)
    best = tried[0] if tried else (0, 0.0, np.zeros((0, 4)), np.zeros(0, bool), 0.0)
    others = [c for c in tried[1:] if abs(c[4] - best[4]) > 2 * prm.pool_s]
    second = others[0][0] if others else 0
    n_in, arr, inl = best[0], best[2], best[3]
    fail_msg = (
        f"sharp sounds did not match ({n_in} of {len(ev_cam.t_s)} cam sounds agree on the "
        f"best offset, {second} on another; {len(ev_ref.t_s)} sounds in the other file)"
    )
    single_ok = (
        n_in == 1
        and second == 0
        and max(len(ev_ref.t_s), len(ev_cam.t_s)) <= prm.single_max_events
        and _votes(
            float(arr[inl, 2].max()),
            float(arr[inl, 3].max()),
            prm.single_min_z,
            prm.single_min_ncc,
            prm,
            prm.single_alike_ncc,
        )
    )
    if not (n_in >= 2 and n_in > second) and not single_ok:
        off = best[4] if n_in else 0.0
        return PairEstimate(
            offset_s=off,
            drift_ppm=0.0,
            confidence=0.0,
            status="ambiguous",
            message=fail_msg,
            n_inliers=n_in,
            **base,
        )
    off, drift, why = _clock(arr, inl, prm)
    res = arr[inl, 1] - off - drift * arr[inl, 0]
    extra.update(
        shared_events=n_in,
        competing_events=second,
        event_t_s=[round(float(t), 4) for t in arr[inl, 0]],
    )
    if n_in == 1:
        conf = LOW_CONFIDENCE
        msg = "low confidence: placed on one shared sound only; check it by eye or ear"
    else:
        conf = float(np.clip(0.35 + 0.1 * n_in, 0, 0.9) * (1 - second / n_in))
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
