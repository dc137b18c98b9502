"""The executor contract, on both implementations: a local process pool and a real Dask
LocalCluster (started and closed here)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from mtbsync_core.batch import DaskExecutor, LocalExecutor, make_executor
from mtbsync_core.errors import BatchError


def _square(x: int) -> int:
    return x * x


def _add(a: int, b: int = 0) -> int:
    return a + b


def _pid(_: int) -> int:
    return os.getpid()


def _sum_of(arr: np.ndarray, scale: float) -> float:
    return float(arr.sum() * scale)


def _boom(x: int) -> int:
    raise ValueError(f"bad value {x}")


def _contract(ex) -> None:
    assert ex.workers == 2
    fut = ex.submit(_add, 2, b=40)
    assert fut.result(timeout=60) == 42
    assert list(ex.map(_square, range(6))) == [0, 1, 4, 9, 16, 25]  # input order
    assert list(ex.map(_add, [1, 2], [10, 20])) == [11, 22]
    futures = [ex.submit(_square, i) for i in range(5)]
    assert sorted(f.result() for f in ex.as_completed(futures)) == [0, 1, 4, 9, 16]
    bad = ex.submit(_boom, 7)
    with pytest.raises(ValueError, match="bad value 7"):
        bad.result(timeout=60)
    assert ex.submit(_square, 3).result(timeout=60) == 9  # a failed task leaves the executor usable


def test_local_executor_contract_and_scatter():
    arr = np.arange(1000, dtype=float)
    with LocalExecutor(2) as ex:
        handle = ex.scatter(arr)
        assert [f.result() for f in [ex.submit(_sum_of, handle, 2.0) for _ in range(3)]] == [
            999000.0
        ] * 3
        _contract(ex)
        pids = set(ex.map(_pid, range(8)))
        assert os.getpid() not in pids and 1 <= len(pids) <= 2  # separate worker processes
        second = ex.scatter(arr * 3)  # a second batch on the same executor: workers restart
        assert ex.submit(_sum_of, second, 1.0).result() == 1498500.0
        assert ex.submit(_sum_of, handle, 1.0).result() == 499500.0  # the first is still there


def test_dask_local_cluster_contract_and_scatter():
    arr = np.arange(1000, dtype=float)
    ex = DaskExecutor(workers=2)
    try:
        handle = ex.scatter(arr)
        assert [f.result() for f in [ex.submit(_sum_of, handle, 2.0) for _ in range(3)]] == [
            999000.0
        ] * 3
        _contract(ex)
        assert os.getpid() not in set(ex.map(_pid, range(4)))
        assert len(ex.client.scheduler_info()["workers"]) == 2
    finally:
        ex.shutdown()
    assert ex.client.status == "closed"


def test_make_executor_choices():
    ex = make_executor("local", 1)
    assert isinstance(ex, LocalExecutor) and ex.workers == 1
    ex.shutdown()
    with pytest.raises(ValueError, match="local or dask"):
        make_executor("spark")
    with pytest.raises(ValueError, match="at least 1"):
        LocalExecutor(0)


def test_unreachable_scheduler_is_one_line_error():
    with pytest.raises(BatchError, match="dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", timeout_s=2)


@pytest.mark.parametrize("kind", ["local", "dask"])
def test_workers_do_not_rerun_an_app_script_that_is_main(kind, tmp_path, monkeypatch):
    """Inside Streamlit (the app, or AppTest earlier in the same test run) ``__main__`` is the app
    script; a spawned worker re-runs it first. Here that script fails, as the app does in a fresh
    checkout: the workers must start without it."""
    import sys
    import types

    import streamlit  # noqa: F401 - the condition under which workers start from a bare main

    script = tmp_path / "app_script.py"
    script.write_text("raise SystemExit('the app script ran in a worker')\n")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake)
    ex = make_executor(kind, workers=1)
    try:
        assert ex.submit(_square, 7).result(timeout=120) == 49
    finally:
        ex.shutdown()
    assert sys.modules["__main__"] is fake  # given back


def test_a_local_executor_starts_its_fork_server_before_any_task():
    import multiprocessing
    from multiprocessing import forkserver

    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork server on this platform (spawn is used): nothing to start early")
    ex = LocalExecutor(1)
    try:
        pid = forkserver._forkserver._forkserver_pid  # set by ensure_running()
        assert pid is not None and os.waitpid(pid, os.WNOHANG) == (0, 0)  # alive, no task yet
        assert ex._pool is None
        assert ex.submit(_add, 1, b=2).result(timeout=60) == 3
        assert forkserver._forkserver._forkserver_pid == pid  # the pool forked from that server
    finally:
        ex.shutdown()


def test_run_batch_makes_its_executor_before_indexing(tmp_path, monkeypatch):
    """So that the pool's fork server loads the engine while the reference is indexed."""
    from mtbsync_core.batch import runner

    order: list[str] = []

    class Recording(LocalExecutor):
        def __init__(self, workers=None):
            order.append("executor")
            super().__init__(workers)

    real_index = runner._reference_index

    def recording_index(*a, **k):
        order.append("index")
        return real_index(*a, **k)

    monkeypatch.setattr(runner, "LocalExecutor", Recording)
    monkeypatch.setattr(runner, "_reference_index", recording_index)
    sample = os.path.join(os.path.dirname(__file__), "..", "..", "sample_data")
    res = runner.run_batch(
        os.path.join(sample, "ref.mp4"),
        [os.path.join(sample, "new.mp4")],
        [],
        tmp_path / "out",
    )
    assert order == ["executor", "index"]
    assert res.index_built and len(res.outcomes) == 1


def test_a_batch_run_samples_with_one_decoder_and_leaves_the_setting_as_it_was(
    monkeypatch, tmp_path
):
    """The batch keeps every core busy with one run each: stretch sampling inside a worker only
    makes the runs fight for the cores (measured: 22.4 s against 17.1 s for 8 runs on 2 cores)."""
    from mtbsync_core import pipeline
    from mtbsync_core.batch.run import RunSpec, sync_one
    from mtbsync_core.errors import NoReliableMatchError
    from mtbsync_core.video import parallel

    seen = []

    def record(*args, **kwargs):
        seen.append(parallel.ENABLED)
        raise NoReliableMatchError("no match here")

    monkeypatch.setattr(pipeline, "sync_runs", record)
    monkeypatch.setattr(parallel, "ENABLED", True)
    spec = RunSpec("run", str(tmp_path / "run.mp4"), str(tmp_path / "out"), "k")
    outcome = sync_one(str(tmp_path / "ref.mp4"), spec, None, None, ())
    assert seen == [False] and outcome.status == "no_match"
    assert parallel.ENABLED is True
