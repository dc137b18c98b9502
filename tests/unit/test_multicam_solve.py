"""Joint solve of pairwise clock estimates: composition of drifts, cycle consistency."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mtbsync_core.multicam.solve import PairEstimate, solve_joint


def _pair(i, j, truth, status="ok", bias_s=0.0):
    """Exact pair estimate t_i = o_ij + r_ij t_j from true (offset, rate) of cameras on master."""
    (oi, ri), (oj, rj) = truth[i], truth[j]
    # master = oi + ri t_i = oj + rj t_j  ->  t_i = (oj - oi)/ri + (rj/ri) t_j
    return PairEstimate(i, j, (oj - oi) / ri + bias_s, (rj / ri - 1) * 1e6, 0.9, status, "audio")


TRUTH = [(0.0, 1.0), (12.5, 1 + 450e-6), (-3.25, 1 - 380e-6), (40.0, 1 + 120e-6)]


def test_solve_recovers_offsets_and_drifts_exactly():
    pairs = [_pair(i, j, TRUTH) for i in range(4) for j in range(i + 1, 4)]
    sol = solve_joint(4, pairs, master=0)
    for k, (o, r) in enumerate(TRUTH):
        assert abs(sol.offset_s[k] - o) < 1e-9
        assert abs(sol.drift_ppm[k] - (r - 1) * 1e6) < 1e-6
    assert sol.dropped == ()


def test_chain_without_direct_pair_composes_drift_and_offset():
    # 0-1 and 1-2 only: camera 2 reached through 1; drift*offset cross terms matter (mm-level)
    sol = solve_joint(3, [_pair(0, 1, TRUTH), _pair(1, 2, TRUTH)], master=0)
    assert abs(sol.offset_s[2] - TRUTH[2][0]) < 1e-9
    assert abs(sol.drift_ppm[2] + 380.0) < 1e-6


def test_inconsistent_pair_is_dropped_by_cycle_check():
    pairs = [_pair(i, j, TRUTH) for i in range(4) for j in range(i + 1, 4)]
    pairs[1] = _pair(0, 2, TRUTH, bias_s=0.25)  # a wrong estimate in the 0-1-2 cycle
    sol = solve_joint(4, pairs, master=0)
    assert (0, 2) in sol.dropped
    assert abs(sol.offset_s[2] - TRUTH[2][0]) < 1e-9


def test_unreached_camera_is_nan_and_ambiguous_pairs_are_ignored():
    pairs = [_pair(0, 1, TRUTH), _pair(0, 2, TRUTH, status="ambiguous")]
    sol = solve_joint(3, pairs, master=0)
    assert np.isnan(sol.offset_s[2]) and np.isnan(sol.drift_ppm[2])
    assert abs(sol.offset_s[1] - 12.5) < 1e-9


def test_master_other_than_first():
    pairs = [_pair(i, j, TRUTH) for i in range(3) for j in range(i + 1, 3)]
    sol = solve_joint(3, pairs, master=1)
    o1, r1 = TRUTH[1]
    for k in range(3):
        o, r = TRUTH[k]
        assert abs(sol.offset_s[k] - (o - o1) / r1) < 1e-9
        assert abs(sol.drift_ppm[k] - (r / r1 - 1) * 1e6) < 1e-6


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-300, 300), st.floats(-900, 900)), min_size=2, max_size=6),
    st.integers(0, 5),
    st.booleans(),
)
def test_solve_recovers_any_consistent_clocks(clocks, master, chain_only):
    """Any offsets and drifts, all pairs or just a chain: the joint solve is exact."""
    truth = [(o, 1 + d * 1e-6) for o, d in clocks]
    n = len(truth)
    master %= n
    if chain_only:
        pairs = [_pair(k, k + 1, truth) for k in range(n - 1)]
    else:
        pairs = [_pair(i, j, truth) for i in range(n) for j in range(i + 1, n)]
    sol = solve_joint(n, pairs, master=master)
    om, rm = truth[master]
    for k, (o, r) in enumerate(truth):
        assert abs(sol.offset_s[k] - (o - om) / rm) < 1e-6
        assert abs(sol.drift_ppm[k] - (r / rm - 1) * 1e6) < 1e-5
