"""The damage detector: which copies of one frame are damaged, judged by comparing the copies.

Each candidate is the luma plane of one copy's version of a frame, sampled at every fourth
pixel. The picture is cut into 16 px blocks; in each block the copies vote: copies that agree
(mean absolute difference under a threshold) support each other, and the largest agreeing group
wins. Transmission damage is independent between copies, so two damaged copies almost never
agree; where they could (black padding, green or grey decoder fill: one exact value; a frame
repeated from the copy's previous one: frozen), the fill or frozen copy loses its vote wherever
another live copy contradicts it. Where no two copies agree, the copy that changed least since
the last chosen frame wins the block (motion between frames is small, damage is not), and the
copy that lost more blocks loses all contested ones (damage is one-sided). This is a decision
between copies that disagree, never a preference for blur. A lone copy is judged on its own:
fill across rows, 2x2 check-pattern noise at full size, and a repeat while the video moves.

No image is kept: the result per candidate is a handful of numbers (:class:`CandidateScore`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np


@dataclass(frozen=True)
class DamageParams:
    """Thresholds of the detector (grey levels on the sampled luma plane)."""

    block_px: int = 4  # block side on the sampled plane (16 px at full size)
    agree_level: float = 4.0  # blocks whose mean |difference| is under this agree (at least)
    noise_factor: float = 3.0  # ... or under this x the copies' typical difference (lossy copies)
    fill_std: float = 0.3  # fill and padding are one exact value; a flat sky still varies more
    frozen_level: float = 1.0  # a frame no block of which moved this much is still ...
    moving_level: float = 4.0  # ... and frozen when some block of another copy differs this much
    checker_level: float = 100.0  # a lone copy's block with this much 2x2 check pattern is noise
    min_bad_blocks: int = 1  # a candidate with this many bad blocks is damaged ...
    lossy_typical: float = 0.25  # ... but copies this different in a typical block are lossy
    lossy_min_bad_blocks: int = 3  # encodes, where coding noise tears a block or two: this many
    # Lossy copies, opt-in (0 = off): in each block, copies also agree up to this x the
    # difference of the two closest copies there (coding noise grows with texture). At 3.0 it
    # cut false flags on held-out lossy copies tenfold but missed a few more damaged frames.
    lossy_block_factor: float = 0.0


@dataclass(frozen=True)
class CandidateScore:
    """The detector's verdict on one copy's version of one frame."""

    copy: int
    bad_blocks: int  # blocks judged damaged
    bad_fraction: float  # bad_blocks / all blocks
    flat_blocks: int  # decoder fill or padding where another copy shows picture
    frozen: bool  # identical to its previous frame where another copy moved
    noise_blocks: int  # lone-copy check: blocks with noise-like edge energy
    disagreement: float  # mean |difference| to the other copies, grey levels
    damaged: bool
    kind: str  # "", "frozen", "flat", "noise", "disagrees"


def reduce_luma(luma: np.ndarray) -> np.ndarray:
    """Every fourth pixel of every fourth row of the luma plane, float32, whole 16 px blocks.

    Sampling rather than averaging keeps what damage looks like: check-pattern noise averages
    away to nothing over 4x4 pixels but survives sampling at full strength. A block of the
    detector (4x4 samples) is then a 16x16 block of the full frame, a codec's macroblock.
    """
    h, w = luma.shape
    return luma[1 : h - h % 16 : 4, 1 : w - w % 16 : 4].astype(np.float32)


def _block_mean(img: np.ndarray, b: int) -> np.ndarray:
    h, w = img.shape
    if h % b or w % b:
        img = img[: h - h % b, : w - w % b]
    # an area resize by a whole factor is the exact block mean, and far faster than numpy's
    return cv2.resize(img, (img.shape[1] // b, img.shape[0] // b), interpolation=cv2.INTER_AREA)


def _block_std(img: np.ndarray, b: int) -> np.ndarray:
    m = _block_mean(img, b)
    m2 = _block_mean(cv2.multiply(img, img), b)
    return np.sqrt(np.maximum(m2 - m * m, 0.0))


def _absdiff_blocks(a: np.ndarray, b_img: np.ndarray, b: int) -> np.ndarray:
    return _block_mean(cv2.absdiff(a, b_img), b)


def _edge_energy(img: np.ndarray, b: int) -> np.ndarray:
    lap = np.abs(cv2.Laplacian(img, cv2.CV_32F, ksize=1))
    return _block_mean(lap, b)


def score_candidates(
    lumas: list[np.ndarray],
    prevs: list[np.ndarray | None],
    params: DamageParams | None = None,
    prev_out: np.ndarray | None = None,
    full_luma: np.ndarray | None = None,
    motion_before: float | None = None,
) -> list[CandidateScore]:
    """Judge each copy's version of one frame (sampled luma from :func:`reduce_luma`).

    ``prevs[i]`` is copy ``i``'s previous decoded frame (reduced) or None; ``prev_out`` the
    frame chosen just before (reduced), used where no two copies agree: the picture that
    changed least since then is trusted there (motion between frames is small, damage is not).
    ``full_luma`` is the full-size luma plane of a lone candidate (one copy only), for the
    check-pattern test that sampling cannot see; ``motion_before`` how much the picture last
    changed between chosen frames (largest block change), so that a frame every copy repeats
    while the video moves is found too. Returns one :class:`CandidateScore` per
    candidate, in order. Copies identical sample for sample are judged in a fraction of the
    time, with the same verdict (:func:`_identical`).
    """
    p = params or DamageParams()
    if len(lumas) > 1 and all(np.array_equal(lumas[0], x) for x in lumas[1:]):
        return _identical(lumas, prevs, p, motion_before)
    return _compare(lumas, prevs, p, prev_out, full_luma, motion_before)


def _identical(
    lumas: list[np.ndarray],
    prevs: list[np.ndarray | None],
    p: DamageParams,
    motion_before: float | None,
) -> list[CandidateScore]:
    """Copies that agree sample for sample support each other in every block, so none is
    damaged, unless every copy repeats its previous frame while the video was moving: what
    :func:`_compare` concludes too (a test holds them to it), without comparing any block."""
    still = all(
        q is not None and block_change(x, q, p.block_px) < p.frozen_level
        for x, q in zip(lumas, prevs, strict=True)
    )
    everywhere = still and motion_before is not None and motion_before > 2 * p.moving_level
    kind = "frozen" if everywhere else ""
    return [
        CandidateScore(i, 0, 0.0, 0, everywhere, 0, 0.0, everywhere, kind)
        for i in range(len(lumas))
    ]


def _compare(
    lumas: list[np.ndarray],
    prevs: list[np.ndarray | None],
    p: DamageParams,
    prev_out: np.ndarray | None,
    full_luma: np.ndarray | None,
    motion_before: float | None,
) -> list[CandidateScore]:
    """:func:`score_candidates` by comparing the copies block by block."""
    k = len(lumas)
    if k == 0:
        return []
    b = p.block_px
    stds = [_block_std(x, b) for x in lumas]
    means = [_block_mean(x, b) for x in lumas]
    if k == 1:
        lone = _lone(lumas[0], stds[0], p, full_luma)
        q = prevs[0]
        moving = motion_before is not None and motion_before > 2 * p.moving_level
        if moving and q is not None and block_change(lumas[0], q, b) < p.frozen_level:
            lone = replace(lone, frozen=True, damaged=True, kind="frozen")
        return [lone]
    diffs = {
        (i, j): _absdiff_blocks(lumas[i], lumas[j], b) for i in range(k) for j in range(i + 1, k)
    }
    still, frozen = _frozen(lumas, prevs, diffs, p)
    # every copy repeats its last frame while the video was moving: a repeat everywhere
    everywhere = all(still) and motion_before is not None and motion_before > 2 * p.moving_level
    typical = float(np.median(np.minimum.reduce(list(diffs.values()))))
    tau = max(p.agree_level, p.noise_factor * typical)
    # lossless copies agree exactly in a typical block (typical 0); lossy ones never do
    lossy = typical >= p.lossy_typical
    min_bad = p.lossy_min_bad_blocks if lossy else p.min_bad_blocks
    tau_b: float | np.ndarray = tau
    if lossy and p.lossy_block_factor > 0:  # opt-in, see DamageParams
        tau_b = np.maximum(tau, p.lossy_block_factor * np.minimum.reduce(list(diffs.values())))
    fill = np.stack([_fill_like(s, m, p) for s, m in zip(stds, means, strict=False)])
    live = np.array([not f or all(frozen) for f in frozen])  # frozen repeats show no picture
    picture = ~fill & live[:, None, None]
    textured_any = np.any(picture, axis=0)  # some live copy shows picture, not fill, here
    # A copy may vote in a block unless it shows decoder fill that another live copy contradicts,
    # or it is a frozen repeat while another copy is not.
    voter = ~(fill & _fill_suspect(lumas, fill, live, diffs, tau, prev_out, p))
    voter &= live[:, None, None]
    support = np.zeros((k, *stds[0].shape), np.int32)
    for (i, j), d in diffs.items():
        agree = (d < tau_b) & voter[i] & voter[j]
        support[i] += agree
        support[j] += agree
    best = support.max(axis=0)
    good = voter & (support == best[None]) & (best[None] > 0)
    undecided = best == 0
    if undecided.any():  # no two voting copies agree here: the least suspicious voter wins
        decided_bad = ((~good) & ~undecided[None]).sum(axis=(1, 2))
        pick = _pick(lumas, voter, fill, undecided, np.zeros(k, np.int64), b, prev_out)
        # Damage is one-sided: the copy that lost more blocks (contested or not) loses them all.
        lost = decided_bad + (
            (pick[None] != np.arange(k)[:, None, None]) & undecided[None] & voter
        ).sum(axis=(1, 2))
        pick = _pick(lumas, voter, fill, undecided, lost, b, prev_out)
        good |= pick[None] == np.arange(k)[:, None, None]
    n_blocks = int(best.size)
    out = []
    for i in range(k):
        bad = int((~good[i]).sum())
        n_flat = int((fill[i] & textured_any).sum())
        dis = float(np.mean([diffs[min(i, j), max(i, j)].mean() for j in range(k) if j != i]))
        is_frozen = bool(frozen[i] and not all(frozen)) or everywhere
        damaged = bad >= min_bad or is_frozen
        kind = _kind(is_frozen, n_flat, bad) if damaged or min_bad == p.min_bad_blocks else ""
        out.append(CandidateScore(i, bad, bad / n_blocks, n_flat, is_frozen, 0, dis, damaged, kind))
    return out


def _kind(frozen: bool, n_flat: int, bad: int) -> str:
    if frozen:
        return "frozen"
    if n_flat:
        return "flat"
    return "disagrees" if bad else ""


def block_change(a: np.ndarray, b_img: np.ndarray, block_px: int) -> float:
    """The largest mean |difference| of any block between two sampled luma planes."""
    return float(_absdiff_blocks(a, b_img, block_px).max())


def _fill_like(std: np.ndarray, mean: np.ndarray, p: DamageParams) -> np.ndarray:
    """Blocks of one exact value where decoders and recorders put fill: black, green (0) or grey."""
    return (std < p.fill_std) & ((mean < 20) | (np.abs(mean - 128) < 3))


def _fill_suspect(
    lumas: list[np.ndarray],
    fill: np.ndarray,
    live: np.ndarray,
    diffs: dict,
    tau: float,
    prev_out: np.ndarray | None,
    p: DamageParams,
) -> np.ndarray:
    """Fill blocks that another live copy contradicts: it shows something else there and changed
    less since the previous chosen frame (a natural flat area stays as it was; padding and fill
    come and go). Without a previous frame, any copy showing picture there contradicts."""
    k = len(lumas)
    b = p.block_px
    # Padding and decoder fill run across whole rows of blocks: a copy filled across (nearly) a
    # whole row where another live copy is not, is suspect along that row.
    row_fill = fill.mean(axis=2) >= 0.9
    out = np.zeros_like(fill)
    for i in range(k):
        others = [j for j in range(k) if j != i and live[j]]
        if others:
            contradicted = np.any(~row_fill[others], axis=0)
            out[i] = fill[i] & (row_fill[i] & contradicted)[:, None]
    if prev_out is None or prev_out.shape != lumas[0].shape:
        picture = ~fill & live[:, None, None]
        return out | np.broadcast_to(picture.any(axis=0), fill.shape)
    change = np.stack([_absdiff_blocks(x, prev_out, b) for x in lumas])
    for i in range(k):
        for j in range(k):
            if j == i or not live[j]:
                continue
            d = diffs[min(i, j), max(i, j)]
            out[i] |= (d >= tau) & (change[j] < change[i])
    return out


def _frozen(
    lumas: list[np.ndarray], prevs: list[np.ndarray | None], diffs: dict, p: DamageParams
) -> tuple[list[bool], list[bool]]:
    """Per copy: still (no block changed since its previous frame), and frozen (still where
    another copy differs)."""
    b = p.block_px
    still = [
        q is not None and float(_absdiff_blocks(x, q, b).max()) < p.frozen_level
        for x, q in zip(lumas, prevs, strict=False)
    ]
    out = []
    for i in range(len(lumas)):
        others = [diffs[min(i, j), max(i, j)] for j in range(len(lumas)) if j != i and not still[j]]
        out.append(bool(still[i] and any(float(d.max()) > p.moving_level for d in others)))
    return still, out


def _pick(
    lumas: list[np.ndarray],
    voter: np.ndarray,
    fill: np.ndarray,
    undecided: np.ndarray,
    decided_bad: np.ndarray,
    b: int,
    prev_out: np.ndarray | None,
) -> np.ndarray:
    """Per undecided block, the voting copy to trust: fewest bad blocks elsewhere, no fill, least
    change since the previous chosen frame (else least edge energy) (index; -1 where decided or
    no copy votes)."""
    if prev_out is not None and prev_out.shape == lumas[0].shape:
        edges = np.stack([_absdiff_blocks(x, prev_out, b) for x in lumas])
    else:
        edges = np.stack([_edge_energy(x, b) for x in lumas])
    cost = decided_bad[:, None, None] * 1e6 + fill * 1e5 + edges
    cost = np.where(voter, cost, np.inf)
    pick = np.argmin(cost, axis=0)
    pick[~undecided | ~np.isfinite(cost.min(axis=0))] = -1
    return pick


def _lone(
    luma: np.ndarray, std: np.ndarray, p: DamageParams, full_luma: np.ndarray | None
) -> CandidateScore:
    """A copy with no other copy to compare with: flat fill, black bottom rows, check-pattern noise."""
    b = p.block_px
    mean = _block_mean(luma, b)
    fill = _fill_like(std, mean, p)
    # Fill counts when it spans at least half a row of blocks (decoders fill to the end of a
    # slice; a few flat blocks are a flat wall or sky) and not the whole frame (a black frame).
    n_fill = int(fill.sum())
    if n_fill < max(4, fill.shape[1] // 2) or fill.mean() >= 0.95:
        n_fill = 0
    noise = 0 if full_luma is None else int((_checker_blocks(full_luma) > p.checker_level).sum())
    bad = n_fill + noise
    kind = "flat" if n_fill else ("noise" if noise else "")
    return CandidateScore(
        0, bad, bad / std.size, n_fill, False, noise, 0.0, bad >= p.min_bad_blocks, kind
    )


def _checker_blocks(luma: np.ndarray) -> np.ndarray:
    """Per 16 px block, the mean strength of the 2x2 check pattern (+ - / - +), the finest detail
    a picture can hold: camera images have little of it, corrupt residuals a lot."""
    h, w = luma.shape
    x = luma[: h - h % 16, : w - w % 16].astype(np.int16)
    c = np.abs(x[0::2, 0::2] - x[0::2, 1::2] - x[1::2, 0::2] + x[1::2, 1::2]).astype(np.float32)
    return _block_mean(c, 8)
