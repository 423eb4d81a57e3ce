"""Replications on an execution backend: in-process, local worker processes, or Dask.

Replication ``r`` always draws from ``SeedSequence(seed, spawn_key=(r,))``
(see :mod:`sim.streams`), so results are identical whatever the backend, the
number of workers or the order in which replications finish. ``kernel`` picks
the engine (:mod:`sim.engines.select`); workers run the one the caller chose.

Every backend streams results back as they finish and keeps only a bounded
window of replications in flight, so the caller can aggregate incrementally
and memory does not grow with the number of replications.

Worker processes end with their parent: a ``run`` killed with SIGKILL cannot
clean up, so each worker asks the kernel for a signal when its parent dies
(``PR_SET_PDEATHSIG`` on Linux) and also watches its parent pid.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sim.engines.select import FIRST_RUN_NOTE, simulate
from sim.util.progress import Progress

if TYPE_CHECKING:  # the CLI imports this module to build its parser: keep it light
    from sim.engines.result import Result
    from sim.model import Scenario

ENGINES = ("local", "dask")
WINDOW_PER_WORKER = 4  # replications in flight per worker: enough to hide latency, small for memory

def _run_task(key: str, scenario: Scenario, seed: int, replication: int, kernel: str = "auto") -> Result:
    """One replication on ``kernel``; with a parameter ensemble, with the replication's parameter draw
    (:mod:`sim.model.ensemble`, which also caches the compiled model per scenario and draw)."""
    from sim.model.ensemble import compiled_for

    return simulate(compiled_for(scenario, seed, replication, key), seed, replication, kernel=kernel)


PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_POLL_SECONDS = 1.0
CONNECT_TIMEOUT = "5s"  # a scheduler answers in well under a second; a wrong address must fail fast


def die_with_parent() -> None:
    """End this process when its parent ends, however the parent ends (SIGKILL included)."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watcher below still works
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def worker_init() -> None:
    """Initializer of every worker process this package starts."""
    # Ctrl-C reaches the whole process group; only the parent should react to it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()


