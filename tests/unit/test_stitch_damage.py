"""The damage detector and metadata reading of ``mtbsync_core.stitch`` on real decoded frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mtbsync_core.errors import StitchError
from mtbsync_core.stitch import parse_column_map, read_frame_metadata, score_candidates
from mtbsync_core.stitch.damage import DamageParams, reduce_luma
from mtbsync_core.stitch.metadata import trim_to_frames
from mtbsync_core.testing.damage import KINDS, damage_frame, read_yuv_frames
from mtbsync_core.video.chapters import chapter_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    out, _fps = read_yuv_frames(ROOT / "sample_data" / "ref.mp4", max_frames=12)
    return out


def _half(f: np.ndarray) -> np.ndarray:
    return reduce_luma(f[: f.shape[0] * 2 // 3])


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "drop"])
def test_damaged_copy_is_flagged_and_clean_copies_are_not(frames, kind):
    rng = np.random.default_rng(3)
    prev, cur = frames[9], frames[10]
    bad = damage_frame(cur, prev, kind, rng)
    assert bad is not None
    lumas = [_half(cur), _half(bad), _half(cur)]
    prevs = [_half(prev)] * 3
    scores = score_candidates(lumas, prevs, prev_out=_half(prev))
    assert [s.damaged for s in scores] == [False, True, False]
    assert scores[1].bad_blocks > 0 and scores[0].bad_blocks == 0


@pytest.mark.parametrize("kind", ["noise", "fill", "padding", "rows"])
def test_two_copies_that_disagree_are_decided_by_the_previous_frame(frames, kind):
    rng = np.random.default_rng(5)
    prev, cur = frames[9], frames[10]
    bad = damage_frame(cur, prev, kind, rng)
    scores = score_candidates([_half(bad), _half(cur)], [_half(prev)] * 2, prev_out=_half(prev))
    assert scores[0].damaged and not scores[1].damaged


def test_two_frozen_copies_lose_to_a_moving_one_only_when_a_minority(frames):
    prev, cur = _half(frames[9]), _half(frames[10])
    one_frozen = score_candidates([prev, cur, cur], [prev, prev, prev])
    assert [s.frozen for s in one_frozen] == [True, False, False]
    assert one_frozen[0].damaged and not one_frozen[1].damaged


def test_lone_copy_with_decoder_fill_is_flagged(frames):
    rng = np.random.default_rng(1)
    bad = damage_frame(frames[4], frames[3], "padding", rng)
    assert score_candidates([_half(bad)], [None])[0].damaged
    assert not score_candidates([_half(frames[4])], [None])[0].damaged


def test_mio_metadata_groups_buffers_per_frame(tmp_path):
    csv = tmp_path / "meta.csv"
    rows = ["frame_num,buffer_count,black_padding_px,reconstructed_frame_index"]
    for idx, fn in enumerate([100, 101, 103]):
        for b in range(3 if fn != 101 else 2):
            rows.append(f"{fn},{b},{40 if fn == 101 else 0},{idx}")
    csv.write_text("\n".join(rows) + "\n")
    meta = read_frame_metadata(csv)
    assert meta.frame_num.tolist() == [100, 101, 103]
    assert meta.buffers.tolist() == [3, 2, 3]
    assert meta.padding_px.tolist() == [0, 40, 0]
    assert len(trim_to_frames(meta, 2, "v.avi")) == 2  # one extra trailing frame: dropped
    with pytest.raises(StitchError, match="describes 3 frames but video 'v.avi' has 5"):
        trim_to_frames(meta, 5, "v.avi")


def test_metadata_column_mapping(tmp_path):
    csv = tmp_path / "meta.csv"
    csv.write_text("frame_id,pad\n7,0\n8,12\n")
    meta = read_frame_metadata(csv, parse_column_map("frame_num=frame_id,padding=pad"))
    assert meta.frame_num.tolist() == [7, 8] and meta.padding_px.tolist() == [0, 12]
    with pytest.raises(StitchError, match="no 'frame_num' column"):
        read_frame_metadata(csv)
    with pytest.raises(ValueError, match="KEY=COLUMN"):
        parse_column_map("nonsense")


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("GX010042.MP4", ("GX-0042", 1)),
        ("GX020042.MP4", ("GX-0042", 2)),
        ("GH030117.MP4", ("GH-0117", 3)),
        ("GOPR0042.MP4", ("GOPR-0042", 0)),
        ("GP010042.MP4", ("GOPR-0042", 1)),
        ("ride.mp4", None),
        ("GX01004.MP4", None),
    ],
)
def test_chapter_names(name, key):
    assert chapter_key(name) == key


def test_a_frame_every_copy_repeats_is_found_only_while_the_video_moves(frames):
    prev, cur = _half(frames[9]), _half(frames[10])
    moving = score_candidates([prev, prev, prev], [prev] * 3, motion_before=30.0)
    assert all(s.damaged and s.kind == "frozen" for s in moving)
    unknown = score_candidates([prev, prev, prev], [prev] * 3)
    assert not any(s.damaged for s in unknown)
    lone = score_candidates([prev], [prev], motion_before=30.0)
    assert lone[0].damaged and lone[0].kind == "frozen"
    assert not score_candidates([cur], [prev], motion_before=30.0)[0].damaged


@pytest.mark.parametrize(
    "case", ["moving", "repeat_while_moving", "repeat_while_still", "no_previous", "fill"]
)
def test_identical_copies_get_the_full_comparisons_verdict(frames, case):
    from mtbsync_core.stitch.damage import DamageParams, _compare, block_change

    p = DamageParams()
    prev, cur = _half(frames[9]), _half(frames[10])
    if case == "fill":  # decoder fill present in every copy alike
        cur = cur.copy()
        cur[:8] = 0.0
    if case.startswith("repeat"):
        cur = prev.copy()
    prevs = [None] * 3 if case == "no_previous" else [prev, prev.copy(), prev.copy()]
    motion = 0.0 if case == "repeat_while_still" else block_change(prev, _half(frames[8]), 4) + 9
    lumas = [cur, cur.copy(), cur.copy()]
    fast = score_candidates(lumas, prevs, p, prev_out=prev, motion_before=motion)
    full = _compare(lumas, prevs, p, prev, None, motion)
    assert fast == full
    assert [s.frozen for s in fast] == [case == "repeat_while_moving"] * 3
    # one sample off in one copy: the full comparison runs, and still finds no damage there
    lumas[2] = cur.copy()
    lumas[2][0, 0] += 1.0
    assert not score_candidates(lumas, prevs, p, prev_out=prev)[2].damaged


def test_lossy_copies_need_more_than_a_torn_block_or_two_to_count_as_damaged(frames):
    """Each lossy copy has its own coding noise; a block or two may differ by more than the
    agreement level without any damage. Real damage tears far more blocks, and is still found."""
    rng = np.random.default_rng(7)
    prev, cur = _half(frames[9]), _half(frames[10])

    def lossy(x):
        return np.clip(x + rng.normal(0.0, 1.5, x.shape), 0, 255).astype(np.float32)

    lumas = [lossy(cur) for _ in range(3)]
    lumas[1][8:12, 8:12] += 12.0  # one 16 px block off by 12 grey levels: coding noise
    prevs = [lossy(prev) for _ in range(3)]
    scores = score_candidates(lumas, prevs, prev_out=prev)
    assert scores[1].bad_blocks == 1 and not scores[1].damaged and scores[1].kind == ""
    strict = score_candidates(
        [x.copy() for x in lumas], prevs, prev_out=prev, params=DamageParams(lossy_min_bad_blocks=1)
    )
    assert strict[1].damaged  # the block was seen; only the lossy rule forgives it
    torn = damage_frame(frames[10], frames[9], "rows", np.random.default_rng(2))
    lumas[1] = lossy(_half(torn))
    scores = score_candidates(lumas, prevs, prev_out=prev)
    assert [s.damaged for s in scores] == [False, True, False]


def test_opt_in_block_relative_agreement_forgives_coding_noise_in_texture(frames):
    rng = np.random.default_rng(11)
    prev, cur = _half(frames[9]), _half(frames[10])
    lumas = [
        np.clip(cur + rng.normal(0.0, 1.5, cur.shape), 0, 255).astype(np.float32) for _ in "abc"
    ]
    for x in lumas:  # four textured blocks where every copy's coding noise is strong
        x[16:20, 0:16] += rng.normal(0.0, 10.0, (4, 16)).astype(np.float32)
    prevs = [prev] * 3
    relative = DamageParams(lossy_block_factor=3.0)
    assert any(s.damaged for s in score_candidates(lumas, prevs, prev_out=prev))
    assert not any(s.damaged for s in score_candidates(lumas, prevs, relative, prev_out=prev))
    torn = damage_frame(frames[10], frames[9], "rows", np.random.default_rng(2))
    lumas[2] = _half(torn) + rng.normal(0.0, 1.5, cur.shape).astype(np.float32)
    assert [s.damaged for s in score_candidates(lumas, prevs, relative, prev_out=prev)] == [
        False,
        False,
        True,
    ]
