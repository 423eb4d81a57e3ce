"""Random numbers: one generator tree per replication, laid out for common random numbers.

Each replication's streams descend from ``SeedSequence(seed, spawn_key=(replication,))``,
so a replication's numbers do not depend on which worker runs it or in which
order. Within a replication a client owns a row of uniforms keyed by its
identity (initial client ``i`` or the ``n``-th arrival), with separate columns
per purpose, so the same client draws the same numbers for the same kind of
event in every scenario compared: that is what makes paired differences tight.
"""

from __future__ import annotations

import numpy as np

BLOCK = 512  # clients per generated block

# column layout of a client's row
ATTR0, N_ATTR = 0, 6  # attribute draws
INTAKE0, N_INTAKE = 6, 4  # loonwaarde / arrangement draws, one per intake
INITIAL_DURATION, WITHDRAW = 10, 11
WAIT0, N_WAIT = 12, 14  # exponential thresholds, one per sojourn
PICK0, N_PICK = 26, 14  # which transition fires, one per event
WIDTH = 40

INITIAL, ARRIVALS, INFLOW, OVERFLOW = 1, 2, 3, 4


class Streams:
    """All random numbers of one replication."""

    def __init__(self, seed: int, replication: int):
        self.seed = int(seed)
        self.replication = int(replication)
        self._blocks: dict[int, tuple[int, list[list[float]]]] = {}  # population -> current block

    def _sequence(self, *key: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(self.replication, *key))

    def client_row(self, population: int, number: int) -> list[float]:
        """The uniforms of client ``number`` of ``population`` (INITIAL or ARRIVALS)."""
        block, row = divmod(number, BLOCK)
        cached = self._blocks.get(population)
        if cached is None or cached[0] != block:  # clients are numbered in creation order
            gen = np.random.Generator(np.random.PCG64(self._sequence(population, block)))
            cached = self._blocks[population] = (block, gen.random((BLOCK, WIDTH)).tolist())
        return cached[1][row]

    def overflow(self, population: int, number: int, column: int) -> np.random.Generator:
        """A client that used up its row's columns (rare) continues on its own generator."""
        return np.random.Generator(np.random.PCG64(self._sequence(OVERFLOW, population, number, column)))

    def inflow(self) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(self._sequence(INFLOW)))
