"""Where a batch's runs execute: one small interface, a local process pool and Dask distributed.

Both implementations follow :mod:`concurrent.futures` (``submit`` returns a future with
``result()``, ``map`` yields results in input order) and add two things a batch needs:
``scatter(obj)`` ships a large object (the reference index) to every worker once and returns a
handle that ``submit`` arguments may contain, and ``as_completed(futures)``. Video files are read
by path on the workers, so a cluster needs a filesystem shared by all machines.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import BatchError

log = logging.getLogger(__name__)


class BatchExecutor(Protocol):
    """What :func:`mtbsync_core.batch.run_batch` needs from an executor."""

    workers: int

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Schedule ``fn(*args, **kwargs)``; return a future (``result()``, ``done()``)."""

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        """``fn`` over zipped ``iterables``, results in input order."""

    def scatter(self, obj: Any) -> Any:
        """Ship ``obj`` to every worker once; the handle stands for ``obj`` in ``submit`` args."""

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        """Yield ``futures`` as they finish."""

    def shutdown(self) -> None:
        """Stop the workers (and a cluster this executor started)."""


# --- local process pool ------------------------------------------------------------------------

_SCATTERED: dict[str, Any] = {}  # filled in each worker process by its initializer


@dataclass(frozen=True)
class Scattered:
    """Handle of an object shipped to the local pool's workers when they started."""

    key: str


def _init_worker(objs: dict[str, Any]) -> None:
    _SCATTERED.update(objs)


def _resolve(x: Any) -> Any:
    return _SCATTERED[x.key] if isinstance(x, Scattered) else x