class Backend:
    """Where replications run. Use as a context manager; :meth:`map` may be called many times."""

    workers: int = 1

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release workers (and a cluster this backend started)."""

    def map(self, scenario: Scenario, seed: int, replications: Iterable[int], kernel: str = "auto") -> Iterator[Result]:
        """Yield one :class:`Result` per replication index, in completion order, run on ``kernel``."""
        from sim.model import content_hash

        key = content_hash(scenario)
        for r in replications:
            yield _run_task(key, scenario, seed, r, kernel)


class LocalBackend(Backend):
    """``workers`` local processes (``workers == 1`` runs in this process)."""

    def __init__(self, workers: int = 1):
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def map(self, scenario: Scenario, seed: int, replications: Iterable[int], kernel: str = "auto") -> Iterator[Result]:
        from sim.model import content_hash

        replications = list(replications)
        if self.workers <= 1 or len(replications) <= 1:
            yield from super().map(scenario, seed, replications, kernel)
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=worker_init)
        key = content_hash(scenario)
        todo = iter(replications)
        pending: set = set()
        try:
            while True:
                while len(pending) < WINDOW_PER_WORKER * self.workers:
                    r = next(todo, None)
                    if r is None:
                        break
                    pending.add(self._pool.submit(_run_task, key, scenario, seed, r, kernel))
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()


class DaskBackend(Backend):
    """A Dask ``distributed`` cluster: an existing scheduler, or a ``LocalCluster`` started here."""

    def __init__(self, scheduler: str | None = None, workers: int = 1):
        from distributed import Client, LocalCluster

        self._cluster = None
        if scheduler:
            try:
                self._client = Client(scheduler, timeout=CONNECT_TIMEOUT)
            except OSError as exc:  # includes timeouts: a wrong address is a usage error, not a crash
                raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
            self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        else:
            self.workers = max(1, workers)
            self._cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self._client = Client(self._cluster)
            self._client.run(die_with_parent)  # our cluster: its workers must not outlive us

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def map(self, scenario: Scenario, seed: int, replications: Iterable[int], kernel: str = "auto") -> Iterator[Result]:
        from distributed import as_completed

        from sim.model import content_hash

        key = content_hash(scenario)
        [shared] = self._client.scatter([scenario], broadcast=True)
        todo = iter(replications)

        def submit(r: int):
            return self._client.submit(_run_task, key, shared, seed, r, kernel, pure=False)

        first = [submit(r) for r in _take(todo, WINDOW_PER_WORKER * self.workers)]
        if not first:
            return
        stream = as_completed(first)
        try:
            for future in stream:
                result = future.result()
                future.release()  # let the cluster forget it: memory stays bounded
                nxt = next(todo, None)
                if nxt is not None:
                    stream.add(submit(nxt))
                yield result
        finally:
            self._client.cancel(list(stream.futures))


def _take(items: Iterator[int], n: int) -> list[int]:
    out = []
    for item in items:
        out.append(item)
        if len(out) == n:
            break
    return out


def make_backend(engine: str = "local", workers: int = 1, scheduler: str | None = None) -> Backend:
    """The backend named ``engine`` ("local" or "dask")."""
    if engine == "local":
        if scheduler:
            raise ValueError("--scheduler needs --engine dask")
        return LocalBackend(min(workers, os.cpu_count() or 1))
    if engine == "dask":
        return DaskBackend(scheduler, workers)
    raise ValueError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")


@contextmanager
def _backend(engine: str, workers: int, scheduler: str | None, backend: Backend | None) -> Iterator[Backend]:
    if backend is not None:
        yield backend
        return
    with make_backend(engine, workers, scheduler) as made:
        yield made


def iter_replications(
    scenario: Scenario,
    seed: int,
    replications: list[int],
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    backend: Backend | None = None,
    kernel: str = "auto",
) -> Iterator[Result]:
    """Yield results as they finish (in any order); each carries its replication index.

    Args:
        scenario: The scenario to simulate.
        seed: Root seed; replication ``r`` uses ``SeedSequence(seed, spawn_key=(r,))``.
        replications: Replication indices to run.
        workers: Worker processes (local) or LocalCluster workers (dask).
        engine: ``"local"`` or ``"dask"``.
        scheduler: Address of a running Dask scheduler (``tcp://host:port``).
        backend: An open backend to reuse (overrides ``engine``/``workers``/``scheduler``).
        kernel: ``"auto"``, ``"simpy"`` or ``"compiled"`` (:mod:`sim.engines.select`).
    """
    with _backend(engine, workers, scheduler, backend) as chosen:
        yield from chosen.map(scenario, seed, replications, kernel)


def run_replications(
    scenario: Scenario,
    seed: int,
    replications: int,
    workers: int = 1,
    progress: bool | Progress | None = None,
    on_result: Callable[[Result], None] | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    kernel: str = "auto",
) -> list[Result]:
    """Run replications ``0..replications-1``; results sorted by replication.

    This keeps every result in memory; for many replications stream them with
    :func:`iter_replications` (as :func:`sim.run.run_to_folder` does).
    """
    workers = max(1, min(workers, replications))
    results = []
    # progress: an open Progress shared by several calls (a compare counts all its scenarios), or
    # True/False/None (None: a bar only on a terminal, silent otherwise, as library calls should be)
    shared = isinstance(progress, Progress)
    bar = progress if shared else Progress(replications, scenario.name, quiet=progress is False, lines=progress is True)
    if kernel != "simpy":
        bar.note_if_slow(FIRST_RUN_NOTE)  # once per Progress, also when shared
    try:
        for result in iter_replications(scenario, seed, list(range(replications)), workers, engine, scheduler,
                                        kernel=kernel):  # fmt: skip
            if on_result is not None:
                on_result(result)
            results.append(result)
            bar.update()
    finally:
        if not shared:
            bar.close()
    return sorted(results, key=lambda r: r.replication)
