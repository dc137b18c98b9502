"""ReferenceIndex: build, save/load round trip, refusals of garbage, stale and existing files."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from mtbsync_core.errors import IndexFileError, IndexMismatchError, OutputExistsError
from mtbsync_core.index import (
    INDEX_FORMAT,
    INDEX_VERSION,
    build_index,
    check_index,
    load_index,
    save_index,
)
from mtbsync_core.sampling import SampleParams


@pytest.fixture(scope="module")
def index(runs):
    return build_index(runs.ref)


def test_build_index_samples_the_reference(index, runs):
    kf = index.keyframes
    assert index.params == SampleParams()
    assert np.all(np.diff(kf.t_s) > 0)
    assert kf.t_s[0] == pytest.approx(0.0, abs=0.05) and kf.t_s[-1] > 13.5
    assert np.all(np.diff(kf.t_s) >= 1 / SampleParams().max_rate_hz - 2e-4)  # at most 15 a second
    assert kf.desc.dtype == np.float32 and kf.desc.shape[0] == len(kf.t_s)
    assert kf.thumbs.dtype == np.uint8 and kf.thumbs.shape[0] == len(kf.t_s)
    assert kf.rows is not None and kf.rows.dtype == np.float32 and kf.rows.shape[0] == len(kf.t_s)
    assert len(index.orbs) >= 14 * SampleParams().orb_rate_hz - 1
    assert all(
        len(o.desc) > 50 for o in index.orbs.values()
    )  # real photographs: plenty of keypoints
    assert index.info.path == str(runs.ref) and index.source_hash.startswith("q1:")


def test_save_load_round_trip_gives_equal_arrays(index, tmp_path):
    p = save_index(index, tmp_path / "ref.npz")
    back = load_index(p)
    for name in ("t_s", "desc", "thumbs", "rows"):
        a, b = getattr(index.keyframes, name), getattr(back.keyframes, name)
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert sorted(back.orbs) == sorted(index.orbs)
    for k in index.orbs:
        np.testing.assert_array_equal(back.orbs[k].xy, index.orbs[k].xy)
        np.testing.assert_array_equal(back.orbs[k].desc, index.orbs[k].desc)
    assert back.info == index.info
    assert back.source_hash == index.source_hash and back.params == index.params


def test_saving_over_an_existing_index_is_refused_without_force(index, tmp_path):
    p = tmp_path / "ref.npz"
    p.write_bytes(b"an older index")
    with pytest.raises(OutputExistsError, match="ref.npz"):
        save_index(index, p)
    assert p.read_bytes() == b"an older index"
    save_index(index, p, force=True)
    assert load_index(p).source_hash == index.source_hash


def test_garbage_file_is_an_index_file_error(tmp_path):
    p = tmp_path / "garbage.npz"
    p.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(IndexFileError, match=r"garbage\.npz.*Rebuild"):
        load_index(p)
    q = tmp_path / "text.npz"
    q.write_text("hello", encoding="utf-8")
    with pytest.raises(IndexFileError, match=r"text\.npz"):
        load_index(q)
    with pytest.raises(IndexFileError, match="does not exist"):
        load_index(tmp_path / "missing.npz")


def test_truncated_or_corrupt_index_is_an_index_file_error(index, tmp_path):
    good = save_index(index, tmp_path / "good.npz").read_bytes()
    cases = {
        "half.npz": good[: len(good) // 2],  # a copy cut short (full disk, interrupted transfer)
        "tail.npz": good[:-10],
        "flipped.npz": good[: len(good) // 3]
        + bytes(b ^ 0x55 for b in good[len(good) // 3 : len(good) // 3 + 2000])
        + good[len(good) // 3 + 2000 :],
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(IndexFileError, match=name.replace(".", r"\.")):
            load_index(p)


def test_npz_of_another_format_or_version_is_refused(tmp_path):
    for meta, match in (
        ({"format": "other", "version": 1}, "'other'"),
        ({"format": INDEX_FORMAT, "version": 99}, "version 99"),
    ):
        buf = io.BytesIO()
        np.savez(buf, meta=np.array(json.dumps(meta)), t_s=np.zeros(3))
        p = tmp_path / "foreign.npz"
        p.write_bytes(buf.getvalue())
        with pytest.raises(IndexFileError, match=match):
            load_index(p)


def test_npz_with_the_right_header_but_missing_arrays_is_refused(tmp_path):
    buf = io.BytesIO()
    np.savez(
        buf,
        meta=np.array(json.dumps({"format": INDEX_FORMAT, "version": INDEX_VERSION})),
        t_s=np.zeros(3),
    )
    p = tmp_path / "partial.npz"
    p.write_bytes(buf.getvalue())
    with pytest.raises(IndexFileError, match=r"partial\.npz.*Rebuild"):
        load_index(p)


def test_check_index_accepts_its_own_file(index, runs):
    check_index(index, runs.ref, SampleParams())
    check_index(index, runs.ref)


def test_check_index_against_another_file_is_a_mismatch(index, runs):
    with pytest.raises(IndexMismatchError) as info:
        check_index(index, runs.other, index_path="ref.npz")
    err = info.value
    assert err.exit_code == 5
    assert "Rebuild" in str(err) and "ref.npz" in str(err) and str(runs.other) in str(err)


def test_check_index_with_other_sampling_is_a_mismatch(index, runs):
    with pytest.raises(IndexMismatchError, match="Rebuild"):
        check_index(index, runs.ref, SampleParams(max_rate_hz=5.0))


def test_check_index_notices_a_changed_file(index, runs, tmp_path):
    copy = tmp_path / "ref.mp4"
    data = bytearray(runs.ref.read_bytes())
    copy.write_bytes(bytes(data))
    check_index(index, copy)  # same content, other path: fine
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(IndexMismatchError):
        check_index(index, copy)