def _call(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    return fn(*map(_resolve, args), **{k: _resolve(v) for k, v in kwargs.items()})


#: One thread a worker for the maths libraries, as Dask's workers have: no oversubscription when
#: the pool has a worker a core, and the same floating-point order in both executors.
_WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextlib.contextmanager
def _worker_env() -> Iterator[None]:
    """Set :data:`_WORKER_ENV` while worker processes (and the fork server) start."""
    old = {k: os.environ.get(k) for k in _WORKER_ENV}
    os.environ.update(_WORKER_ENV)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _plain_main() -> Iterator[None]:
    """Start worker processes from a bare ``__main__`` when Streamlit runs in this process.

    A spawned worker (and the fork server) first re-runs the parent's ``__main__`` from its file.
    Inside the app, or its AppTest, that is the app script: it would run in every worker (and in a
    fresh checkout fail there, taking the worker with it). The tasks are engine functions, found
    by module, so the workers need no ``__main__``. Elsewhere ``__main__`` is left as it is.
    """
    main = sys.modules.get("__main__")
    if "streamlit" not in sys.modules or main is None:
        yield
        return
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


#: Imported once by the fork server, so that each worker starts with the engine loaded.
_PRELOAD = ["mtbsync_core.pipeline", "mtbsync_core.batch.run"]


def _context() -> multiprocessing.context.BaseContext:
    # forkserver: workers fork from a clean server process, never from a threaded parent
    # (the app's server, PyAV's decode threads); spawn where there is no forkserver.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)  # takes effect when the fork server starts
        return ctx
    return multiprocessing.get_context("spawn")


def _start_fork_server() -> None:
    """Start the fork server now, without waiting for it: it imports the engine (``_PRELOAD``)
    while the caller goes on (a batch indexes its reference next), so the first workers fork from
    a ready server instead of waiting for that import. A no-op once the server runs, or where
    there is no fork server (spawn)."""
    with _worker_env(), _plain_main():
        ctx = _context()
        if ctx.get_start_method() != "forkserver":
            return
        from multiprocessing import forkserver

        try:
            forkserver.ensure_running()
        except OSError as err:  # the pool starts it again at its first task, and says why then
            log.info("fork server not started early: %s", err)


class LocalExecutor:
    """A process pool on this machine (``workers`` defaults to the core count).

    Scattered objects travel to each worker once, as the pool's initializer argument, when the
    workers start (at the first ``submit`` after a ``scatter``).
    """

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self.workers = workers or os.cpu_count() or 1
        self._objs: dict[str, Any] = {}
        self._pool: cf.ProcessPoolExecutor | None = None
        _start_fork_server()

    def scatter(self, obj: Any) -> Scattered:
        """Keep ``obj`` for the workers, which receive it when they start. After tasks have run
        (a second batch on the same executor), the idle workers are restarted to receive it."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        handle = Scattered(f"obj{len(self._objs)}")
        self._objs[handle.key] = obj
        return handle

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        """Run ``fn`` in a worker process."""
        with _worker_env(), _plain_main():
            if self._pool is None:
                self._pool = cf.ProcessPoolExecutor(
                    self.workers, _context(), initializer=_init_worker, initargs=(self._objs,)
                )
            return self._pool.submit(_call, fn, args, kwargs)

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        """Results of ``fn`` over zipped ``iterables`` in input order."""
        futures = [self.submit(fn, *a) for a in zip(*iterables, strict=False)]
        return (f.result() for f in futures)

    def as_completed(self, futures: Iterable[cf.Future]) -> Iterator[cf.Future]:
        """``concurrent.futures.as_completed``."""
        return cf.as_completed(list(futures))

    def shutdown(self) -> None:
        """Stop the worker processes (waits for running tasks, cancels queued ones)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


# --- Dask distributed --------------------------------------------------------------------------


class DaskExecutor:
    """Dask distributed: a scheduler at ``scheduler`` (``tcp://HOST:8786``) or a LocalCluster.

    Without ``scheduler`` a LocalCluster of ``workers`` single-threaded worker processes is
    started here and closed by :meth:`shutdown`. Needs ``pip install 'mtbsync-core[dask]'``.
    """

    def __init__(
        self, scheduler: str | None = None, workers: int | None = None, timeout_s: float = 20.0
    ) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as err:
            raise BatchError(
                "Dask is not installed, so --executor dask / --scheduler cannot run. "
                "Install it with: pip install 'mtbsync-core[dask]'"
            ) from err
        self._cluster = None
        if scheduler:
            try:
                self._client = Client(scheduler, timeout=f"{timeout_s}s")
            except OSError as err:
                raise BatchError(
                    f"Could not reach the Dask scheduler at '{scheduler}' ({err}). "
                    "Start it with `dask scheduler` and workers with `dask worker ADDRESS`."
                ) from err
        else:
            import dask

            n = workers or os.cpu_count() or 1
            # Worker processes as the local pool's: one maths thread each, glibc's own malloc
            # trimming (Dask's 64 KiB threshold returns every freed frame buffer to the OS), and
            # no statistical profiler sampling each task's stack 100 times a second.
            settings = {
                "distributed.worker.profile.enabled": False,
                # the event loop wakes less often: each wake-up takes the GIL from the run, which
                # on a loaded machine waits a scheduler slice to get it back
                "distributed.admin.tick.interval": "500ms",
                "distributed.admin.system-monitor.interval": "2s",
                "distributed.admin.system-monitor.gil.enabled": False,
                "distributed.nanny.pre-spawn-environ": dict(_WORKER_ENV),
            }
            with dask.config.set(settings), _plain_main():
                self._cluster = LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
                )
            self._client = Client(self._cluster)
        self._executor = self._client.get_executor(pure=False)
        self.workers = max(
            1, sum(w["nthreads"] for w in self._client.scheduler_info()["workers"].values())
        )

    @property
    def client(self):
        """The ``dask.distributed.Client``."""
        return self._client

    def scatter(self, obj: Any) -> Any:
        """``client.scatter(obj, broadcast=True)``: one copy on every worker."""
        return self._client.scatter(obj, broadcast=True, hash=False)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        """Run ``fn`` on a worker; scattered handles in the arguments become their objects there."""
        return self._executor.submit(fn, *args, **kwargs)

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        """Results of ``fn`` over zipped ``iterables`` in input order."""
        futures = [self.submit(fn, *a) for a in zip(*iterables, strict=False)]
        return (f.result() for f in futures)

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        """``concurrent.futures.as_completed`` (Dask's executor hands out standard futures)."""
        return cf.as_completed(list(futures))

    def shutdown(self) -> None:
        """Close the client, and the LocalCluster if this executor started one."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def make_executor(
    kind: str = "local", workers: int | None = None, scheduler: str | None = None
) -> LocalExecutor | DaskExecutor:
    """``"local"`` (process pool) or ``"dask"`` (``scheduler`` address, or a LocalCluster)."""
    if scheduler or kind == "dask":
        return DaskExecutor(scheduler, workers)
    if kind != "local":
        raise ValueError(f"executor must be local or dask, not {kind!r}")
    return LocalExecutor(workers)
