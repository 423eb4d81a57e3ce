"""Replications, sequentially or over local worker processes.

Replication ``r`` always draws from ``SeedSequence(seed, spawn_key=(r,))``
(see :mod:`sim.streams`), so results are identical whatever the number of
workers or the order in which replications finish.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed

from tqdm import tqdm

from .compiled import Compiled, compile_scenario
from .engine import Result, simulate
from .scenario import Scenario

_worker_model: Compiled | None = None


def _init_worker(scenario: Scenario) -> None:
    global _worker_model
    _worker_model = compile_scenario(scenario)


def _run_one(seed: int, replication: int) -> Result:
    assert _worker_model is not None
    return simulate(_worker_model, seed, replication)


def iter_replications(
    scenario: Scenario, seed: int, replications: list[int], workers: int = 1
) -> Iterator[Result]:
    """Yield results as they finish (in any order); each carries its replication index."""
    if workers <= 1 or len(replications) <= 1:
        compiled = compile_scenario(scenario)
        for r in replications:
            yield simulate(compiled, seed, r)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(scenario,)) as pool:
        futures = [pool.submit(_run_one, seed, r) for r in replications]
        for future in as_completed(futures):
            yield future.result()


def run_replications(
    scenario: Scenario,
    seed: int,
    replications: int,
    workers: int = 1,
    progress: bool | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Run replications ``0..replications-1``; results sorted by replication."""
    if progress is None:
        progress = sys.stderr.isatty()
    workers = max(1, min(workers, os.cpu_count() or 1, replications))
    results = []
    bar = tqdm(total=replications, desc=scenario.name, unit="rep", disable=not progress, file=sys.stderr)
    with bar:
        for result in iter_replications(scenario, seed, list(range(replications)), workers):
            if on_result is not None:
                on_result(result)
            results.append(result)
            bar.update()
    return sorted(results, key=lambda r: r.replication)
